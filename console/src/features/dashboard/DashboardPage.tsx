import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { listAuditLogs, listBuckets, listUsers } from "../../api/endpoints";
import { Card, EmptyState, PageHeader, Skeleton, SkeletonRows } from "../../components/ui/Card";
import { useSession } from "../../hooks/useSession";
import { formatBytes } from "../../lib";
import { AuditTable } from "../audit/AuditTable";

function Stat({ label, value, loading }: { label: string; value: string; loading: boolean }) {
  return (
    <Card>
      <p className="text-sm text-muted-fg">{label}</p>
      {loading ? (
        <Skeleton className="mt-2 h-8 w-20" />
      ) : (
        <p className="mt-1 text-2xl font-semibold" data-testid={`stat-${label}`}>
          {value}
        </p>
      )}
    </Card>
  );
}

export default function DashboardPage() {
  const buckets = useQuery({ queryKey: ["buckets"], queryFn: listBuckets });
  // Plain users may not list users: they see a dash, and the browser logs no refused call.
  const role = useSession()?.user?.role;
  const mayListUsers = role === "global_admin" || role === "tenant_admin";
  const users = useQuery({ queryKey: ["users"], queryFn: listUsers, enabled: mayListUsers });
  const audit = useQuery({
    queryKey: ["audit", "recent"],
    queryFn: () => listAuditLogs({}, 1, 10),
  });
  const list = buckets.data?.buckets ?? [];
  const objects = list.reduce((sum, bucket) => sum + bucket.object_count, 0);
  const bytes = list.reduce((sum, bucket) => sum + bucket.size, 0);
  return (
    <>
      <PageHeader title="Dashboard" description="Your storage at a glance." />
      <div className="mb-8 grid grid-cols-4 gap-4">
        <Stat label="Buckets" value={String(list.length)} loading={buckets.isPending} />
        <Stat label="Objects" value={objects.toLocaleString()} loading={buckets.isPending} />
        <Stat label="Stored" value={formatBytes(bytes)} loading={buckets.isPending} />
        <Stat
          label="Users"
          value={users.data ? String(users.data.total) : "—"}
          loading={mayListUsers && users.isPending}
        />
      </div>
      <div className="mb-3 flex items-center justify-between">
        <h2 className="text-lg font-semibold">Recent activity</h2>
        <Link to="/audit" className="text-sm text-primary underline">
          Open the audit log
        </Link>
      </div>
      {audit.isPending ? (
        <SkeletonRows rows={5} />
      ) : audit.data && audit.data.logs.length > 0 ? (
        <AuditTable entries={audit.data.logs} />
      ) : (
        <EmptyState
          title="No activity yet"
          description={audit.error ? audit.error.message : "Actions you take will show up here."}
        />
      )}
    </>
  );
}
