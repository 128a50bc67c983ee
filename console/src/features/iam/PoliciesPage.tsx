import { useQuery } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useMemo, useState } from "react";
import { deletePolicy, listPolicies } from "../../api/endpoints";
import type { Policy } from "../../api/types";
import { Button, DeleteButton } from "../../components/ui/Button";
import { Badge, EmptyState, ListState, PageHeader } from "../../components/ui/Card";
import { actionsColumn, DataTable } from "../../components/ui/DataTable";
import { ConfirmDialog } from "../../components/ui/Dialog";
import { useRemoval } from "../../hooks/useRemoval";
import { formatDate } from "../../lib";
import { PolicyEditor } from "./PolicyEditor";

type Editing = { policy: Policy | null } | null;

export default function PoliciesPage() {
  const policies = useQuery({ queryKey: ["policies"], queryFn: listPolicies });
  const [editing, setEditing] = useState<Editing>(null);
  const removal = useRemoval({
    remove: (policy: Policy) => deletePolicy(policy.id),
    refresh: ["policies"],
    removed: (policy) => ["Policy deleted", policy.name],
    failed: "Policy not deleted",
  });
  const ask = removal.ask;
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
      actionsColumn((policy) =>
        policy.builtin ? null : (
          <DeleteButton label={`Delete policy ${policy.name}`} onClick={() => ask(policy)} />
        ),
      ),
    ],
    [ask],
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
      <ListState
        query={policies}
        rows={5}
        failed="Policies could not be listed"
        empty={
          list.length === 0 && (
            <EmptyState
              title="No policies"
              description="Write a policy, then attach it to a group or a user."
              action={<Button onClick={create}>New policy</Button>}
            />
          )
        }
      >
        <DataTable
          columns={columns}
          data={list}
          label="Policies"
          initialSorting={[{ id: "name", desc: false }]}
        />
      </ListState>
      {editing ? <PolicyEditor policy={editing.policy} onClose={() => setEditing(null)} /> : null}
      <ConfirmDialog
        {...removal.dialog}
        title={`Delete policy ${removal.doomed?.name ?? ""}?`}
        description="Only a policy attached to nobody can be deleted; detach it first."
        confirmLabel="Delete policy"
      />
    </>
  );
}
