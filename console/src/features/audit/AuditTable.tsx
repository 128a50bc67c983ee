import type { ColumnDef } from "@tanstack/react-table";
import type { AuditEntry } from "../../api/types";
import { Badge } from "../../components/ui/Card";
import { DataTable } from "../../components/ui/DataTable";
import { formatDate } from "../../lib";

const TONES: Record<string, string> = { success: "success", failed: "danger", denied: "danger" };

const COLUMNS: ColumnDef<AuditEntry, unknown>[] = [
  {
    header: "Time",
    accessorKey: "timestamp",
    cell: ({ row }) => (
      <span className="whitespace-nowrap">{formatDate(row.original.timestamp)}</span>
    ),
  },
  { header: "Event", accessorKey: "event_type" },
  { header: "User", accessorFn: (entry) => entry.username ?? "—" },
  {
    header: "Resource",
    accessorFn: (entry) => entry.resource ?? "",
    cell: ({ getValue }) => (
      <span className="block max-w-72 truncate font-mono text-xs" title={String(getValue())}>
        {String(getValue()) || "—"}
      </span>
    ),
  },
  { header: "Source", accessorKey: "source" },
  {
    header: "Status",
    accessorKey: "status",
    cell: ({ row }) => (
      <Badge tone={TONES[row.original.status]}>
        {row.original.status}
        {row.original.http_status ? ` ${row.original.http_status}` : ""}
      </Badge>
    ),
  },
  { header: "IP", accessorFn: (entry) => entry.ip ?? "—" },
];

export function AuditTable({ entries }: { entries: AuditEntry[] }) {
  return <DataTable columns={COLUMNS} data={entries} label="Audit entries" />;
}
