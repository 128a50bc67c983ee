// Samples of counters since start -> rates between consecutive samples, per operation and per
// shard. A counter that went down means the data plane restarted: that step has no rate.
import type { Series } from "../../components/charts/TimeChart";
import type { TrafficSample } from "../../api/types";

export interface Rates {
  /** Unix seconds: the end of each step. */
  times: number[];
  byOperation: Series[];
  byShard: Series[];
}

function rateSeries(
  samples: TrafficSample[],
  keys: string[],
  countOf: (sample: TrafficSample, key: string) => number | undefined,
): Series[] {
  return keys.map((key) => ({
    label: key,
    values: samples.slice(1).map((sample, index) => {
      const before = samples[index]!;
      const seconds = (sample.at_unix_ms - before.at_unix_ms) / 1000;
      const now = countOf(sample, key) ?? 0;
      const then = countOf(before, key) ?? 0;
      if (seconds <= 0 || now < then) return null;
      return Math.round(((now - then) / seconds) * 100) / 100;
    }),
  }));
}

/** The `limit` operations with most requests in the newest sample. */
export function busiestOperations(samples: TrafficSample[], limit: number): string[] {
  const newest = samples.at(-1);
  if (!newest) return [];
  return [...newest.operations]
    .sort((a, b) => b.requests - a.requests || a.operation.localeCompare(b.operation))
    .slice(0, limit)
    .map((figures) => figures.operation);
}

export function rates(samples: TrafficSample[], operationLimit = 6): Rates {
  const operations = busiestOperations(samples, operationLimit);
  const shards = [...new Set(samples.flatMap((s) => s.shards.map((shard) => shard.shard)))].sort(
    (a, b) => a - b,
  );
  return {
    times: samples.slice(1).map((sample) => sample.at_unix_ms / 1000),
    byOperation: rateSeries(
      samples,
      operations,
      (sample, key) => sample.operations.find((figures) => figures.operation === key)?.requests,
    ),
    byShard: rateSeries(
      samples,
      shards.map((shard) => `shard ${shard}`),
      (sample, key) => sample.shards.find((figures) => `shard ${figures.shard}` === key)?.requests,
    ),
  };
}

/** p99 latency per operation over time (the newest sample's busiest operations). */
export function latencies(samples: TrafficSample[], operationLimit = 6): Series[] {
  return busiestOperations(samples, operationLimit).map((operation) => ({
    label: operation,
    values: samples
      .slice(1)
      .map(
        (sample) =>
          sample.operations.find((figures) => figures.operation === operation)?.p99_ms ?? null,
      ),
  }));
}
