// The data plane's traffic: request rates per operation and per shard, p99 latency per
// operation, and the totals behind them. The admin samples every few seconds and keeps ten
// minutes (api_metrics.rs); this page polls at the same pace.
import { useQuery } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useMemo } from "react";
import { getMetrics } from "../../api/endpoints";
import type { TrafficSample } from "../../api/types";
import { TimeChart } from "../../components/charts/TimeChart";
import { Card, EmptyState, PageHeader, SkeletonRows } from "../../components/ui/Card";
import { DataTable } from "../../components/ui/DataTable";
import { formatBytes } from "../../lib";
import { latencies, rates } from "./series";

type OperationRow = TrafficSample["operations"][number];
type ShardRow = TrafficSample["shards"][number];

const milliseconds = (value: number | null) => (value === null ? "—" : `${value.toFixed(2)} ms`);

const OPERATION_COLUMNS: ColumnDef<OperationRow, unknown>[] = [
  { header: "Operation", accessorKey: "operation" },
  { header: "Requests", accessorKey: "requests" },
  { header: "4xx", accessorKey: "client_errors" },
  { header: "5xx", accessorKey: "server_errors" },
  { header: "p50", accessorKey: "p50_ms", cell: ({ row }) => milliseconds(row.original.p50_ms) },
  { header: "p99", accessorKey: "p99_ms", cell: ({ row }) => milliseconds(row.original.p99_ms) },
];

const SHARD_COLUMNS: ColumnDef<ShardRow, unknown>[] = [
  { header: "Shard", accessorKey: "shard" },
  { header: "Requests", accessorKey: "requests" },
  { header: "In flight", accessorKey: "in_flight" },
  { header: "Connections", accessorKey: "connections_open" },
  {
    header: "Received",
    accessorKey: "received_bytes",
    cell: ({ row }) => formatBytes(row.original.received_bytes),
  },
  {
    header: "Sent",
    accessorKey: "sent_bytes",
    cell: ({ row }) => formatBytes(row.original.sent_bytes),
  },
];

export default function MetricsPage() {
  const query = useQuery({ queryKey: ["metrics"], queryFn: getMetrics, refetchInterval: 5000 });
  const samples = query.data?.samples;
  const charts = useMemo(
    () => (samples ? { ...rates(samples), latency: latencies(samples) } : null),
    [samples],
  );
  const newest = samples?.at(-1);
  return (
    <>
      <PageHeader
        title="Metrics"
        description={
          "S3 traffic of the data plane over the last minutes: rates between samples taken " +
          `every ${query.data?.interval_seconds ?? 5} s, latencies over its sliding window.`
        }
      />
      {query.isPending ? (
        <SkeletonRows rows={8} />
      ) : query.error ? (
        <EmptyState title="Metrics are not available" description={query.error.message} />
      ) : !newest || !charts ? (
        <EmptyState title="No sample yet" description="The first sample comes within seconds." />
      ) : (
        <div className="flex flex-col gap-6">
          {charts.times.length === 0 ? (
            <EmptyState
              title="Collecting"
              description="Rates need two samples: the charts appear at the next one."
            />
          ) : (
            <div className="grid grid-cols-2 gap-4" data-testid="metrics-charts">
              <Card>
                <TimeChart
                  title="Requests per second by operation"
                  times={charts.times}
                  series={charts.byOperation}
                  unit="req/s"
                />
              </Card>
              <Card>
                <TimeChart
                  title="Requests per second by shard"
                  times={charts.times}
                  series={charts.byShard}
                  unit="req/s"
                />
              </Card>
              <Card className="col-span-2">
                <TimeChart
                  title="p99 latency by operation"
                  times={charts.times}
                  series={charts.latency}
                  unit="ms"
                  height={200}
                />
              </Card>
            </div>
          )}
          <section aria-labelledby="operations-heading">
            <h2 id="operations-heading" className="mb-3 text-lg font-semibold">
              Operations
            </h2>
            {newest.operations.length === 0 ? (
              <EmptyState
                title="No S3 request yet"
                description="Point an S3 client at the data plane with an access key from the users page."
              />
            ) : (
              <DataTable
                columns={OPERATION_COLUMNS}
                data={newest.operations}
                label="Operations"
                initialSorting={[{ id: "requests", desc: true }]}
              />
            )}
          </section>
          <section aria-labelledby="shards-heading">
            <h2 id="shards-heading" className="mb-3 text-lg font-semibold">
              Shards ({newest.shards.length} of {newest.shard_count} answering)
            </h2>
            <DataTable columns={SHARD_COLUMNS} data={newest.shards} label="Shards" />
          </section>
        </div>
      )}
    </>
  );
}
