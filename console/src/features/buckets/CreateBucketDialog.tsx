import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { createBucket } from "../../api/endpoints";
import type { CreateBucketRequest, RetentionMode } from "../../api/types";
import { Button } from "../../components/ui/Button";
import { Dialog } from "../../components/ui/Dialog";
import { Field, Input, Label, NativeSelect } from "../../components/ui/Field";
import { Switch } from "../../components/ui/Switch";
import { toast } from "../../components/ui/Toast";

// S3's bucket naming rules, checked before the round trip (the server checks them again).
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function bucketNameProblem(name: string): string | null {
  if (name.length === 0) return null;
  if (!BUCKET_NAME.test(name)) {
    return "3 to 63 characters: lowercase letters, digits, dots and hyphens";
  }
  if (name.includes("..")) return "no two dots in a row";
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return "must not look like an IP address";
  return null;
}

export function CreateBucketDialog({
  open,
  onOpenChange,
}: {
  open: boolean;
  onOpenChange: (open: boolean) => void;
}) {
  const queryClient = useQueryClient();
  const [name, setName] = useState("");
  const [versioning, setVersioning] = useState(false);
  const [objectLock, setObjectLock] = useState(false);
  const [mode, setMode] = useState<RetentionMode | "">("");
  const [days, setDays] = useState("30");
  const problem = bucketNameProblem(name);
  const mutation = useMutation({
    mutationFn: (body: CreateBucketRequest) => createBucket(body),
    onSuccess: async () => {
      toast.success("Bucket created", name);
      await queryClient.invalidateQueries({ queryKey: ["buckets"] });
      onOpenChange(false);
      setName("");
      setVersioning(false);
      setObjectLock(false);
      setMode("");
    },
    onError: (error) => toast.error(error, "Bucket not created"),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const body: CreateBucketRequest = { name };
    if (versioning || objectLock) body.versioning = { status: "Enabled" };
    if (objectLock) {
      body.objectLock = mode
        ? { enabled: true, mode, days: Number(days), years: null }
        : { enabled: true, mode: null, days: null, years: null };
    }
    mutation.mutate(body);
  };
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title="Create bucket"
      description="Names are global and cannot be changed later."
    >
      <form onSubmit={submit} className="flex flex-col gap-4">
        <Field label="Name" htmlFor="bucket-name" hint={problem ?? undefined}>
          <Input
            id="bucket-name"
            required
            autoFocus
            value={name}
            aria-invalid={problem ? true : undefined}
            onChange={(event) => setName(event.target.value.trim())}
          />
        </Field>
        <div className="flex items-center justify-between">
          <Label htmlFor="bucket-versioning">Versioning</Label>
          <Switch
            id="bucket-versioning"
            checked={versioning || objectLock}
            disabled={objectLock}
            onCheckedChange={setVersioning}
          />
        </div>
        <div className="flex items-center justify-between">
          <div>
            <Label htmlFor="bucket-object-lock">Object Lock</Label>
            <p className="text-xs text-muted-fg">Cannot be turned off; turns versioning on.</p>
          </div>
          <Switch id="bucket-object-lock" checked={objectLock} onCheckedChange={setObjectLock} />
        </div>
        {objectLock ? (
          <div className="grid grid-cols-2 gap-3">
            <Field label="Default retention" htmlFor="bucket-retention-mode">
              <NativeSelect
                id="bucket-retention-mode"
                value={mode}
                onChange={(event) => setMode(event.target.value as RetentionMode | "")}
              >
                <option value="">None</option>
                <option value="GOVERNANCE">Governance</option>
                <option value="COMPLIANCE">Compliance</option>
              </NativeSelect>
            </Field>
            <Field label="Days" htmlFor="bucket-retention-days">
              <Input
                id="bucket-retention-days"
                type="number"
                min={1}
                max={36500}
                disabled={!mode}
                value={days}
                onChange={(event) => setDays(event.target.value)}
              />
            </Field>
          </div>
        ) : null}
        <div className="mt-2 flex justify-end gap-2">
          <Button variant="secondary" onClick={() => onOpenChange(false)}>
            Cancel
          </Button>
          <Button type="submit" disabled={!name || problem !== null || mutation.isPending}>
            {mutation.isPending ? "Creating…" : "Create bucket"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
