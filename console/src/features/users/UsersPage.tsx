import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useMemo, useState } from "react";
import { Link } from "react-router";
import {
  createAccessKey,
  deleteAccessKey,
  deleteUser,
  listAccessKeys,
  listUsers,
  setAccessKeyStatus,
} from "../../api/endpoints";
import type { AccessKey, NewAccessKey, User } from "../../api/types";
import { Button, DeleteButton } from "../../components/ui/Button";
import { Badge, EmptyState, ListState, PageHeader } from "../../components/ui/Card";
import { actionsColumn, DataTable } from "../../components/ui/DataTable";
import { ConfirmDialog } from "../../components/ui/Dialog";
import { toast } from "../../components/ui/Toast";
import { formatDate } from "../../lib";
import { CreateUserDialog } from "./CreateUserDialog";
import { NewKeyDialog } from "./NewKeyDialog";

type Doomed = { kind: "user"; user: User } | { kind: "key"; key: AccessKey };

function useUserColumns(
  onNewKey: (user: User) => void,
  onDelete: (user: User) => void,
): ColumnDef<User, unknown>[] {
  return useMemo(
    () => [
      {
        header: "User",
        accessorKey: "username",
        cell: ({ row }) => (
          <Link
            to={`/users/${encodeURIComponent(row.original.id)}`}
            className="font-medium text-primary underline"
          >
            {row.original.username}
          </Link>
        ),
      },
      { header: "Role", accessorKey: "role" },
      { header: "Tenant", accessorFn: (user) => user.tenant_id ?? "—" },
      {
        header: "Status",
        accessorKey: "status",
        cell: ({ row }) => (
          <Badge
            tone={row.original.status === "active" && !row.original.locked ? "success" : "danger"}
          >
            {row.original.locked ? "locked" : row.original.status}
          </Badge>
        ),
      },
      {
        header: "2FA",
        accessorFn: (user) => (user.two_factor_enabled ? "on" : "off"),
      },
      { header: "Created", accessorFn: (user) => formatDate(user.created_at) },
      actionsColumn((user) => (
        <>
          <Button
            variant="secondary"
            size="sm"
            aria-label={`Create access key for ${user.username}`}
            onClick={() => onNewKey(user)}
          >
            New key
          </Button>
          <DeleteButton label={`Delete user ${user.username}`} onClick={() => onDelete(user)} />
        </>
      )),
    ],
    [onNewKey, onDelete],
  );
}

function useKeyColumns(
  onToggle: (key: AccessKey) => void,
  onDelete: (key: AccessKey) => void,
): ColumnDef<AccessKey, unknown>[] {
  return useMemo(
    () => [
      {
        header: "Access key",
        accessorKey: "access_key_id",
        cell: ({ row }) => <code className="text-xs">{row.original.access_key_id}</code>,
      },
      { header: "User", accessorKey: "username" },
      {
        header: "Status",
        accessorKey: "status",
        cell: ({ row }) => (
          <Badge tone={row.original.status === "active" ? "success" : "muted"}>
            {row.original.status}
          </Badge>
        ),
      },
      { header: "Created", accessorFn: (key) => formatDate(key.created_at) },
      actionsColumn((key) => (
        <>
          <Button variant="secondary" size="sm" onClick={() => onToggle(key)}>
            {key.status === "active" ? "Disable" : "Enable"}
          </Button>
          <DeleteButton
            label={`Delete access key ${key.access_key_id}`}
            onClick={() => onDelete(key)}
          />
        </>
      )),
    ],
    [onToggle, onDelete],
  );
}

export default function UsersPage() {
  const queryClient = useQueryClient();
  const users = useQuery({ queryKey: ["users"], queryFn: listUsers });
  const keys = useQuery({ queryKey: ["access-keys"], queryFn: listAccessKeys });
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<NewAccessKey | null>(null);
  const [doomed, setDoomed] = useState<Doomed | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: ["access-keys"] });
  const newKey = useMutation({
    mutationFn: (user: User) => createAccessKey(user.id),
    onSuccess: async (key) => {
      setCreated(key);
      await refresh();
    },
    onError: (error) => toast.error(error, "Access key not created"),
  });
  const toggle = useMutation({
    mutationFn: (key: AccessKey) =>
      setAccessKeyStatus(
        key.user_id,
        key.access_key_id,
        key.status === "active" ? "inactive" : "active",
      ),
    onSuccess: refresh,
    onError: (error) => toast.error(error, "Access key not changed"),
  });
  const removal = useMutation({
    mutationFn: (target: Doomed) =>
      target.kind === "user"
        ? deleteUser(target.user.id)
        : deleteAccessKey(target.key.user_id, target.key.access_key_id),
    onSuccess: async (_, target) => {
      toast.success(target.kind === "user" ? "User deleted" : "Access key deleted");
      setDoomed(null);
      await queryClient.invalidateQueries({ queryKey: ["users"] });
      await refresh();
    },
    onError: (error) => toast.error(error, "Not deleted"),
  });
  // `mutate` is stable across renders, so the columns are built once.
  const createKey = newKey.mutate;
  const toggleKey = toggle.mutate;
  const userColumns = useUserColumns(
    useMemo(() => (user: User) => createKey(user), [createKey]),
    useMemo(() => (user: User) => setDoomed({ kind: "user", user }), []),
  );
  const keyColumns = useKeyColumns(
    useMemo(() => (key: AccessKey) => toggleKey(key), [toggleKey]),
    useMemo(() => (key: AccessKey) => setDoomed({ kind: "key", key }), []),
  );
  const userList = users.data?.users ?? [];
  const keyList = keys.data?.access_keys ?? [];
  return (
    <>
      <PageHeader
        title="Users & access keys"
        description="Console users, their roles, and the S3 access keys they sign with."
        actions={<Button onClick={() => setCreating(true)}>Create user</Button>}
      />
      <section aria-labelledby="users-heading" className="mb-10">
        <h2 id="users-heading" className="mb-3 text-lg font-semibold">
          Users
        </h2>
        <ListState
          query={users}
          failed="Users could not be listed"
          empty={
            userList.length === 0 && (
              <EmptyState
                title="No users yet"
                description={
                  "The root identity is built in. Create users for the people and " +
                  "applications that use this server."
                }
                action={<Button onClick={() => setCreating(true)}>Create a user</Button>}
              />
            )
          }
        >
          <DataTable columns={userColumns} data={userList} label="Users" />
        </ListState>
      </section>
      <section aria-labelledby="keys-heading">
        <h2 id="keys-heading" className="mb-3 text-lg font-semibold">
          Access keys
        </h2>
        <ListState
          query={keys}
          rows={3}
          failed="Keys could not be listed"
          empty={
            keyList.length === 0 && (
              <EmptyState
                title="No access keys yet"
                description="Use “New key” on a user to create one; its secret is shown once."
              />
            )
          }
        >
          <DataTable columns={keyColumns} data={keyList} label="Access keys" />
        </ListState>
      </section>
      <CreateUserDialog open={creating} onOpenChange={setCreating} />
      <NewKeyDialog created={created} onClose={() => setCreated(null)} />
      <ConfirmDialog
        open={doomed !== null}
        onOpenChange={(open) => (open ? undefined : setDoomed(null))}
        title={
          doomed?.kind === "user"
            ? `Delete user ${doomed.user.username}?`
            : `Delete access key ${doomed?.kind === "key" ? doomed.key.access_key_id : ""}?`
        }
        description={
          doomed?.kind === "user"
            ? "Their sessions end and their access keys stop working at once."
            : "Clients signing with this key are refused at once."
        }
        confirmLabel="Delete"
        pending={removal.isPending}
        onConfirm={() => doomed && removal.mutate(doomed)}
      />
    </>
  );
}
