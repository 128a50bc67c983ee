import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { createTenant, updateTenant } from "../../api/endpoints";
import type { Tenant, TenantRequest } from "../../api/types";
import { Button } from "../../components/ui/Button";
import { Dialog } from "../../components/ui/Dialog";
import { Field, Input, invalidProps, NativeSelect } from "../../components/ui/Field";
import { toast } from "../../components/ui/Toast";
import { fieldsOf, tenantRequest, type TenantErrors, type TenantFields } from "./tenantForm";

/** Creates a tenant (`tenant` null) or changes one; mounted afresh for each opening. */
export function TenantDialog({ tenant, onClose }: { tenant: Tenant | null; onClose: () => void }) {
  const creating = tenant === null;
  const queryClient = useQueryClient();
  const [fields, setFields] = useState<TenantFields>(() => fieldsOf(tenant));
  const [errors, setErrors] = useState<TenantErrors>({});
  const mutation = useMutation({
    mutationFn: (body: TenantRequest) =>
      creating ? createTenant(body) : updateTenant(tenant.id, body),
    onSuccess: async (saved) => {
      toast.success(creating ? "Tenant created" : "Tenant saved", saved.name);
      await queryClient.invalidateQueries({ queryKey: ["tenants"] });
      onClose();
    },
    onError: (error) => toast.error(error, creating ? "Tenant not created" : "Tenant not saved"),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const checked = tenantRequest(fields, creating);
    setErrors(checked.errors ?? {});
    if (checked.body) mutation.mutate(checked.body);
  };
  const input = (key: keyof TenantFields, label: string, hint?: string, numeric = false) => (
    <Field label={label} htmlFor={`tenant-${key}`} hint={hint} error={errors[key]}>
      <Input
        id={`tenant-${key}`}
        inputMode={numeric ? "decimal" : undefined}
        value={fields[key]}
        {...invalidProps(`tenant-${key}`, errors[key])}
        onChange={(event) => setFields({ ...fields, [key]: event.target.value })}
      />
    </Field>
  );
  return (
    <Dialog
      open
      onOpenChange={(open) => (open ? undefined : onClose())}
      title={creating ? "Create tenant" : `Edit tenant ${tenant.name}`}
      description="Quotas are enforced by the data plane; leave one empty for no quota."
    >
      <form onSubmit={submit} noValidate className="grid grid-cols-2 gap-4">
        {creating ? input("name", "Name", "Lower-case letters, digits and '-'") : null}
        {input("displayName", "Display name")}
        {creating ? null : (
          <Field label="Status" htmlFor="tenant-status">
            <NativeSelect
              id="tenant-status"
              value={fields.status}
              onChange={(event) =>
                setFields({ ...fields, status: event.target.value as TenantFields["status"] })
              }
            >
              <option value="active">Active</option>
              <option value="disabled">Disabled</option>
            </NativeSelect>
          </Field>
        )}
        {input("storageGiB", "Storage quota (GiB)", "Empty: no quota", true)}
        {input("maxBuckets", "Max buckets", "Empty: no quota", true)}
        {input("maxAccessKeys", "Max access keys", "Empty: no quota", true)}
        <div className="col-span-2 flex justify-end gap-2">
          <Button variant="secondary" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" disabled={mutation.isPending}>
            {creating ? "Create tenant" : "Save tenant"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
