// Groups: their members and the policies attached to them. Members must be users of the
// group's tenant; the server refuses anything else and its message is shown.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import {
  createGroup,
  deleteGroup,
  listGroups,
  listPolicies,
  listUsers,
  setGroupMember,
  setGroupPolicy,
} from "../../api/endpoints";
import type { Group, Policy, User } from "../../api/types";
import { Button, DeleteButton } from "../../components/ui/Button";
import { Card, EmptyState, ListState, PageHeader } from "../../components/ui/Card";
import { ChoiceAdder } from "../../components/ui/ChoiceAdder";
import { ConfirmDialog, Dialog } from "../../components/ui/Dialog";
import { Field, Input } from "../../components/ui/Field";
import { toast } from "../../components/ui/Toast";
import { useRemoval } from "../../hooks/useRemoval";

type Change =
  | { kind: "member"; group: Group; id: string; on: boolean }
  | { kind: "policy"; group: Group; id: string; on: boolean };

function CreateGroupDialog({ onClose }: { onClose: () => void }) {
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const mutation = useMutation({
    mutationFn: () => createGroup(name.trim()),
    onSuccess: async (group) => {
      toast.success("Group created", group.name);
      await queryClient.invalidateQueries({ queryKey: ["groups"] });
      onClose();
    },
    onError: (error) => toast.error(error, "Group not created"),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate();
  };
  return (
    <Dialog open onOpenChange={(open) => (open ? undefined : onClose())} title="Create group">
      <form onSubmit={submit} className="flex flex-col gap-4">
        <Field label="Group name" htmlFor="group-name" hint="Letters, digits and +=,.@_-">
          <Input
            id="group-name"
            required
            autoFocus
            pattern="[A-Za-z0-9+=,.@_\-]{1,128}"
            value={name}
            onChange={(event) => setName(event.target.value)}
          />
        </Field>
        <div className="flex justify-end gap-2">
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" disabled={!name.trim() || mutation.isPending}>
            Create group
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

export function Chip({ label, onRemove }: { label: string; onRemove: () => void }) {
  return (
    <li className="flex items-center gap-1 rounded-full border border-border py-0.5 pr-1 pl-3">
      <span className="text-sm">{label}</span>
      <button
        type="button"
        onClick={onRemove}
        aria-label={`Remove ${label}`}
        className="rounded-full px-1.5 text-muted-fg hover:bg-muted hover:text-fg"
      >
        ×
      </button>
    </li>
  );
}

function GroupCard({
  group,
  users,
  policies,
  onChange,
  onDelete,
  pending,
}: {
  group: Group;
  users: User[];
  policies: Policy[];
  onChange: (change: Change) => void;
  onDelete: () => void;
  pending: boolean;
}) {
  const members = new Set(group.members.map((member) => member.id));
  const attached = new Set(group.policies.map((policy) => policy.id));
  const candidates = users.filter(
    (user) => !members.has(user.id) && user.tenant_id === group.tenant_id,
  );
  const attachable = policies.filter(
    (policy) =>
      !attached.has(policy.id) && (policy.builtin || policy.tenant_id === group.tenant_id),
  );
  return (
    <Card className="flex flex-col gap-4" data-testid={`group-${group.name}`}>
      <div className="flex items-start justify-between">
        <div>
          <h2 className="text-lg font-semibold">{group.name}</h2>
          <p className="text-xs text-muted-fg">{group.tenant_id ?? "global"}</p>
        </div>
        <DeleteButton label={`Delete group ${group.name}`} onClick={onDelete} />
      </div>
      <div className="grid grid-cols-2 gap-6">
        <section aria-label={`Members of ${group.name}`} className="flex flex-col gap-2">
          <h3 className="text-sm font-medium">Members ({group.members.length})</h3>
          <ul className="flex flex-wrap gap-2">
            {group.members.map((member) => (
              <Chip
                key={member.id}
                label={member.username}
                onRemove={() => onChange({ kind: "member", group, id: member.id, on: false })}
              />
            ))}
          </ul>
          <ChoiceAdder
            label={`User to add to ${group.name}`}
            choices={candidates.map((user) => ({ value: user.id, label: user.username }))}
            action="Add member"
            pending={pending}
            emptyText="Every user of this group's tenant is a member."
            onAdd={(id) => onChange({ kind: "member", group, id, on: true })}
          />
        </section>
        <section aria-label={`Policies of ${group.name}`} className="flex flex-col gap-2">
          <h3 className="text-sm font-medium">Policies ({group.policies.length})</h3>
          <ul className="flex flex-wrap gap-2">
            {group.policies.map((policy) => (
              <Chip
                key={policy.id}
                label={policy.name}
                onRemove={() => onChange({ kind: "policy", group, id: policy.id, on: false })}
              />
            ))}
          </ul>
          <ChoiceAdder
            label={`Policy to attach to ${group.name}`}
            choices={attachable.map((policy) => ({ value: policy.id, label: policy.name }))}
            action="Attach policy"
            pending={pending}
            emptyText="Every policy is attached."
            onAdd={(id) => onChange({ kind: "policy", group, id, on: true })}
          />
        </section>
      </div>
    </Card>
  );
}

export default function GroupsPage() {
  const queryClient = useQueryClient();
  const groups = useQuery({ queryKey: ["groups"], queryFn: listGroups });
  const users = useQuery({ queryKey: ["users"], queryFn: listUsers });
  const policies = useQuery({ queryKey: ["policies"], queryFn: listPolicies });
  const [creating, setCreating] = useState(false);
  const change = useMutation({
    mutationFn: (change: Change) =>
      change.kind === "member"
        ? setGroupMember(change.group.id, change.id, change.on)
        : setGroupPolicy(change.group.id, change.id, change.on),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["groups"] }),
    onError: (error) => toast.error(error, "Group not changed"),
  });
  const removal = useRemoval({
    remove: (group: Group) => deleteGroup(group.id),
    refresh: ["groups"],
    removed: (group) => ["Group deleted", group.name],
    failed: "Group not deleted",
  });
  const list = groups.data?.groups ?? [];
  const create = () => setCreating(true);
  return (
    <>
      <PageHeader
        title="Groups"
        description="Users who share policies: a member gets every policy attached to the group."
        actions={
          <>
            <Link to="/policies" className="self-center text-sm text-primary underline">
              Policies
            </Link>
            <Button onClick={create}>Create group</Button>
          </>
        }
      />
      <ListState
        query={groups}
        failed="Groups could not be listed"
        empty={
          list.length === 0 && (
            <EmptyState
              title="No groups yet"
              description="Create a group, add users to it and attach the policies they share."
              action={<Button onClick={create}>Create a group</Button>}
            />
          )
        }
      >
        <div className="flex flex-col gap-4">
          {list.map((group) => (
            <GroupCard
              key={group.id}
              group={group}
              users={users.data?.users ?? []}
              policies={policies.data?.policies ?? []}
              onChange={change.mutate}
              onDelete={() => removal.ask(group)}
              pending={change.isPending}
            />
          ))}
        </div>
      </ListState>
      {creating ? <CreateGroupDialog onClose={() => setCreating(false)} /> : null}
      <ConfirmDialog
        {...removal.dialog}
        title={`Delete group ${removal.doomed?.name ?? ""}?`}
        description="Its members lose the policies they had through it, at once."
        confirmLabel="Delete group"
      />
    </>
  );
}
