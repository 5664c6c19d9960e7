// Persistence of background jobs: rows in the `jobs` table and their API form.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { Database, JobRow } from '../db/schema.ts';
import { NotFound } from '../errors.ts';
import type { JobInfoWithoutRate } from '../schemas/hub.ts';
import { tenantNotFound, tenantOfName } from '../tenants/tenant-names.ts';
import { assertWithinQuota } from '../tenants/quotas.ts';
import { countActiveDownloads, lockTenant, type TenantRecord } from '../tenants/tenant-store.ts';

/**
 * `ollama_pull`: a pull through an Ollama server's /api/pull (run by src/runtime/ollama/ollama-pull.ts); `quantize`: a
 * quantization of a stored version (run by src/quantize/quantize-jobs.ts). Neither is run by the hub queue.
 */
export type JobKind = 'download' | 'repair' | 'ollama_pull' | 'quantize';
/** The kinds the hub download queue runs. */
const HUB_JOB_KINDS: JobKind[] = ['download', 'repair'];
export type JobStatus = 'queued' | 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';
export const ACTIVE_STATUSES: JobStatus[] = ['queued', 'running', 'paused'];

export interface JobRequest {
  repo_id: string;
  revision: string;
  variant: string | null;
  name: string;
  force_redownload: boolean;
  /** Repair jobs: the version whose files are replaced. */
  version_id?: string;
  /** Glob patterns of further repo files to fetch, and of files to leave out (never the ones the format needs). */
  allow?: string[];
  ignore?: string[];
  /** Quantize jobs, and downloads that quantize what they fetched: the type asked for (Q4_K_M, q8…) and, for a stored source, which version. */
  quantize?: QuantizeJobRequest;
}

export interface QuantizeJobRequest {
  /** The type as resolved for the format (Q4_K_M, fp16…). */
  type: string;
  /** The source version (`model:version`) and its id; absent when a download quantizes what it fetched. */
  source?: string;
  source_version_id?: string;
  /** Ollama create's settings for the new version (metadata.ollama). */
  ollama?: Record<string, unknown>;
}

export type FileStatus = 'pending' | 'downloading' | 'verified' | 'present' | 'quantizing' | 'stored';

export interface JobFile {
  path: string;
  size_bytes: number;
  sha256: string | null;
  git_oid: string | null;
  bytes_done: number;
  status: FileStatus;
}

export interface JobPlan {
  commit_sha: string;
  variant: string;
  quantization: string;
  format: 'gguf' | 'onnx' | 'ollama' | 'safetensors' | 'diffusers';
  entry: string;
  files: JobFile[];
  /** Bytes received from the hub (resumed bytes and present files not counted). */
  bytes_fetched: number;
  retries: number;
}

export interface StoredJob {
  id: string;
  kind: JobKind;
  status: JobStatus;
  request: JobRequest;
  plan: JobPlan;
  result: Record<string, unknown>;
  error: { code: string; message: string } | null;
  row: JobRow;
}

function parseError(text: string | null): { code: string; message: string } | null {
  if (!text) return null;
  try {
    const parsed = JSON.parse(text) as { code?: string; message?: string };
    return { code: String(parsed.code ?? 'error'), message: String(parsed.message ?? text) };
  } catch {
    return { code: 'error', message: text };
  }
}

export function fromRow(row: JobRow): StoredJob {
  return {
    id: row.id,
    kind: row.kind as JobKind,
    status: row.status as JobStatus,
    request: JSON.parse(row.request) as JobRequest,
    plan: JSON.parse(row.progress) as JobPlan,
    result: JSON.parse(row.result) as Record<string, unknown>,
    error: parseError(row.error),
    row,
  };
}

export function toJobInfo(job: StoredJob): JobInfoWithoutRate {
  const total = job.plan.files.reduce((sum, f) => sum + f.size_bytes, 0);
  const done = job.plan.files.reduce((sum, f) => sum + Math.min(f.bytes_done, f.size_bytes), 0);
  return {
    id: job.id,
    kind: job.kind,
    status: job.status,
    repo_id: job.request.repo_id,
    revision: job.request.revision,
    commit_sha: job.plan.commit_sha,
    variant: job.plan.variant,
    quantization: job.plan.quantization,
    format: job.plan.format,
    model: job.request.name,
    tenant: job.row.tenant,
    force_redownload: job.request.force_redownload,
    progress: {
      bytes_done: done,
      bytes_total: total,
      percent: total === 0 ? 100 : Math.floor((done / total) * 1000) / 10,
      bytes_fetched: job.plan.bytes_fetched,
      retries: job.plan.retries,
      files: job.plan.files,
    },
    quantize: job.request.quantize ? { type: job.request.quantize.type, source: job.request.quantize.source ?? null } : null,
    result: Object.keys(job.result).length ? job.result : null,
    error: job.error,
    created_by: job.row.created_by,
    created_at: job.row.created_at,
    updated_at: job.row.updated_at,
    started_at: job.row.started_at,
    finished_at: job.row.finished_at,
  };
}

/** One more running download must fit the tenant's concurrent_downloads quota; the caller holds the tenant's lock. */
async function assertDownloadSlot(trx: Transaction<Database>, tenant: string, owner: TenantRecord): Promise<void> {
  if (owner.quotas.concurrent_downloads === undefined) return;
  assertWithinQuota(tenant, owner.quotas, 'concurrent_downloads', await countActiveDownloads(trx, tenant), 1);
}

export class JobStore {
  private readonly db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.db = db;
  }

  /**
   * Records a queued job, owned by the tenant of the model it creates. A download counts against the tenant's
   * concurrent_downloads quota, checked under the tenant's lock so parallel submits cannot both slip under it.
   */
  async insert(kind: JobKind, request: JobRequest, plan: JobPlan, dedupeKey: string, actor: string): Promise<StoredJob> {
    const now = new Date().toISOString();
    const tenant = tenantOfName(request.name);
    const row: JobRow = {
      id: randomUUID(),
      tenant,
      kind,
      status: 'queued',
      dedupe_key: dedupeKey,
      request: JSON.stringify(request),
      progress: JSON.stringify(plan),
      result: '{}',
      error: null,
      created_by: actor,
      created_at: now,
      updated_at: now,
      started_at: null,
      finished_at: null,
    };
    await this.db.transaction().execute(async (trx) => {
      const owner = await lockTenant(trx, tenant);
      if (!owner) throw tenantNotFound(tenant);
      if (kind === 'download') await assertDownloadSlot(trx, tenant, owner);
      await trx.insertInto('jobs').values(row).execute();
    });
    return fromRow(row);
  }

  /**
   * Queues a paused download again, counting it against its tenant's concurrent_downloads under the tenant's lock
   * (a pause and resume must not let more downloads run than the quota allows).
   */
  async resumePaused(job: StoredJob): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const tenant = job.row.tenant;
      const owner = await lockTenant(trx, tenant);
      if (job.row.kind === 'download' && owner) await assertDownloadSlot(trx, tenant, owner);
      await trx
        .updateTable('jobs')
        .set({ status: 'queued', updated_at: new Date().toISOString() })
        .where('id', '=', job.row.id)
        .where('status', '=', 'paused')
        .execute();
    });
  }

  /** A job by id; with `tenant`, only that tenant's (another tenant's job is reported as missing). */
  async get(id: string, tenant?: string): Promise<StoredJob> {
    const row = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row || (tenant !== undefined && row.tenant !== tenant)) throw new NotFound(`Job ${id} not found`, { job_id: id }, 'job_not_found');
    return fromRow(row);
  }

  async findActive(dedupeKey: string): Promise<StoredJob | null> {
    const row = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('dedupe_key', '=', dedupeKey)
      .where('status', 'in', ACTIVE_STATUSES)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    return row ? fromRow(row) : null;
  }

  async list(query: { status?: string; kind?: string; limit: number; before?: string; tenant?: string }): Promise<StoredJob[]> {
    let q = this.db.selectFrom('jobs').selectAll();
    if (query.tenant) q = q.where('tenant', '=', query.tenant);
    if (query.status) q = q.where('status', '=', query.status);
    if (query.kind) q = q.where('kind', '=', query.kind);
    if (query.before) q = q.where('created_at', '<', query.before);
    const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(query.limit).execute();
    return rows.map(fromRow);
  }

  /** Every job still queued, running or paused (the most of each status). */
  async listActive(limit = 1000): Promise<StoredJob[]> {
    const active: StoredJob[] = [];
    for (const status of ACTIVE_STATUSES) active.push(...(await this.list({ status, limit })));
    return active;
  }

  async nextQueued(exclude: Set<string>): Promise<StoredJob | null> {
    const rows = await this.db
      .selectFrom('jobs')
      .selectAll()
      .where('status', '=', 'queued')
      .where('kind', 'in', HUB_JOB_KINDS)
      .orderBy('created_at')
      .limit(exclude.size + 1)
      .execute();
    const row = rows.find((r) => !exclude.has(r.id));
    return row ? fromRow(row) : null;
  }

  async update(
    id: string,
    fields: {
      status?: JobStatus;
      plan?: JobPlan;
      result?: Record<string, unknown>;
      error?: { code: string; message: string } | null;
      started?: boolean;
      finished?: boolean;
    },
  ): Promise<void> {
    const now = new Date().toISOString();
    await this.db
      .updateTable('jobs')
      .set({
        updated_at: now,
        ...(fields.status ? { status: fields.status } : {}),
        ...(fields.plan ? { progress: JSON.stringify(fields.plan) } : {}),
        ...(fields.result ? { result: JSON.stringify(fields.result) } : {}),
        ...(fields.error !== undefined ? { error: fields.error ? JSON.stringify(fields.error) : null } : {}),
        ...(fields.started ? { started_at: now } : {}),
        ...(fields.finished ? { finished_at: now } : {}),
      })
      .where('id', '=', id)
      .execute();
  }

  /** Moves job `id` from status `from` to `fields.status` in one statement; false when it was no longer `from`. */
  async transition(id: string, from: JobStatus, fields: { status: JobStatus; started?: boolean; finished?: boolean }): Promise<boolean> {
    const now = new Date().toISOString();
    const result = await this.db
      .updateTable('jobs')
      .set({
        status: fields.status,
        updated_at: now,
        ...(fields.started ? { started_at: now } : {}),
        ...(fields.finished ? { finished_at: now } : {}),
      })
      .where('id', '=', id)
      .where('status', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows ?? 0) > 0;
  }

  /** Jobs a stopped or killed server left running go back to the queue (an Ollama pull cannot be resumed from here: it fails). */
  async requeueInterrupted(): Promise<number> {
    const now = new Date().toISOString();
    await this.db
      .updateTable('jobs')
      .set({
        status: 'failed',
        updated_at: now,
        finished_at: now,
        error: JSON.stringify({ code: 'download_failed', message: 'interrupted by a server restart; pull again' }),
      })
      .where('status', 'in', ['running', 'queued'])
      .where('kind', '=', 'ollama_pull')
      .execute();
    // A quantization starts again from its source (llama.cpp cannot resume one); its queue (QuantizeJobs) picks it up.
    const result = await this.db
      .updateTable('jobs')
      .set({ status: 'queued', updated_at: now })
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(result.numUpdatedRows ?? 0);
  }
}
