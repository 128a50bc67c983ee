// Tenants with their quotas and what they use: storage and buckets from the bucket listing,
// access keys from the key listing (through each key's user).
import { useQuery } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useMemo, useState } from "react";
import {
  deleteTenant,
  listAccessKeys,
  listBuckets,
  listTenants,
  listUsers,
} from "../../api/endpoints";
import type { Tenant } from "../../api/types";
import { Button, DeleteButton } from "../../components/ui/Button";
import { Badge, EmptyState, ListState, PageHeader } from "../../components/ui/Card";
import { actionsColumn, DataTable } from "../../components/ui/DataTable";
import { ConfirmDialog } from "../../components/ui/Dialog";
import { UsageBar } from "../../components/ui/UsageBar";
import { useRemoval } from "../../hooks/useRemoval";
import { formatBytes } from "../../lib";
import { TenantDialog } from "./TenantDialog";

export interface TenantUsage {
  bytes: number;
  buckets: number;
  accessKeys: number;
}

type Editing = { tenant: Tenant | null } | null;

function useUsage(): Map<string, TenantUsage> {
  const buckets = useQuery({ queryKey: ["buckets"], queryFn: listBuckets });
  const users = useQuery({ queryKey: ["users"], queryFn: listUsers });
  const keys = useQuery({ queryKey: ["access-keys"], queryFn: listAccessKeys });
  return useMemo(() => {
    const usage = new Map<string, TenantUsage>();
    const of = (tenant: string) => {
      let entry = usage.get(tenant);
      if (!entry) usage.set(tenant, (entry = { bytes: 0, buckets: 0, accessKeys: 0 }));
      return entry;
    };
    for (const bucket of buckets.data?.buckets ?? []) {
      if (!bucket.tenant_id) continue;
      of(bucket.tenant_id).bytes += bucket.size;
      of(bucket.tenant_id).buckets += 1;
    }
    const tenantOf = new Map((users.data?.users ?? []).map((user) => [user.id, user.tenant_id]));
    for (const key of keys.data?.access_keys ?? []) {
      const tenant = tenantOf.get(key.user_id);
      if (tenant) of(tenant).accessKeys += 1;
    }
    return usage;
  }, [buckets.data, users.data, keys.data]);
}

const NONE: TenantUsage = { bytes: 0, buckets: 0, accessKeys: 0 };

export default function TenantsPage() {
  const tenants = useQuery({ queryKey: ["tenants"], queryFn: listTenants });
  const usage = useUsage();
  const [editing, setEditing] = useState<Editing>(null);
  const removal = useRemoval({
    remove: (tenant: Tenant) => deleteTenant(tenant.id),
    refresh: ["tenants"],
    removed: (tenant) => ["Tenant deleted", tenant.name],
    failed: "Tenant not deleted",
  });
  const ask = removal.ask;
  const columns = useMemo<ColumnDef<Tenant, unknown>[]>(
    () => [
      {
        header: "Tenant",
        accessorKey: "name",
        cell: ({ row }) => (
          <div>
            <div className="font-medium">{row.original.display_name || row.original.name}</div>
            <div className="text-xs text-muted-fg">{row.original.name}</div>
          </div>
        ),
      },
      {
        header: "Status",
        accessorKey: "status",
        cell: ({ row }) => (
          <Badge tone={row.original.status === "active" ? "success" : "muted"}>
            {row.original.status}
          </Badge>
        ),
      },
      {
        header: "Storage",
        id: "storage",
        accessorFn: (tenant) => (usage.get(tenant.id) ?? NONE).bytes,
        cell: ({ row }) => (
          <UsageBar
            label={`Storage of ${row.original.name}`}
            used={(usage.get(row.original.id) ?? NONE).bytes}
            limit={row.original.max_storage_bytes}
            format={formatBytes}
          />
        ),
      },
      {
        header: "Buckets",
        id: "buckets",
        accessorFn: (tenant) => (usage.get(tenant.id) ?? NONE).buckets,
        cell: ({ row }) => (
          <UsageBar
            label={`Buckets of ${row.original.name}`}
            used={(usage.get(row.original.id) ?? NONE).buckets}
            limit={row.original.max_buckets}
          />
        ),
      },
      {
        header: "Access keys",
        id: "keys",
        accessorFn: (tenant) => (usage.get(tenant.id) ?? NONE).accessKeys,
        cell: ({ row }) => (
          <UsageBar
            label={`Access keys of ${row.original.name}`}
            used={(usage.get(row.original.id) ?? NONE).accessKeys}
            limit={row.original.max_access_keys}
          />
        ),
      },
      actionsColumn((tenant) => (
        <>
          <Button
            variant="secondary"
            size="sm"
            aria-label={`Edit tenant ${tenant.name}`}
            onClick={() => setEditing({ tenant })}
          >
            Edit
          </Button>
          <DeleteButton label={`Delete tenant ${tenant.name}`} onClick={() => ask(tenant)} />
        </>
      )),
    ],
    [usage, ask],
  );
  const list = tenants.data?.tenants ?? [];
  const create = () => setEditing({ tenant: null });
  return (
    <>
      <PageHeader
        title="Tenants"
        description="Isolated groups of users and buckets, each with its own quotas."
        actions={<Button onClick={create}>Create tenant</Button>}
      />
      <ListState
        query={tenants}
        failed="Tenants could not be listed"
        empty={
          list.length === 0 && (
            <EmptyState
              title="No tenants yet"
              description="Create a tenant, then give it users and buckets; its quotas cap them."
              action={<Button onClick={create}>Create a tenant</Button>}
            />
          )
        }
      >
        <DataTable columns={columns} data={list} label="Tenants" />
      </ListState>
      {editing ? <TenantDialog tenant={editing.tenant} onClose={() => setEditing(null)} /> : null}
      <ConfirmDialog
        {...removal.dialog}
        title={`Delete tenant ${removal.doomed?.name ?? ""}?`}
        description="Only an empty tenant can be deleted: remove its users and buckets first."
        confirmLabel="Delete tenant"
      />
    </>
  );
}
