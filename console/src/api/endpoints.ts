// One function per console API route, named after it (STYLE.md §6).
import { request, requestBlob } from "./client";
import type {
  AccessKey,
  ApiRoot,
  AuditFilters,
  AuditPage,
  Bucket,
  BucketTag,
  CorsRule,
  CreateBucketRequest,
  CreateUserRequest,
  Group,
  Lifecycle,
  LoginResponse,
  NewAccessKey,
  ObjectLock,
  Policy,
  S3Credentials,
  Session,
  Setting,
  Tenant,
  TenantRequest,
  TrafficSamples,
  TwoFactorSetup,
  TwoFactorStatus,
  User,
  UserDetail,
  UserGrants,
  Versioning,
} from "./types";

const segment = encodeURIComponent;

export const login = (username: string, password: string) =>
  request<LoginResponse>("/auth/login", {
    method: "POST",
    body: { username, password },
    anonymous: true,
  });

export const verifyTwoFactor = (tempToken: string, code: string) =>
  request<Session>("/auth/2fa/verify", {
    method: "POST",
    body: { temp_token: tempToken, code },
    anonymous: true,
  });

export const logout = () => request<unknown>("/auth/logout", { method: "POST" });
export const getMe = () => request<User>("/auth/me");
export const mintS3Credentials = (durationSeconds: number) =>
  request<S3Credentials>("/auth/s3-credentials", { method: "POST", body: { durationSeconds } });
export const getApiRoot = () => request<ApiRoot>("/", { anonymous: true });

export const listBuckets = () => request<{ buckets: Bucket[]; total: number }>("/buckets");
export const createBucket = (body: CreateBucketRequest) =>
  request<Bucket>("/buckets", { method: "POST", body });
export const deleteBucket = (name: string) =>
  request<unknown>(`/buckets/${segment(name)}`, { method: "DELETE" });
export const getBucket = (name: string) => request<Bucket>(`/buckets/${segment(name)}`);

export const getBucketVersioning = (name: string) =>
  request<Versioning>(`/buckets/${segment(name)}/versioning`);
export const putBucketVersioning = (name: string, status: "Enabled" | "Suspended") =>
  request<Versioning>(`/buckets/${segment(name)}/versioning`, {
    method: "PUT",
    body: { status },
  });
export const getBucketObjectLock = (name: string) =>
  request<ObjectLock>(`/buckets/${segment(name)}/object-lock`);
export const putBucketObjectLock = (name: string, body: ObjectLock) =>
  request<ObjectLock>(`/buckets/${segment(name)}/object-lock`, { method: "PUT", body });
export const getBucketLifecycle = (name: string) =>
  request<Lifecycle>(`/buckets/${segment(name)}/lifecycle`);
export const putBucketLifecycle = (name: string, body: Lifecycle) =>
  request<Lifecycle>(`/buckets/${segment(name)}/lifecycle`, { method: "PUT", body });
export const deleteBucketLifecycle = (name: string) =>
  request<unknown>(`/buckets/${segment(name)}/lifecycle`, { method: "DELETE" });

/** A bucket's CORS rules, policy or tags: read, replace (`PUT`) or remove (`DELETE`). */
const bucketPart = <T>(part: string) => ({
  get: (name: string) => request<T>(`/buckets/${segment(name)}/${part}`),
  put: (name: string, body: T) =>
    request<T>(`/buckets/${segment(name)}/${part}`, { method: "PUT", body }),
  remove: (name: string) => request<T>(`/buckets/${segment(name)}/${part}`, { method: "DELETE" }),
});
export const bucketCors = bucketPart<{ rules: CorsRule[] }>("cors");
export const bucketPolicy = bucketPart<{ policy: string | null }>("policy");
export const bucketTagging = bucketPart<{ tags: BucketTag[] }>("tagging");

export const listUsers = () => request<{ users: User[]; total: number }>("/users");
export const createUser = (body: CreateUserRequest) =>
  request<User>("/users", { method: "POST", body });
export const deleteUser = (user: string) =>
  request<unknown>(`/users/${segment(user)}`, { method: "DELETE" });
export const getUser = (user: string) => request<UserDetail>(`/users/${segment(user)}`);

export const listTenants = () => request<{ tenants: Tenant[]; total: number }>("/tenants");
export const createTenant = (body: TenantRequest) =>
  request<Tenant>("/tenants", { method: "POST", body });
export const updateTenant = (tenant: string, body: TenantRequest) =>
  request<Tenant>(`/tenants/${segment(tenant)}`, { method: "PUT", body });
export const deleteTenant = (tenant: string) =>
  request<unknown>(`/tenants/${segment(tenant)}`, { method: "DELETE" });

export const listPolicies = () => request<{ policies: Policy[]; total: number }>("/policies");
export const getPolicy = (policy: string) => request<Policy>(`/policies/${segment(policy)}`);
export const createPolicy = (body: { name: string; document: string }) =>
  request<Policy>("/policies", { method: "POST", body });
export const updatePolicy = (policy: string, body: { name?: string; document?: string }) =>
  request<Policy>(`/policies/${segment(policy)}`, { method: "PUT", body });
export const deletePolicy = (policy: string) =>
  request<unknown>(`/policies/${segment(policy)}`, { method: "DELETE" });

export const listGroups = () => request<{ groups: Group[]; total: number }>("/groups");
export const createGroup = (name: string) =>
  request<Group>("/groups", { method: "POST", body: { name } });
export const deleteGroup = (group: string) =>
  request<unknown>(`/groups/${segment(group)}`, { method: "DELETE" });
/** Adds (`on`) or removes a group member; answers the group. */
export const setGroupMember = (group: string, user: string, on: boolean) =>
  request<Group>(`/groups/${segment(group)}/members/${segment(user)}`, {
    method: on ? "PUT" : "DELETE",
  });
/** Attaches (`on`) or detaches a policy; answers the group. */
export const setGroupPolicy = (group: string, policy: string, on: boolean) =>
  request<Group>(`/groups/${segment(group)}/policies/${segment(policy)}`, {
    method: on ? "PUT" : "DELETE",
  });
/** Attaches (`on`) or detaches a policy; answers the user's grants. */
export const setUserPolicy = (user: string, policy: string, on: boolean) =>
  request<UserGrants>(`/users/${segment(user)}/policies/${segment(policy)}`, {
    method: on ? "PUT" : "DELETE",
  });

export const listSettings = () => request<{ settings: Setting[]; total: number }>("/settings");
export const updateSettings = (settings: Record<string, boolean | number>) =>
  request<{ updated: string[] }>("/settings/bulk", { method: "POST", body: { settings } });

export const listAccessKeys = () =>
  request<{ access_keys: AccessKey[]; total: number }>("/access-keys");
export const listUserAccessKeys = (user: string) =>
  request<{ access_keys: AccessKey[]; total: number }>(`/users/${segment(user)}/access-keys`);
export const createAccessKey = (user: string) =>
  request<NewAccessKey>(`/users/${segment(user)}/access-keys`, { method: "POST" });
export const setAccessKeyStatus = (user: string, key: string, status: "active" | "inactive") =>
  request<AccessKey>(`/users/${segment(user)}/access-keys/${segment(key)}`, {
    method: "PUT",
    body: { status },
  });
export const deleteAccessKey = (user: string, key: string) =>
  request<unknown>(`/users/${segment(user)}/access-keys/${segment(key)}`, {
    method: "DELETE",
  });

export const getMetrics = () => request<TrafficSamples>("/metrics");

export const listAuditLogs = (filters: AuditFilters, page: number, pageSize: number) =>
  request<AuditPage>("/audit-logs", {
    query: { ...filters, page, page_size: pageSize },
  });
export const exportAuditLogs = (filters: AuditFilters) =>
  requestBlob("/audit-logs/export", { query: { ...filters, format: "csv" } });

export const getTwoFactorStatus = () => request<TwoFactorStatus>("/auth/2fa/status");
export const setupTwoFactor = () => request<TwoFactorSetup>("/auth/2fa/setup", { method: "POST" });
export const enableTwoFactor = (code: string) =>
  request<{ enabled: true; backup_codes: string[] }>("/auth/2fa/enable", {
    method: "POST",
    body: { code },
  });
export const disableTwoFactor = (body: { code?: string; password?: string }) =>
  request<{ enabled: false }>("/auth/2fa/disable", { method: "POST", body });
export const newBackupCodes = (code: string) =>
  request<{ backup_codes: string[] }>("/auth/2fa/backup-codes", { method: "POST", body: { code } });
export const changePassword = (user: string, currentPassword: string, newPassword: string) =>
  request<unknown>(`/users/${segment(user)}/password`, {
    method: "PUT",
    body: { current_password: currentPassword, new_password: newPassword },
  });
