// Table types of the Hangar database (one interface per table), shared by SQLite and PostgreSQL.
import type { Insertable, Selectable } from 'kysely';

/** JSON documents are stored as text in both dialects so one migration set serves both. */
export type JsonText = string;

export interface TenantTable {
  name: string;
  description: string | null;
  quotas: JsonText;
  created_at: string;
  updated_at: string;
}

export interface ModelTable {
  id: string;
  /** Qualified: `name` in the default tenant, `~tenant/name` in another (src/tenants/tenant-names.ts). */
  name: string;
  tenant: string;
  description: string | null;
  tags: JsonText;
  created_at: string;
  updated_at: string;
}

export interface ModelVersionTable {
  id: string;
  model_id: string;
  version: number;
  format: string;
  size_bytes: number;
  architecture: string | null;
  parameter_count: number | null;
  context_length: number | null;
  quantization: string | null;
  manifest: JsonText;
  metadata: JsonText;
  source: JsonText;
  description: string | null;
  tags: JsonText;
  created_by: string;
  created_at: string;
  metrics: JsonText;
  parameters: JsonText;
  feature_names: JsonText;
  training: JsonText;
}

export interface VersionFileTable {
  version_id: string;
  path: string;
  sha256: string;
  size_bytes: number;
}

export interface ModelAliasTable {
  model_id: string;
  alias: string;
  version_id: string;
  updated_at: string;
}

export interface AuditEventTable {
  id: string;
  tenant: string;
  at: string;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  request_id: string | null;
  details: JsonText;
}

export interface RuntimeMeasurementTable {
  version_id: string;
  device: string;
  backend: string;
  peak_rss_bytes: number;
  vram_bytes: number | null;
  load_ms: number;
  measured_at: string;
}

export interface ApiKeyTable {
  id: string;
  name: string;
  role: string;
  salt: string;
  hash: string;
  created_at: string;
  created_by: string;
  expires_at: string | null;
  revoked_at: string | null;
  last_used_at: string | null;
  /** Null for a system key. */
  tenant: string | null;
  previous_salt: string | null;
  previous_hash: string | null;
  previous_valid_until: string | null;
  rotated_at: string | null;
}

export interface DeploymentEventTable {
  id: string;
  model_id: string;
  seq: number;
  action: string;
  from_version: number | null;
  to_version: number | null;
  actor: string;
  reason: string | null;
  request_id: string | null;
  at: string;
}

export interface JobTable {
  id: string;
  tenant: string;
  kind: string;
  status: string;
  dedupe_key: string;
  request: JsonText;
  progress: JsonText;
  result: JsonText;
  error: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface VersionIntegrityTable {
  version_id: string;
  valid: number;
  report: JsonText;
  checked_at: string;
}

export interface Database {
  tenants: TenantTable;
  models: ModelTable;
  model_versions: ModelVersionTable;
  version_files: VersionFileTable;
  model_aliases: ModelAliasTable;
  audit_events: AuditEventTable;
  runtime_measurements: RuntimeMeasurementTable;
  api_keys: ApiKeyTable;
  deployment_events: DeploymentEventTable;
  jobs: JobTable;
  version_integrity: VersionIntegrityTable;
}

export type ModelRow = Selectable<ModelTable>;
export type ModelVersionRow = Selectable<ModelVersionTable>;
export type NewModelVersion = Insertable<ModelVersionTable>;
export type AuditEventRow = Selectable<AuditEventTable>;
export type JobRow = Selectable<JobTable>;
