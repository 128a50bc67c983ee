import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useMemo, useState, type FormEvent } from "react";
import { deleteBucketLifecycle, getBucketLifecycle, putBucketLifecycle } from "../../api/endpoints";
import type { LifecycleRule } from "../../api/types";
import { Button, DeleteButton } from "../../components/ui/Button";
import { Badge, EmptyState, SkeletonRows } from "../../components/ui/Card";
import { DataTable } from "../../components/ui/DataTable";
import { ConfirmDialog, Dialog } from "../../components/ui/Dialog";
import { Field, Input, NativeSelect } from "../../components/ui/Field";
import { toast } from "../../components/ui/Toast";

function describe(rule: LifecycleRule): string {
  const parts: string[] = [];
  const expiration = rule.expiration;
  if (expiration?.days) parts.push(`expire after ${expiration.days} d`);
  if (expiration?.date) parts.push(`expire on ${expiration.date}`);
  if (expiration?.expiredObjectDeleteMarker) parts.push("remove expired delete markers");
  const noncurrent = rule.noncurrentVersionExpiration;
  if (noncurrent?.noncurrentDays) parts.push(`noncurrent after ${noncurrent.noncurrentDays} d`);
  const abort = rule.abortIncompleteMultipartUpload;
  if (abort) parts.push(`abort uploads after ${abort.daysAfterInitiation} d`);
  return parts.join(", ") || "—";
}

const optionalDays = (text: string): number | undefined =>
  text.trim() === "" ? undefined : Number(text);

function RuleDialog({
  open,
  onOpenChange,
  onSave,
  pending,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
  onSave: (rule: LifecycleRule) => void;
  pending: boolean;
}) {
  const [id, setId] = useState("");
  const [prefix, setPrefix] = useState("");
  const [status, setStatus] = useState<"Enabled" | "Disabled">("Enabled");
  const [expireDays, setExpireDays] = useState("");
  const [noncurrentDays, setNoncurrentDays] = useState("");
  const [abortDays, setAbortDays] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const rule: LifecycleRule = { status, filter: { prefix } };
    if (id.trim()) rule.id = id.trim();
    const expire = optionalDays(expireDays);
    if (expire) rule.expiration = { days: expire };
    const noncurrent = optionalDays(noncurrentDays);
    if (noncurrent) rule.noncurrentVersionExpiration = { noncurrentDays: noncurrent };
    const abort = optionalDays(abortDays);
    if (abort) rule.abortIncompleteMultipartUpload = { daysAfterInitiation: abort };
    onSave(rule);
  };
  const empty = !expireDays && !noncurrentDays && !abortDays;
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title="Add lifecycle rule"
      description="Applied by the data plane's lifecycle pass to the matching versions."
    >
      <form onSubmit={submit} className="grid grid-cols-2 gap-4">
        <Field label="Rule id (optional)" htmlFor="rule-id">
          <Input id="rule-id" value={id} onChange={(event) => setId(event.target.value)} />
        </Field>
        <Field label="Status" htmlFor="rule-status">
          <NativeSelect
            id="rule-status"
            value={status}
            onChange={(event) => setStatus(event.target.value as "Enabled" | "Disabled")}
          >
            <option>Enabled</option>
            <option>Disabled</option>
          </NativeSelect>
        </Field>
        <Field label="Key prefix" htmlFor="rule-prefix" hint="Empty: every object">
          <Input
            id="rule-prefix"
            value={prefix}
            onChange={(event) => setPrefix(event.target.value)}
          />
        </Field>
        <Field label="Expire current versions after (days)" htmlFor="rule-expire">
          <Input
            id="rule-expire"
            type="number"
            min={1}
            value={expireDays}
            onChange={(event) => setExpireDays(event.target.value)}
          />
        </Field>
        <Field label="Expire noncurrent versions after (days)" htmlFor="rule-noncurrent">
          <Input
            id="rule-noncurrent"
            type="number"
            min={1}
            value={noncurrentDays}
            onChange={(event) => setNoncurrentDays(event.target.value)}
          />
        </Field>
        <Field label="Abort incomplete uploads after (days)" htmlFor="rule-abort">
          <Input
            id="rule-abort"
            type="number"
            min={1}
            value={abortDays}
            onChange={(event) => setAbortDays(event.target.value)}
          />
        </Field>
        <div className="col-span-2 flex justify-end gap-2">
          <Button variant="secondary" onClick={() => onOpenChange(false)}>
            Cancel
          </Button>
          <Button type="submit" disabled={empty || pending}>
            Add rule
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

export function LifecycleTab({ bucket }: { bucket: string }) {
  const queryClient = useQueryClient();
  const key = ["buckets", bucket, "lifecycle"];
  const query = useQuery({ queryKey: key, queryFn: () => getBucketLifecycle(bucket) });
  const [adding, setAdding] = useState(false);
  const [doomed, setDoomed] = useState<LifecycleRule | null>(null);
  const save = useMutation({
    // The API replaces the whole configuration; the last rule removed deletes it.
    mutationFn: (rules: LifecycleRule[]) =>
      rules.length === 0 ? deleteBucketLifecycle(bucket) : putBucketLifecycle(bucket, { rules }),
    onSuccess: async () => {
      toast.success("Lifecycle saved", bucket);
      setAdding(false);
      setDoomed(null);
      await queryClient.invalidateQueries({ queryKey: key });
    },
    onError: (error) => toast.error(error, "Lifecycle not saved"),
  });
  const rules = query.data?.rules ?? [];
  const columns = useMemo<ColumnDef<LifecycleRule, unknown>[]>(
    () => [
      { header: "Rule", accessorFn: (rule) => rule.id ?? "" },
      {
        header: "Status",
        accessorKey: "status",
        cell: ({ row }) => (
          <Badge tone={row.original.status === "Enabled" ? "success" : "muted"}>
            {row.original.status}
          </Badge>
        ),
      },
      { header: "Prefix", accessorFn: (rule) => rule.filter?.prefix || "(all)" },
      { header: "Actions", id: "what", accessorFn: describe, enableSorting: false },
      {
        id: "remove",
        header: () => <span className="sr-only">Remove</span>,
        enableSorting: false,
        cell: ({ row }) => (
          <DeleteButton
            label={`Remove rule ${row.original.id ?? ""}`}
            onClick={() => setDoomed(row.original)}
          >
            Remove
          </DeleteButton>
        ),
      },
    ],
    [],
  );
  if (query.isPending) return <SkeletonRows rows={3} />;
  if (query.error) return <EmptyState title="Not available" description={query.error.message} />;
  return (
    <div className="flex flex-col gap-4">
      <div className="flex justify-end">
        <Button onClick={() => setAdding(true)}>Add rule</Button>
      </div>
      {rules.length === 0 ? (
        <EmptyState
          title="No lifecycle rules"
          description="Rules expire objects, noncurrent versions and abandoned uploads."
        />
      ) : (
        <DataTable columns={columns} data={rules} label="Lifecycle rules" />
      )}
      <RuleDialog
        open={adding}
        onOpenChange={setAdding}
        pending={save.isPending}
        onSave={(rule) => save.mutate([...rules, rule])}
      />
      <ConfirmDialog
        open={doomed !== null}
        onOpenChange={(open) => (open ? undefined : setDoomed(null))}
        title="Remove this rule?"
        description={doomed ? describe(doomed) : ""}
        confirmLabel="Remove rule"
        pending={save.isPending}
        onConfirm={() => save.mutate(rules.filter((rule) => rule !== doomed))}
      />
    </div>
  );
}
