// Time series on uPlot (about 20 KiB gzip, loaded only with the pages that chart): one line
// per series, sized to its container, coloured from the theme's CSS variables.
import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  label: string;
  values: (number | null)[];
}

// Distinct in light and dark mode.
const PALETTE = ["#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#06b6d4", "#ec4899"];

function themeColour(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** `times` in unix seconds; every series has one value per time (null: no value). */
export function TimeChart({
  title,
  times,
  series,
  unit,
  height = 220,
}: {
  title: string;
  times: number[];
  series: Series[];
  unit: string;
  height?: number;
}) {
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const axisColour = themeColour("--muted-fg", "#888");
    const gridColour = themeColour("--border", "#ddd");
    const axis = {
      stroke: axisColour,
      grid: { stroke: gridColour, width: 1 },
      ticks: { stroke: gridColour, width: 1 },
    };
    const chart = new uPlot(
      {
        width: Math.max(element.clientWidth, 200),
        height,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        scales: { y: { range: (_, min, max) => [Math.min(0, min), Math.max(max, 1)] } },
        axes: [axis, { ...axis, label: unit, size: 60 }],
        series: [
          {},
          ...series.map((line, index) => ({
            label: line.label,
            stroke: PALETTE[index % PALETTE.length],
            width: 2,
            points: { show: times.length < 3 },
          })),
        ],
      },
      [times, ...series.map((line) => line.values)],
      element,
    );
    const resize = new ResizeObserver(() =>
      chart.setSize({ width: Math.max(element.clientWidth, 200), height }),
    );
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
    };
  }, [times, series, unit, height]);
  return (
    <figure className="min-w-0">
      <figcaption className="mb-2 text-sm font-medium">{title}</figcaption>
      <div ref={container} role="img" aria-label={title} className="uplot-host w-full" />
    </figure>
  );
}
