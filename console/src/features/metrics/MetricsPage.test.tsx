import { screen, within } from "@testing-library/react";
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { setSession } from "../../api/session";
import type { TrafficSample } from "../../api/types";
import { renderRoutes } from "../../test/render";
import MetricsPage from "./MetricsPage";
import { latencies, rates } from "./series";

// uPlot draws on a canvas, which jsdom does not have: the chart is a labelled stand-in here
// (the end-to-end test draws the real ones in Chromium).
vi.mock("../../components/charts/TimeChart", () => ({
  TimeChart: ({ title, series }: { title: string; series: { label: string }[] }) => (
    <div role="img" aria-label={title}>
      {series.map((line) => line.label).join(",")}
    </div>
  ),
}));

function sample(at: number, put: number, get: number, shards: [number, number]): TrafficSample {
  return {
    at_unix_ms: at * 1000,
    shard_count: 2,
    operations: [
      {
        operation: "GetObject",
        requests: get,
        client_errors: 1,
        server_errors: 0,
        p50_ms: 1,
        p99_ms: 4,
      },
      {
        operation: "PutObject",
        requests: put,
        client_errors: 0,
        server_errors: 0,
        p50_ms: 2,
        p99_ms: 9,
      },
    ],
    shards: shards.map((requests, shard) => ({
      shard,
      requests,
      in_flight: 0,
      connections_open: 1,
      received_bytes: 10,
      sent_bytes: 20,
    })),
  };
}

const SAMPLES = [
  sample(100, 10, 0, [5, 5]),
  sample(105, 20, 50, [30, 40]),
  sample(110, 5, 60, [1, 2]),
];

describe("traffic series", () => {
  it("turns counters into rates and skips a restart", () => {
    const result = rates(SAMPLES);
    expect(result.times).toEqual([105, 110]);
    expect(result.byOperation).toEqual([
      { label: "GetObject", values: [10, 2] },
      { label: "PutObject", values: [2, null] },
    ]);
    expect(result.byShard).toEqual([
      { label: "shard 0", values: [5, null] },
      { label: "shard 1", values: [7, null] },
    ]);
    expect(latencies(SAMPLES, 1)).toEqual([{ label: "GetObject", values: [4, 4] }]);
  });
});

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: "error" }));
afterAll(() => server.close());
afterEach(() => server.resetHandlers());
beforeEach(() => {
  setSession({ token: "tok", expiresAt: null, user: null });
  server.use(
    http.get("*/api/v1/metrics", () =>
      HttpResponse.json({ interval_seconds: 5, max_samples: 120, samples: SAMPLES }),
    ),
  );
});

describe("metrics page", () => {
  it("charts per operation and per shard and lists the newest figures", async () => {
    renderRoutes([{ path: "/metrics", element: <MetricsPage /> }], "/metrics");
    const shards = await screen.findByRole("img", { name: "Requests per second by shard" });
    expect(shards).toHaveTextContent("shard 0,shard 1");
    expect(screen.getByRole("img", { name: "Requests per second by operation" })).toHaveTextContent(
      "GetObject,PutObject",
    );
    const table = screen.getByRole("table", { name: "Operations" });
    expect(within(table).getByText("9.00 ms")).toBeInTheDocument();
    expect(screen.getByText("Shards (2 of 2 answering)")).toBeInTheDocument();
  });
});
