import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useMemo, useState } from "react";
import { deletePolicy, listPolicies } from "../../api/endpoints";
import type { Policy } from "../../api/types";
import { Button } from "../../components/ui/Button";
import { Badge, EmptyState, PageHeader, SkeletonRows } from "../../components/ui/Card";
import { DataTable } from "../../components/ui/DataTable";
import { ConfirmDialog } from "../../components/ui/Dialog";
import { toast } from "../../components/ui/Toast";
import { formatDate } from "../../lib";
import { PolicyEditor } from "./PolicyEditor";

type Editing = { policy: Policy | null } | null;

export default function PoliciesPage() {
  const queryClient = useQueryClient();
  const policies = useQuery({ queryKey: ["policies"], queryFn: listPolicies });
  const [editing, setEditing] = useState<Editing>(null);
  const [doomed, setDoomed] = useState<Policy | null>(null);
  const removal = useMutation({
    mutationFn: (policy: Policy) => deletePolicy(policy.id),
    onSuccess: async (_, policy) => {
      toast.success("Policy deleted", policy.name);
      setDoomed(null);
      await queryClient.invalidateQueries({ queryKey: ["policies"] });
    },
    onError: (error) => toast.error(error, "Policy not deleted"),
  });
  const columns = useMemo<ColumnDef<Policy, unknown>[]>(
    () => [
      {
        header: "Policy",
        accessorKey: "name",
        cell: ({ row }) => (
          <button
            type="button"
            className="font-medium text-primary underline"
            onClick={() => setEditing({ policy: row.original })}
          >
            {row.original.name}
          </button>
        ),
      },
      {
        header: "Kind",
        accessorFn: (policy) => (policy.builtin ? "built-in" : "custom"),
        cell: ({ getValue }) => (
          <Badge tone={getValue() === "built-in" ? "info" : "muted"}>{String(getValue())}</Badge>
        ),
      },
      {
        header: "Description",
        accessorFn: (policy) => policy.description ?? "",
        enableSorting: false,
      },
      { header: "Scope", accessorFn: (policy) => policy.tenant_id ?? "global" },
      {
        header: "Updated",
        // Built-ins are rewritten at every start: their date says nothing.
        accessorFn: (policy) => (policy.builtin ? "—" : formatDate(policy.updated_at)),
      },
      {
        id: "actions",
        header: () => <span className="sr-only">Actions</span>,
        enableSorting: false,
        cell: ({ row }) =>
          row.original.builtin ? null : (
            <div className="flex justify-end">
              <Button
                variant="ghost"
                size="sm"
                className="text-danger"
                aria-label={`Delete policy ${row.original.name}`}
                onClick={() => setDoomed(row.original)}
              >
                Delete
              </Button>
            </div>
          ),
      },
    ],
    [],
  );
  const list = policies.data?.policies ?? [];
  const create = () => setEditing({ policy: null });
  return (
    <>
      <PageHeader
        title="Policies"
        description="Managed IAM policies: what the users and groups they are attached to may do."
        actions={<Button onClick={create}>New policy</Button>}
      />
      {policies.isPending ? (
        <SkeletonRows rows={5} />
      ) : policies.error ? (
        <EmptyState title="Policies could not be listed" description={policies.error.message} />
      ) : list.length === 0 ? (
        <EmptyState
          title="No policies"
          description="Write a policy, then attach it to a group or a user."
          action={<Button onClick={create}>New policy</Button>}
        />
      ) : (
        <DataTable
          columns={columns}
          data={list}
          label="Policies"
          initialSorting={[{ id: "name", desc: false }]}
        />
      )}
      {editing ? <PolicyEditor policy={editing.policy} onClose={() => setEditing(null)} /> : null}
      <ConfirmDialog
        open={doomed !== null}
        onOpenChange={(open) => (open ? undefined : setDoomed(null))}
        title={`Delete policy ${doomed?.name ?? ""}?`}
        description="Only a policy attached to nobody can be deleted; detach it first."
        confirmLabel="Delete policy"
        pending={removal.isPending}
        onConfirm={() => doomed && removal.mutate(doomed)}
      />
    </>
  );
}
