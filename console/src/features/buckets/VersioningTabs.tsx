import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import {
  getBucketObjectLock,
  getBucketVersioning,
  putBucketObjectLock,
  putBucketVersioning,
} from "../../api/endpoints";
import type { ObjectLock, RetentionMode } from "../../api/types";
import { Button } from "../../components/ui/Button";
import { Badge, Card, EmptyState, SkeletonRows } from "../../components/ui/Card";
import { ConfirmDialog } from "../../components/ui/Dialog";
import { Field, Input, NativeSelect } from "../../components/ui/Field";
import { toast } from "../../components/ui/Toast";

export function VersioningTab({ bucket }: { bucket: string }) {
  const queryClient = useQueryClient();
  const key = ["buckets", bucket, "versioning"];
  const query = useQuery({ queryKey: key, queryFn: () => getBucketVersioning(bucket) });
  const mutation = useMutation({
    mutationFn: (status: "Enabled" | "Suspended") => putBucketVersioning(bucket, status),
    onSuccess: async (_, status) => {
      toast.success(`Versioning ${status.toLowerCase()}`, bucket);
      await queryClient.invalidateQueries({ queryKey: key });
    },
    onError: (error) => toast.error(error, "Versioning not changed"),
  });
  if (query.isPending) return <SkeletonRows rows={2} />;
  if (query.error) return <EmptyState title="Not available" description={query.error.message} />;
  const status = query.data.status;
  return (
    <Card className="flex items-center justify-between">
      <div>
        <p className="font-medium">
          Status:{" "}
          <Badge tone={status === "Enabled" ? "success" : "muted"}>
            <span data-testid="versioning-status">{status ?? "Never enabled"}</span>
          </Badge>
        </p>
        <p className="mt-1 text-sm text-muted-fg">
          With versioning on, overwrites and deletes keep the earlier versions.
        </p>
      </div>
      {status === "Enabled" ? (
        <Button
          variant="secondary"
          disabled={mutation.isPending}
          onClick={() => mutation.mutate("Suspended")}
        >
          Suspend versioning
        </Button>
      ) : (
        <Button disabled={mutation.isPending} onClick={() => mutation.mutate("Enabled")}>
          Enable versioning
        </Button>
      )}
    </Card>
  );
}

function RetentionForm({ bucket, lock }: { bucket: string; lock: ObjectLock }) {
  const queryClient = useQueryClient();
  const [mode, setMode] = useState<RetentionMode | "">(lock.mode ?? "");
  const [unit, setUnit] = useState<"days" | "years">(lock.years ? "years" : "days");
  const [amount, setAmount] = useState(String(lock.years ?? lock.days ?? 30));
  const [confirming, setConfirming] = useState(false);
  useEffect(() => {
    setMode(lock.mode ?? "");
  }, [lock.mode]);
  const mutation = useMutation({
    mutationFn: (body: ObjectLock) => putBucketObjectLock(bucket, body),
    onSuccess: async () => {
      toast.success("Object Lock saved", bucket);
      setConfirming(false);
      await queryClient.invalidateQueries({ queryKey: ["buckets", bucket] });
    },
    onError: (error) => toast.error(error, "Object Lock not changed"),
  });
  const body = (): ObjectLock => ({
    enabled: true,
    mode: mode || null,
    days: mode && unit === "days" ? Number(amount) : null,
    years: mode && unit === "years" ? Number(amount) : null,
  });
  return (
    <div className="mt-4 grid grid-cols-[1fr_8rem_8rem_auto] items-end gap-3">
      <Field label="Default retention" htmlFor="lock-mode">
        <NativeSelect
          id="lock-mode"
          value={mode}
          onChange={(event) => setMode(event.target.value as RetentionMode | "")}
        >
          <option value="">None</option>
          <option value="GOVERNANCE">Governance</option>
          <option value="COMPLIANCE">Compliance</option>
        </NativeSelect>
      </Field>
      <Field label="Period" htmlFor="lock-amount">
        <Input
          id="lock-amount"
          type="number"
          min={1}
          disabled={!mode}
          value={amount}
          onChange={(event) => setAmount(event.target.value)}
        />
      </Field>
      <Field label="Unit" htmlFor="lock-unit">
        <NativeSelect
          id="lock-unit"
          disabled={!mode}
          value={unit}
          onChange={(event) => setUnit(event.target.value as "days" | "years")}
        >
          <option value="days">Days</option>
          <option value="years">Years</option>
        </NativeSelect>
      </Field>
      <Button
        disabled={mutation.isPending}
        onClick={() => (lock.enabled ? mutation.mutate(body()) : setConfirming(true))}
      >
        {lock.enabled ? "Save retention" : "Enable Object Lock"}
      </Button>
      <ConfirmDialog
        open={confirming}
        onOpenChange={setConfirming}
        title="Enable Object Lock?"
        description="Object Lock cannot be turned off again. Versioning must be enabled."
        confirmLabel="Enable Object Lock"
        pending={mutation.isPending}
        onConfirm={() => mutation.mutate(body())}
      />
    </div>
  );
}

export function ObjectLockTab({ bucket }: { bucket: string }) {
  const query = useQuery({
    queryKey: ["buckets", bucket, "object-lock"],
    queryFn: () => getBucketObjectLock(bucket),
  });
  if (query.isPending) return <SkeletonRows rows={2} />;
  if (query.error) return <EmptyState title="Not available" description={query.error.message} />;
  const lock = query.data;
  return (
    <Card>
      <p className="font-medium">
        Object Lock:{" "}
        <Badge tone={lock.enabled ? "info" : "muted"}>{lock.enabled ? "Enabled" : "Off"}</Badge>
      </p>
      <p className="mt-1 text-sm text-muted-fg">
        {lock.enabled
          ? lock.mode
            ? `New versions are retained in ${lock.mode} mode for ${
                lock.years ? `${lock.years} years` : `${lock.days} days`
              }.`
            : "No default retention: versions are protected only when a client asks."
          : "Locked versions cannot be deleted or overwritten until their retention ends."}
      </p>
      <RetentionForm bucket={bucket} lock={lock} />
    </Card>
  );
}
