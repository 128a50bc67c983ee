// The tenant dialog's fields as text, checked here and turned into the API's body, so that a
// mistake is shown beside its field before anything is sent (the server checks again).
import type { Tenant, TenantRequest } from "../../api/types";

export interface TenantFields {
  name: string;
  displayName: string;
  status: "active" | "disabled";
  /** GiB, decimals allowed; empty: no quota. */
  storageGiB: string;
  maxBuckets: string;
  maxAccessKeys: string;
}

export type TenantErrors = Partial<Record<keyof TenantFields, string>>;

const GIB = 1024 ** 3;
// admin-api's valid_tenant_name: 1-64 of a-z, 0-9 and '-', not starting with '-' or tenant-.
const NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

export function fieldsOf(tenant: Tenant | null): TenantFields {
  const count = (value: number | null | undefined) =>
    value === null || value === undefined ? "" : String(value);
  const bytes = tenant?.max_storage_bytes;
  return {
    name: tenant?.name ?? "",
    displayName: tenant?.display_name ?? "",
    status: tenant?.status === "disabled" ? "disabled" : "active",
    storageGiB: bytes === null || bytes === undefined ? "" : String(+(bytes / GIB).toFixed(3)),
    maxBuckets: count(tenant?.max_buckets),
    maxAccessKeys: count(tenant?.max_access_keys),
  };
}

function quota(text: string, integer: boolean): number | null | "invalid" {
  const trimmed = text.trim();
  if (trimmed === "") return null;
  const value = Number(trimmed);
  if (!Number.isFinite(value) || value < 0) return "invalid";
  if (integer && !Number.isInteger(value)) return "invalid";
  return value;
}

/** The body to send (`creating`: with the name), or the errors per field. */
export function tenantRequest(
  fields: TenantFields,
  creating: boolean,
): { body: TenantRequest; errors: null } | { body: null; errors: TenantErrors } {
  const errors: TenantErrors = {};
  if (creating && (!NAME.test(fields.name) || fields.name.startsWith("tenant-"))) {
    errors.name = "1-64 of a-z, 0-9 and '-'; not starting with '-' or 'tenant-'";
  }
  const storage = quota(fields.storageGiB, false);
  if (storage === "invalid") errors.storageGiB = "A size in GiB (0 or more), or empty";
  const buckets = quota(fields.maxBuckets, true);
  if (buckets === "invalid") errors.maxBuckets = "A whole number (0 or more), or empty";
  const keys = quota(fields.maxAccessKeys, true);
  if (keys === "invalid") errors.maxAccessKeys = "A whole number (0 or more), or empty";
  if (Object.keys(errors).length > 0) return { body: null, errors };
  const body: TenantRequest = {
    display_name: fields.displayName.trim() || fields.name,
    status: fields.status,
    max_storage_bytes: storage === null ? null : Math.round((storage as number) * GIB),
    max_buckets: buckets as number | null,
    max_access_keys: keys as number | null,
  };
  if (creating) body.name = fields.name;
  return { body, errors: null };
}
