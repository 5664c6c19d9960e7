// Download jobs: accept, queue, pause, cancel and resume hub downloads, and settle each run (its work: download-run.ts); progress events.
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type { ModelCatalog } from '../registry/catalog.ts';
import type { BlobStore } from '../store/blob-store.ts';
import type { ActionContext } from '../registry/audit.ts';
import type { EventSink, DownloadEventType } from '../events/event-types.ts';
import { parseModelRef } from '../registry/model-name.ts';
import { Conflict, HangarError } from '../errors.ts';
import { KeyedLock } from '../store/serial-lock.ts';
import type { HubClient } from './hub-client.ts';
import { downloadJobKey, downloadRequestOf, planDownload } from './download-plan.ts';
import type { DownloadQuantizer } from './download-quantize-step.ts';
import { fetchJobFiles, finishJob } from './download-run.ts';
import { DownloadManager, DownloadStopped } from './download-manager.ts';
import type { DownloadTuning } from './file-download.ts';
import {
  type JobStore,
  toJobInfo,
  ACTIVE_STATUSES,
  type JobFile,
  type JobKind,
  type JobPlan,
  type JobRequest,
  type StoredJob,
} from './job-store.ts';
import type { DownloadRequest, JobInfoWithoutRate, JobMessage } from '../schemas/hub.ts';
import { ProgressTracker } from './progress.ts';

export type { JobMessage } from '../schemas/hub.ts';

export interface DownloadJobsOptions {
  store: JobStore;
  catalog: ModelCatalog;
  blobs: BlobStore;
  hub: () => HubClient;
  tuning: () => DownloadTuning & { maxConcurrentJobs: number };
  bus?: EventSink;
  logger: Logger;
  /** Downloads with `quantize` (src/quantize/quantize-download.ts): the type check at submit, and the quantize step that records the quantized version instead. */
  quantizer?: DownloadQuantizer;
}

/** A job kind another module runs (quantize jobs): the job API's cancel goes to it. */
export interface ExternalJobRunner {
  cancel(id: string): Promise<void>;
}

interface Running {
  controller: AbortController;
  done: Promise<void>;
  tracker: ProgressTracker;
}

/** The bus event of each job message but progress, which stays on the job stream. */
const BUS_EVENT_OF: Record<Exclude<JobMessage['type'], 'download_progress'>, DownloadEventType> = {
  download_completed: 'download.completed',
  download_failed: 'download.failed',
  download_paused: 'download.paused',
  download_cancelled: 'download.cancelled',
};

export class DownloadJobs extends EventEmitter<{ message: [JobMessage] }> {
  private readonly options: DownloadJobsOptions;
  readonly manager: DownloadManager;
  private readonly running = new Map<string, Running>();
  private readonly external = new Map<string, ExternalJobRunner>();
  private readonly submitting = new KeyedLock();
  private stopped = false;
  private pumping: Promise<void> = Promise.resolve();

  constructor(options: DownloadJobsOptions) {
    super();
    this.setMaxListeners(0);
    this.options = options;
    this.manager = new DownloadManager({
      dir: options.blobs.downloadsDir,
      tuning: () => options.tuning(),
      headers: () => options.hub().headers(),
    });
  }

  /** Lets the module that runs jobs of `kind` handle their cancel (they cannot be paused). */
  registerRunner(kind: JobKind, runner: ExternalJobRunner): void {
    this.external.set(kind, runner);
  }

  /** Re-queues jobs a previous server left running and starts the queue. */
  async start(): Promise<void> {
    const requeued = await this.options.store.requeueInterrupted();
    if (requeued) this.options.logger.info({ requeued }, 'resuming interrupted downloads');
    this.pump();
  }

  /** Accepts a download: checks the repo, variant and free disk now, then queues it (or joins an identical active job). */
  async submit(input: DownloadRequest, context: ActionContext): Promise<{ job: JobInfoWithoutRate; deduplicated: boolean }> {
    const request = downloadRequestOf(input);
    const key = downloadJobKey(request);
    // Identical requests one at a time: the hub round trip below lies between looking for the job and inserting it.
    return this.submitting.run(key, () => this.submitKeyed(request, key, context));
  }

  private async submitKeyed(
    request: JobRequest,
    key: string,
    context: ActionContext,
  ): Promise<{ job: JobInfoWithoutRate; deduplicated: boolean }> {
    const existing = await this.options.store.findActive(key);
    if (existing) {
      if (existing.status === 'paused') await this.resume(existing.id);
      return { job: toJobInfo(await this.options.store.get(existing.id)), deduplicated: true };
    }
    const plan = await planDownload(this.options.hub(), this.options.blobs, request, this.options.quantizer?.typeFor);
    // A download that quantizes also writes its output, at most about the size of what it fetched.
    const output = request.quantize ? plan.files.reduce((sum, f) => sum + f.size_bytes, 0) : 0;
    await this.assertDiskSpace(plan.files, output);
    const job = await this.options.store.insert('download', request, plan, key, context.actor);
    this.pump();
    return { job: toJobInfo(job), deduplicated: false };
  }

  /** Queues a repair: re-fetches `files` of a hub version and replaces their blobs; resolves when it ends. */
  async repair(request: JobRequest, plan: JobPlan, context: ActionContext): Promise<StoredJob> {
    await this.assertDiskSpace(plan.files);
    const job = await this.options.store.insert(
      'repair',
      request,
      plan,
      JSON.stringify(['repair', request.version_id, Date.now()]),
      context.actor,
    );
    this.pump();
    return new Promise((resolve) => {
      const listener = (message: JobMessage) => {
        if (message.job_id !== job.id || message.type === 'download_progress') return;
        this.off('message', listener);
        void this.options.store.get(job.id).then(resolve);
      };
      this.on('message', listener);
    });
  }

  private async assertDiskSpace(files: JobFile[], extraBytes = 0): Promise<void> {
    let needed = extraBytes;
    for (const file of files) if (file.status === 'pending') needed += await this.manager.remainingBytes({ url: '', ...file });
    await this.options.blobs.assertFreeSpace(needed);
  }

  /** With `tenant` (here and in list, pause, resume, cancel): only that tenant's jobs; another's is reported as missing. */
  async get(id: string, tenant?: string): Promise<JobInfoWithoutRate> {
    return toJobInfo(await this.options.store.get(id, tenant));
  }

  async list(query: { status?: string; kind?: string; limit?: number; before?: string; tenant?: string }): Promise<JobInfoWithoutRate[]> {
    return (await this.options.store.list({ ...query, limit: query.limit ?? 100 })).map(toJobInfo);
  }

  /** Live speed and ETA of a running job (zero / null otherwise). */
  rate(id: string): { speed_bps: number; eta_s: number | null } {
    return this.running.get(id)?.tracker.rate() ?? { speed_bps: 0, eta_s: null };
  }

  async pause(id: string, tenant?: string): Promise<JobInfoWithoutRate> {
    const job = await this.options.store.get(id, tenant);
    if (job.status === 'paused') return toJobInfo(job);
    if (!ACTIVE_STATUSES.includes(job.status))
      throw new Conflict(`Job ${id} is ${job.status}`, { job_id: id, status: job.status }, 'job_finished');
    if (this.external.has(job.kind)) {
      throw new Conflict(
        `A ${job.kind} job cannot be paused; cancel it and start it again`,
        { job_id: id, kind: job.kind },
        'job_not_pausable',
      );
    }
    const running = this.running.get(id);
    if (running) {
      running.controller.abort(new DownloadStopped('pause'));
      await running.done;
    } else {
      await this.options.store.update(id, { status: 'paused' });
      this.emitMessage('download_paused', await this.options.store.get(id));
    }
    return this.get(id);
  }

  async resume(id: string, tenant?: string): Promise<JobInfoWithoutRate> {
    const job = await this.options.store.get(id, tenant);
    if (job.status !== 'paused') {
      if (ACTIVE_STATUSES.includes(job.status)) return toJobInfo(job);
      throw new Conflict(`Job ${id} is ${job.status}; start a new download`, { job_id: id, status: job.status }, 'job_finished');
    }
    await this.options.store.resumePaused(job);
    this.pump();
    return this.get(id);
  }

  /** Cancels an active job and deletes its partial files (those no other job is fetching); with `tenant`, only that tenant's job. */
  async cancel(id: string, tenant?: string): Promise<JobInfoWithoutRate> {
    const job = await this.options.store.get(id, tenant);
    if (!ACTIVE_STATUSES.includes(job.status))
      throw new Conflict(`Job ${id} is already ${job.status}`, { job_id: id, status: job.status }, 'job_finished');
    const external = this.external.get(job.kind);
    if (external) {
      await external.cancel(id);
      return this.get(id);
    }
    const running = this.running.get(id);
    if (running) {
      running.controller.abort(new DownloadStopped('cancel'));
      await running.done;
    } else {
      await this.options.store.update(id, { status: 'cancelled', finished: true });
      await this.discardPartials(job);
      this.emitMessage('download_cancelled', await this.options.store.get(id));
    }
    return this.get(id);
  }

  /** Cancels the active jobs that would create versions of `name` or read its files (its deletion frees their partial files). */
  async cancelForModel(name: string): Promise<number> {
    const active = await this.options.store.listActive();
    // Its downloads, and the quantizations into it or from it (their source files are about to go).
    const modelOf = (ref: string | undefined) => (ref ? parseModelRef(ref).name : null);
    const targets = active.filter(
      (j) =>
        (j.kind === 'download' && modelOf(j.request.name) === name) ||
        (j.kind === 'quantize' && (modelOf(j.request.name) === name || modelOf(j.request.quantize?.source) === name)),
    );
    for (const job of targets) await this.cancel(job.id).catch(() => undefined);
    return targets.length;
  }

  /** Stops running downloads for shutdown; they stay queued and resume at the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const running of this.running.values()) running.controller.abort(new DownloadStopped('shutdown'));
    await Promise.all([...this.running.values()].map((r) => r.done));
    await this.pumping.catch(() => undefined);
  }

  private pump(): void {
    this.pumping = this.pumping
      .then(async () => {
        while (!this.stopped && this.running.size < this.options.tuning().maxConcurrentJobs) {
          const next = await this.options.store.nextQueued(new Set(this.running.keys()));
          if (!next) return;
          this.launch(next);
        }
      })
      .catch((error: unknown) => this.options.logger.error({ err: error }, 'download queue failed'));
  }

  private launch(job: StoredJob): void {
    const controller = new AbortController();
    const tracker = new ProgressTracker(job.plan.files);
    const entry: Running = { controller, tracker, done: Promise.resolve() };
    this.running.set(job.id, entry);
    entry.done = this.run(job, controller.signal, tracker).finally(() => {
      this.running.delete(job.id);
      this.pump();
    });
  }

  private async run(job: StoredJob, signal: AbortSignal, tracker: ProgressTracker): Promise<void> {
    const { store } = this.options;
    await store.update(job.id, { status: 'running', started: job.row.started_at === null });
    const plan = job.plan;
    const hub = this.options.hub();
    let lastEmit = 0;
    let lastSave = Date.now();
    const report = (force = false) => {
      const now = Date.now();
      plan.files = tracker.files();
      if (force || now - lastEmit >= 100) {
        lastEmit = now;
        this.emitMessage('download_progress', { ...job, status: 'running', plan }, tracker);
      }
      if (now - lastSave >= 1000) {
        lastSave = now;
        void store.update(job.id, { plan }).catch(() => undefined);
      }
    };
    const deps = { ...this.options, hub, manager: this.manager };
    try {
      report(true);
      const finished = await fetchJobFiles(deps, job, plan, tracker, report, signal);
      plan.files = tracker.files();
      const result = await finishJob(deps, job, plan, finished, signal, () =>
        this.emitMessage('download_progress', { ...job, status: 'running', plan }),
      );
      await store.update(job.id, { status: 'completed', plan, result, error: null, finished: true });
      this.emitMessage('download_completed', await store.get(job.id), tracker);
    } catch (error) {
      plan.files = tracker.files();
      await this.settle(job, plan, error);
    }
  }

  private async settle(job: StoredJob, plan: JobPlan, error: unknown): Promise<void> {
    const { store } = this.options;
    const stop = error instanceof DownloadStopped ? error.reason : null;
    if (stop === 'shutdown') {
      await store.update(job.id, { status: 'queued', plan });
      return;
    }
    if (stop === 'pause') {
      await store.update(job.id, { status: 'paused', plan });
      this.emitMessage('download_paused', await store.get(job.id));
      return;
    }
    if (stop === 'cancel') {
      await store.update(job.id, { status: 'cancelled', plan, finished: true });
      await this.discardPartials(job);
      this.emitMessage('download_cancelled', await store.get(job.id));
      return;
    }
    const failure =
      error instanceof HangarError
        ? { code: error.code, message: error.message }
        : { code: 'download_failed', message: (error as Error).message };
    this.options.logger.warn({ job: job.id, err: error }, 'download failed');
    await store.update(job.id, { status: 'failed', plan, error: failure, finished: true });
    this.emitMessage('download_failed', await store.get(job.id));
  }

  private async discardPartials(job: StoredJob): Promise<void> {
    for (const file of job.plan.files) await this.manager.discard({ url: '', ...file });
  }

  private emitMessage(type: JobMessage['type'], job: StoredJob, tracker?: ProgressTracker): void {
    const info = toJobInfo(job);
    const rate = tracker?.rate() ?? { speed_bps: 0, eta_s: null };
    this.emit('message', { type, job_id: job.id, at: new Date().toISOString(), job: info, ...rate });
    if (type !== 'download_progress') {
      this.options.bus?.publish({
        type: BUS_EVENT_OF[type],
        model: job.request.name,
        version: typeof job.result.version === 'number' ? job.result.version : null,
        data: { job_id: job.id, repo_id: job.request.repo_id, variant: job.plan.variant, error: info.error },
      });
    }
  }
}
