import { cn } from "../../lib";

/** Use against a quota: a bar filled to the share used (red from 90 %), or the bare figure
 * when there is no quota. `format` renders both numbers (bytes, counts). */
export function UsageBar({
  label,
  used,
  limit,
  format = (value) => value.toLocaleString(),
}: {
  label: string;
  used: number;
  limit: number | null | undefined;
  format?: (value: number) => string;
}) {
  if (limit === null || limit === undefined) {
    return (
      <span className="text-sm">
        {format(used)} <span className="text-xs text-muted-fg">(no quota)</span>
      </span>
    );
  }
  const share = limit === 0 ? (used > 0 ? 1 : 0) : Math.min(used / limit, 1);
  const percent = Math.round(share * 100);
  return (
    <div className="flex min-w-32 flex-col gap-1">
      <div
        role="meter"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={limit}
        aria-valuenow={Math.min(used, limit)}
        aria-valuetext={`${format(used)} of ${format(limit)}`}
        className="h-2 w-full overflow-hidden rounded-full bg-muted"
      >
        <div
          className={cn("h-full rounded-full", share >= 0.9 ? "bg-danger" : "bg-primary")}
          style={{ width: `${percent}%` }}
        />
      </div>
      <span className="text-xs text-muted-fg">
        {format(used)} / {format(limit)} ({percent} %)
      </span>
    </div>
  );
}
