// Shapes of the console API's answers (admin-api/README.md, docs/api/openapi.json).

export interface User {
  id: string;
  username: string;
  tenant_id: string | null;
  role: "global_admin" | "tenant_admin" | "user" | string;
  status: string;
  email?: string | null;
  display_name?: string | null;
  two_factor_enabled?: boolean;
  locked?: boolean;
  locked_until?: string | null;
  created_at?: string;
  updated_at?: string;
  root?: boolean;
}

export interface Session {
  token: string;
  token_type?: string;
  expires_at?: string;
  expires_in?: number;
  user?: User;
}

export interface TwoFactorChallenge {
  requires_2fa: true;
  temp_token: string;
  expires_in?: number;
}

export type LoginResponse = Session | TwoFactorChallenge;

export interface Bucket {
  name: string;
  created_at: string;
  tenant_id: string | null;
  tenant_name: string | null;
  owner_id: string | null;
  owner: string | null;
  object_count: number;
  size: number;
}

export type VersioningStatus = "Enabled" | "Suspended" | null;

export interface Versioning {
  status: VersioningStatus;
}

export type RetentionMode = "GOVERNANCE" | "COMPLIANCE";

export interface ObjectLock {
  enabled: boolean;
  mode: RetentionMode | null;
  days: number | null;
  years: number | null;
}

export interface LifecycleRule {
  id?: string;
  status: "Enabled" | "Disabled";
  filter?: {
    prefix?: string;
    tags?: { key: string; value: string }[];
    objectSizeGreaterThan?: number | null;
    objectSizeLessThan?: number | null;
  };
  expiration?: { days?: number; date?: string; expiredObjectDeleteMarker?: boolean } | null;
  noncurrentVersionExpiration?: {
    noncurrentDays?: number;
    newerNoncurrentVersions?: number;
  } | null;
  abortIncompleteMultipartUpload?: { daysAfterInitiation: number } | null;
}

export interface Lifecycle {
  rules: LifecycleRule[];
}

export interface CreateBucketRequest {
  name: string;
  versioning?: { status: "Enabled" | "Suspended" };
  objectLock?: Partial<ObjectLock> & { enabled: boolean };
}

export interface AccessKey {
  access_key_id: string;
  user_id: string;
  username: string;
  status: "active" | "inactive" | string;
  created_at: string;
}

export interface NewAccessKey extends AccessKey {
  secret_access_key: string;
}

export interface CreateUserRequest {
  username: string;
  password: string;
  role: "global_admin" | "tenant_admin" | "user";
  tenant_id?: string;
  email?: string;
  display_name?: string;
}

export interface Tenant {
  id: string;
  name: string;
  display_name?: string | null;
  status: "active" | "disabled" | string;
  /** Quotas: `null` means none. */
  max_storage_bytes?: number | null;
  max_buckets?: number | null;
  max_access_keys?: number | null;
  created_at?: string;
  updated_at?: string;
}

/** A tenant's create or change body: a quota `null` removes it. */
export interface TenantRequest {
  name?: string;
  display_name?: string;
  status?: "active" | "disabled";
  max_storage_bytes?: number | null;
  max_buckets?: number | null;
  max_access_keys?: number | null;
}

export interface PolicySummary {
  id: string;
  name: string;
  builtin: boolean;
}

export interface Policy extends PolicySummary {
  tenant_id: string | null;
  description: string | null;
  /** The policy document's JSON text, as stored. */
  document: string;
  created_at?: string;
  updated_at?: string;
  attached_users?: number;
  attached_groups?: number;
}

export interface Group {
  id: string;
  name: string;
  tenant_id: string | null;
  members: { id: string; username: string }[];
  policies: PolicySummary[];
  created_at?: string;
  updated_at?: string;
}

export interface UserGrants {
  policies: PolicySummary[];
  groups: { id: string; name: string }[];
  effective_policies: { id: string; name: string; via_group: string | null }[];
}

export type UserDetail = User & UserGrants;

export interface Setting {
  key: string;
  value: boolean | number | string;
  default: boolean | number | string;
  type: "bool" | "int" | string;
  category: string;
  description: string;
  /** Bounds of an `int` setting, inclusive. */
  min?: number;
  max?: number;
  updated_at: string | null;
  updated_by: string | null;
}

export interface AuditEntry {
  id: number;
  timestamp: string;
  timestamp_ms: number;
  source: "console" | "s3";
  tenant_id: string | null;
  user_id: string | null;
  username: string | null;
  event_type: string;
  resource_type: string | null;
  resource: string | null;
  action: string;
  status: "success" | "failed" | "denied";
  http_status: number | null;
  ip: string | null;
  user_agent: string | null;
  request_id: string | null;
  details: unknown;
}

export interface AuditPage {
  logs: AuditEntry[];
  total: number;
  page: number;
  page_size: number;
}

export interface AuditFilters {
  event_type?: string;
  status?: string;
  source?: string;
  resource?: string;
  user_id?: string;
  start_date?: string;
  end_date?: string;
}

export interface ApiRoot {
  name: string;
  version: string;
  api_version: string;
  endpoints: Record<string, string>;
}

export interface TwoFactorStatus {
  enabled: boolean;
  setup_pending?: boolean;
  backup_codes_remaining: number;
}

export interface TwoFactorSetup {
  secret: string;
  otpauth_url: string;
  /** An SVG QR code as a data: URI (the CSP allows data: images). */
  qr_code: string;
}

/** One sample of the data plane's traffic (control::metrics): counters since its start,
 * latencies over its sliding window. */
export interface TrafficSample {
  at_unix_ms: number;
  shard_count: number;
  operations: {
    operation: string;
    requests: number;
    client_errors: number;
    server_errors: number;
    p50_ms: number | null;
    p99_ms: number | null;
  }[];
  shards: {
    shard: number;
    requests: number;
    in_flight: number;
    connections_open: number;
    received_bytes: number;
    sent_bytes: number;
  }[];
}

export interface TrafficSamples {
  interval_seconds: number;
  max_samples: number;
  samples: TrafficSample[];
}

/** A bucket CORS rule in the console API (S3's element names in camelCase). */
export interface CorsRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

export interface BucketTag {
  key: string;
  value: string;
}

/** `POST /auth/s3-credentials`: short-lived S3 credentials of the logged-in user, and where
 * to use them (the S3 port's URL as a browser reaches it; null when the admin was not told). */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: string;
  /** Unix seconds. */
  expiresAt: number;
  endpoint: string | null;
  region: string;
}
