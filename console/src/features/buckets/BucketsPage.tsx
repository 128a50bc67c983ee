import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useMemo, useState } from "react";
import { Link } from "react-router";
import { deleteBucket, listBuckets } from "../../api/endpoints";
import type { Bucket } from "../../api/types";
import { Button, DeleteButton } from "../../components/ui/Button";
import { EmptyState, PageHeader, SkeletonRows } from "../../components/ui/Card";
import { actionsColumn, DataTable } from "../../components/ui/DataTable";
import { ConfirmDialog } from "../../components/ui/Dialog";
import { toast } from "../../components/ui/Toast";
import { formatBytes, formatDate } from "../../lib";
import { CreateBucketDialog } from "./CreateBucketDialog";

function useColumns(onDelete: (bucket: Bucket) => void): ColumnDef<Bucket, unknown>[] {
  return useMemo(
    () => [
      {
        header: "Name",
        accessorKey: "name",
        cell: ({ row }) => (
          <Link
            to={`/buckets/${encodeURIComponent(row.original.name)}`}
            className="font-medium text-primary hover:underline"
          >
            {row.original.name}
          </Link>
        ),
      },
      { header: "Owner", accessorFn: (bucket) => bucket.owner ?? "root" },
      { header: "Tenant", accessorFn: (bucket) => bucket.tenant_name ?? "—" },
      {
        header: "Objects",
        accessorKey: "object_count",
        cell: ({ row }) => row.original.object_count.toLocaleString(),
      },
      { header: "Size", accessorKey: "size", cell: ({ row }) => formatBytes(row.original.size) },
      {
        header: "Created",
        accessorKey: "created_at",
        cell: ({ row }) => formatDate(row.original.created_at),
      },
      actionsColumn((bucket) => (
        <>
          <Button variant="secondary" size="sm" asChild>
            <Link
              to={`/buckets/${encodeURIComponent(bucket.name)}/objects`}
              aria-label={`Browse objects of ${bucket.name}`}
            >
              Browse
            </Link>
          </Button>
          <Button variant="secondary" size="sm" asChild>
            <Link to={`/buckets/${encodeURIComponent(bucket.name)}`}>Settings</Link>
          </Button>
          <DeleteButton label={`Delete bucket ${bucket.name}`} onClick={() => onDelete(bucket)} />
        </>
      )),
    ],
    [onDelete],
  );
}

export default function BucketsPage() {
  const queryClient = useQueryClient();
  const buckets = useQuery({ queryKey: ["buckets"], queryFn: listBuckets });
  const [creating, setCreating] = useState(false);
  const [doomed, setDoomed] = useState<Bucket | null>(null);
  const removal = useMutation({
    mutationFn: (name: string) => deleteBucket(name),
    onSuccess: async (_, name) => {
      toast.success("Bucket deleted", name);
      setDoomed(null);
      await queryClient.invalidateQueries({ queryKey: ["buckets"] });
    },
    onError: (error) => toast.error(error, "Bucket not deleted"),
  });
  const columns = useColumns(setDoomed);
  const list = buckets.data?.buckets ?? [];
  return (
    <>
      <PageHeader
        title="Buckets"
        description="Buckets you may see, with their owner and usage."
        actions={<Button onClick={() => setCreating(true)}>Create bucket</Button>}
      />
      {buckets.isPending ? (
        <SkeletonRows rows={6} />
      ) : buckets.error ? (
        <EmptyState title="Buckets could not be listed" description={buckets.error.message} />
      ) : list.length === 0 ? (
        <EmptyState
          title="No buckets yet"
          description="Create one here, or with any S3 client."
          action={<Button onClick={() => setCreating(true)}>Create your first bucket</Button>}
        />
      ) : (
        <DataTable
          columns={columns}
          data={list}
          label="Buckets"
          initialSorting={[{ id: "name", desc: false }]}
        />
      )}
      <CreateBucketDialog open={creating} onOpenChange={setCreating} />
      <ConfirmDialog
        open={doomed !== null}
        onOpenChange={(open) => (open ? undefined : setDoomed(null))}
        title={`Delete bucket ${doomed?.name ?? ""}?`}
        description="Only an empty bucket can be deleted. This cannot be undone."
        confirmLabel="Delete bucket"
        pending={removal.isPending}
        onConfirm={() => doomed && removal.mutate(doomed.name)}
      />
    </>
  );
}
