// Quantize jobs: accept (checks first), run one at a time in the background, report progress on the job stream, cancel, and resume after a restart.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';
import type { DownloadJobs } from '../hub/download-jobs.ts';
import { ACTIVE_STATUSES, toJobInfo, type JobPlan, type JobStore, type StoredJob } from '../hub/job-store.ts';
import { quickCheckVersion, validateVersion } from '../hub/integrity.ts';
import type { EventSink, QuantizeEventType } from '../events/event-types.ts';
import { recordAuditEvent, type ActionContext } from '../registry/audit.ts';
import type { ModelCatalog, ResolvedVersion } from '../registry/catalog.ts';
import { parseModelRef } from '../registry/model-name.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { JobInfoWithoutRate, JobMessage } from '../schemas/hub.ts';
import type { VersionManifest } from '../schemas/models.ts';
import { Conflict, HangarError, InvalidInput } from '../errors.ts';
import { qualifiedName, TENANT_MARK, tenantOfName } from '../tenants/tenant-names.ts';
import { SerialLock } from '../store/serial-lock.ts';
import { isFullPrecisionQuantization, quantizationTarget, type QuantizationTarget } from './quantization-types.ts';
import { fullPrecisionOrigin } from './quantization-source.ts';
import { commitQuantized, discardOutput, quantizedEntryName, runQuantization, type QuantizedOutput } from './quantize-version.ts';

export interface QuantizeJobsOptions {
  db: Kysely<Database>;
  store: JobStore;
  /** The job stream (messages) and the job API's cancel, shared with downloads. */
  jobs: DownloadJobs;
  catalog: ModelCatalog;
  blobs: BlobStore;
  /** Threads and CPU priority for the quantizer, as for runners (runtime.threads, runtime.runner_nice). */
  threads: () => number;
  nice: () => number;
  bus?: EventSink;
  logger: Logger;
}

/** What to quantize: a model ref (`name`, `name:3`, `name:alias`), the type, and optionally another model to create the version under. */
export interface QuantizeRequest {
  model: string;
  type: string;
  name?: string;
  /** Ollama create's Modelfile settings (system, template, parameters…) for the new version, over the source's own. */
  ollama?: Record<string, unknown>;
}

export interface QuantizeStarted {
  job: JobInfoWithoutRate;
  deduplicated: boolean;
}

/** Progress is written to the job row at most this often (messages go out at most every 100 ms). */
const SAVE_EVERY_MS = 1000;
const EMIT_EVERY_MS = 100;

const BUS_EVENT_OF: Partial<Record<JobMessage['type'], QuantizeEventType>> = {
  download_completed: 'quantize.completed',
  download_failed: 'quantize.failed',
  download_cancelled: 'quantize.cancelled',
};

/** The source as `model:version`, the form job listings and lineage name it by. */
const refOf = (resolved: ResolvedVersion) => `${resolved.model.name}:${resolved.version.version}`;

/**
 * The model a quantization is created under: a quantized version stays in its source's tenant (its quotas count it,
 * its callers see it), so a name without a tenant prefix is taken in that tenant and another tenant's name is refused.
 */
function destinationIn(source: ResolvedVersion, name: string | undefined): string {
  if (name === undefined) return source.model.name;
  const tenant = tenantOfName(source.model.name);
  if (!name.startsWith(TENANT_MARK)) return qualifiedName(tenant, name);
  if (tenantOfName(name) !== tenant) {
    throw new InvalidInput(
      `A quantization stays in its source's tenant: "${name.slice(0, 160)}" is not a name of tenant "${tenant}"`,
      { name: name.slice(0, 160), tenant },
      'invalid_model_name',
    );
  }
  return name;
}

export class QuantizeJobs {
  /** The running job: its abort, and when it has settled (a cancel waits for that, so nothing commits after it). */
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  /** Submits one at a time, so two identical requests cannot both miss the active job and start two. */
  private readonly submitting = new SerialLock();
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly o: QuantizeJobsOptions) {
    o.jobs.registerRunner('quantize', { cancel: (id) => this.cancel(id) });
  }

  /** Runs the quantize jobs a previous server left queued or running (they start again from their source). */
  async start(): Promise<void> {
    const queued = await this.o.store.list({ kind: 'quantize', status: 'queued', limit: 1000 });
    for (const job of queued.reverse()) this.schedule(job);
  }

  /**
   * Accepts a quantization: the source must exist, be full precision, intact (sizes) and the type valid for its format;
   * the disk must hold the output. An identical active job (same source version, type and destination) is joined.
   */
  submit(request: QuantizeRequest, context: ActionContext): Promise<QuantizeStarted> {
    return this.submitting.run(() => this.submitNow(request, context));
  }

  private async submitNow(request: QuantizeRequest, context: ActionContext): Promise<QuantizeStarted> {
    // A bad destination name is the caller's mistake whatever the source is: refused before the source is looked at.
    if (request.name !== undefined) parseModelRef(request.name);
    const served = await this.o.catalog.resolve(request.model);
    // A bare name that serves a quantized version means its full-precision origin; an explicit version is taken as it is.
    const resolved = parseModelRef(request.model).ref === undefined ? await fullPrecisionOrigin(this.o.catalog, served) : served;
    const target = this.targetFor(resolved, request.type);
    const name = destinationIn(resolved, request.name);
    parseModelRef(name);
    const key = JSON.stringify(['quantize', resolved.version.id, target.type, name, request.ollama ?? null]);
    const existing = await this.o.store.findActive(key);
    if (existing) return { job: toJobInfo(existing), deduplicated: true };
    const report = await quickCheckVersion({ db: this.o.db, store: this.o.blobs }, resolved);
    if (!report.valid) {
      throw new Conflict(
        `${refOf(resolved)} has damaged or missing files (${report.problems.slice(0, 3).join('; ')}); validate and repair it first`,
        { model: resolved.model.name, version: resolved.version.version, problems: report.problems },
        'integrity_failed',
      );
    }
    // The output is at most about the size of the source (F16 of an F32 model is half of it).
    await this.o.blobs.assertFreeSpace(resolved.version.size_bytes);
    const manifest = JSON.parse(resolved.version.manifest) as VersionManifest;
    const plan: JobPlan = {
      commit_sha: '',
      variant: target.type,
      quantization: target.type,
      format: target.format,
      entry: quantizedEntryName(manifest.entry, target),
      files: [
        {
          path: quantizedEntryName(manifest.entry, target),
          size_bytes: resolved.version.size_bytes,
          sha256: null,
          git_oid: null,
          bytes_done: 0,
          status: 'pending',
        },
      ],
      bytes_fetched: 0,
      retries: 0,
    };
    const job = await this.o.store.insert(
      'quantize',
      {
        repo_id: refOf(resolved),
        revision: '',
        variant: target.type,
        name,
        force_redownload: false,
        quantize: {
          type: target.type,
          source: refOf(resolved),
          source_version_id: resolved.version.id,
          ...(request.ollama ? { ollama: request.ollama } : {}),
        },
      },
      plan,
      key,
      context.actor,
    );
    await recordAuditEvent(this.o.db, context, {
      action: 'model.quantize',
      target: refOf(resolved),
      outcome: 'success',
      details: { job_id: job.id, type: target.type, name },
    });
    this.schedule(job);
    return { job: toJobInfo(job), deduplicated: false };
  }

  /** The target a version can be quantized to, or the reason it cannot (400 unknown type, 409 already quantized). */
  targetFor(resolved: ResolvedVersion, type: string): QuantizationTarget {
    const target = quantizationTarget(resolved.version.format, type);
    const from = resolved.version.quantization;
    if (!isFullPrecisionQuantization(from) || (from !== null && from.toLowerCase() === target.type.toLowerCase())) {
      throw new Conflict(
        `${refOf(resolved)} is already ${from}; quantize from a full-precision version (F32, F16, BF16 or fp32)`,
        { model: resolved.model.name, version: resolved.version.version, quantization: from, type: target.type },
        'already_quantized',
      );
    }
    return target;
  }

  /** Settles with the job once it has finished (completed, failed or cancelled). */
  async waitFor(id: string): Promise<JobInfoWithoutRate> {
    let listener: ((message: JobMessage) => void) | undefined;
    const finished = new Promise<JobInfoWithoutRate>((resolve) => {
      listener = (message: JobMessage) => {
        if (message.job_id !== id || message.type === 'download_progress') return;
        resolve(message.job);
      };
      this.o.jobs.on('message', listener);
    });
    try {
      // Listening first, then reading the state, so no message falls between the two.
      const job = await this.o.store.get(id);
      return ACTIVE_STATUSES.includes(job.status) ? await finished : toJobInfo(job);
    } finally {
      if (listener) this.o.jobs.off('message', listener);
    }
  }

  /**
   * Cancels a queued or running quantization and resolves once it has settled: the partial output is deleted, the source is
   * untouched, and no version is committed after this returns.
   */
  async cancel(id: string): Promise<void> {
    const running = this.running.get(id);
    if (running) {
      running.controller.abort();
      await running.done;
      return;
    }
    // Only a job still queued is cancelled here; one that started meanwhile is now in `running`.
    if (await this.o.store.transition(id, 'queued', { status: 'cancelled', finished: true })) {
      this.emit('download_cancelled', await this.o.store.get(id));
      return;
    }
    const started = this.running.get(id);
    if (started) {
      started.controller.abort();
      await started.done;
    }
  }

  /** Stops the running quantization for shutdown: it goes back to the queue and starts again at the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const { controller } of this.running.values()) controller.abort('shutdown');
    await this.queue.catch(() => undefined);
  }

  private schedule(job: StoredJob): void {
    // One quantization at a time: each uses every thread Hangar may use.
    this.queue = this.queue
      .then(() => this.run(job.id))
      .catch((error: unknown) => this.o.logger.error({ err: error }, 'quantize queue failed'));
  }

  private async run(id: string): Promise<void> {
    if (this.stopped) return;
    const controller = new AbortController();
    let settled = () => {};
    this.running.set(id, { controller, done: new Promise<void>((resolve) => (settled = resolve)) });
    try {
      // Claimed in one statement: a cancel that got there first leaves the job cancelled, never running.
      if (!(await this.o.store.transition(id, 'queued', { status: 'running', started: true }))) return;
      await this.runClaimed(id, controller);
    } finally {
      this.running.delete(id);
      settled();
    }
  }

  private async runClaimed(id: string, controller: AbortController): Promise<void> {
    const { store } = this.o;
    const job = await store.get(id);
    if (!job.request.quantize) return;
    let output: QuantizedOutput | null = null;
    try {
      const source = await this.o.catalog.resolve(job.request.quantize.source ?? '');
      if (source.version.id !== job.request.quantize.source_version_id) {
        throw new HangarError('version_not_found', `${job.request.quantize.source} was deleted and re-created; quantize it again`, {
          source: job.request.quantize.source,
        });
      }
      const target = this.targetFor(source, job.request.quantize.type);
      const plan = job.plan;
      const file = plan.files[0];
      this.emit('download_progress', { ...job, status: 'running', plan });
      // Integrity first: every file hashed against its manifest, so a damaged source never becomes a new version.
      const report = await untilAborted(validateVersion({ db: this.o.db, store: this.o.blobs }, source), controller.signal);
      if (!report.valid) {
        throw new Conflict(
          `${refOf(source)} failed validation (${report.problems.slice(0, 3).join('; ')}); repair it first`,
          { problems: report.problems },
          'integrity_failed',
        );
      }
      if (file) file.status = 'quantizing';
      let lastEmit = 0;
      let lastSave = Date.now();
      const manifest = JSON.parse(source.version.manifest) as VersionManifest;
      const input = {
        dir: await this.o.catalog.versionPath(source),
        manifest,
        format: target.format,
        from: { model: source.model.name, version: source.version.version, sha256: entrySha(manifest) },
      };
      output = await runQuantization(input, target, this.o.blobs.tempDir, {
        threads: this.o.threads(),
        nice: this.o.nice(),
        signal: controller.signal,
        onProgress: (fraction) => {
          if (file) file.bytes_done = Math.floor(file.size_bytes * Math.min(1, fraction));
          const now = Date.now();
          if (now - lastEmit >= EMIT_EVERY_MS) {
            lastEmit = now;
            this.emit('download_progress', { ...job, status: 'running', plan });
          }
          if (now - lastSave >= SAVE_EVERY_MS) {
            lastSave = now;
            void store.update(id, { plan }).catch(() => undefined);
          }
        },
      });
      if (controller.signal.aborted) throw controller.signal.reason;
      const version = await commitQuantized({
        catalog: this.o.catalog,
        store: this.o.blobs,
        name: job.request.name,
        target,
        output,
        input,
        source,
        ollama: job.request.quantize.ollama,
        signal: controller.signal,
        context: { actor: job.row.created_by },
      });
      output = null;
      const made = version.manifest.files.find((f) => f.path === version.manifest.entry);
      if (file) Object.assign(file, { status: 'stored', bytes_done: file.size_bytes, sha256: made?.sha256 ?? null });
      const result = {
        sha256: made?.sha256 ?? null,
        model: version.model,
        version: version.version,
        format: version.format,
        quantization: version.quantization,
        size_bytes: version.size_bytes,
        tensor_types: version.metadata.tensor_types,
      };
      await store.update(id, { status: 'completed', plan, result, error: null, finished: true });
      this.emit('download_completed', await store.get(id));
    } catch (error) {
      await this.settle(id, controller.signal, error);
    } finally {
      if (output) await discardOutput(output.tempFile);
    }
  }

  private async settle(id: string, signal: AbortSignal, error: unknown): Promise<void> {
    const { store } = this.o;
    if (signal.aborted && signal.reason === 'shutdown') {
      await store.update(id, { status: 'queued' });
      return;
    }
    if (signal.aborted) {
      await store.update(id, { status: 'cancelled', finished: true });
      this.emit('download_cancelled', await store.get(id));
      return;
    }
    const failure =
      error instanceof HangarError
        ? { code: error.code, message: error.message }
        : { code: 'quantization_failed', message: (error as Error).message };
    this.o.logger.warn({ job: id, err: error }, 'quantization failed');
    await store.update(id, { status: 'failed', error: failure, finished: true });
    this.emit('download_failed', await store.get(id));
  }

  private emit(type: JobMessage['type'], job: StoredJob): void {
    const info = toJobInfo(job);
    this.o.jobs.emit('message', { type, job_id: job.id, at: new Date().toISOString(), job: info, speed_bps: 0, eta_s: null });
    const busType = BUS_EVENT_OF[type];
    if (busType) {
      this.o.bus?.publish({
        type: busType,
        model: parseModelRef(job.request.name).name,
        version: typeof job.result.version === 'number' ? job.result.version : null,
        data: { job_id: job.id, source: job.request.quantize?.source ?? null, type: job.request.quantize?.type ?? '', error: info.error },
      });
    }
  }
}

/** `work`, or a rejection with the abort reason as soon as `signal` aborts (the work itself runs on to its end). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The sha256 of the file a quantization reads (the version's entry). */
function entrySha(manifest: VersionManifest): string | null {
  return manifest.files.find((f) => f.path === manifest.entry)?.sha256 ?? null;
}
