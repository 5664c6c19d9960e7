// Pulls through an Ollama server's /api/pull as a Hangar job (kind ollama_pull): live progress on the job stream, the synced version at the end.
import type { Logger } from 'pino';
import type { ProgressResponse } from 'ollama';
import type { DownloadJobs } from '../../hub/download-jobs.ts';
import { toJobInfo, type JobFile, type JobPlan, type JobStore, type StoredJob } from '../../hub/job-store.ts';
import { HangarError, InvalidInput, ServiceUnavailable } from '../../errors.ts';
import type { ActionContext } from '../../registry/audit.ts';
import type { ModelCatalog } from '../../registry/catalog.ts';
import type { JobInfoWithoutRate, JobMessage } from '../../schemas/hub.ts';
import { ollamaClient, upstreamError } from './ollama-client.ts';
import { splitOllamaName } from './ollama-names.ts';
import type { OllamaSync } from './ollama-sync.ts';

/** How often progress is written to the job row (messages go out on every line the server sends, at most every 100 ms). */
const SAVE_EVERY_MS = 1000;
const EMIT_EVERY_MS = 100;

export interface OllamaPullOptions {
  jobs: DownloadJobs;
  store: JobStore;
  catalog: ModelCatalog;
  sync: OllamaSync;
  logger: Logger;
}

export interface OllamaPullStarted {
  job: JobInfoWithoutRate;
  deduplicated: boolean;
  /** Settles with the finished job (completed or failed); never rejects. */
  done: Promise<JobInfoWithoutRate>;
}

export class OllamaPulls {
  private readonly running = new Map<
    string,
    { done: Promise<JobInfoWithoutRate>; listeners: Set<(line: ProgressResponse) => void>; controller: AbortController }
  >();

  constructor(private readonly o: OllamaPullOptions) {
    // DELETE /api/v1/jobs/:id marks the job cancelled (it is not the hub queue's to run): the stream from the server stops.
    o.jobs.on('message', (message) => {
      if (message.type === 'download_cancelled') this.running.get(message.job_id)?.controller.abort();
    });
  }

  /**
   * Starts (or joins) a pull of the Ollama library name `name` (`tinyllama`, `tinyllama:latest`) on `server` (default the
   * first of OLLAMA_BASE_URL). `onProgress` hears each progress line as the server sends it (`pulling manifest`, `pulling
   * <digest>` with total/completed, `verifying sha256 digest`, `writing manifest`, `success`).
   */
  async pull(
    name: string,
    context: ActionContext,
    onProgress?: (line: ProgressResponse) => void,
    server?: string,
  ): Promise<OllamaPullStarted> {
    const target = server ?? this.o.sync.servers[0];
    if (!target) {
      throw new ServiceUnavailable(
        `No Ollama server is configured to pull ${name} from (set OLLAMA_BASE_URL)`,
        { name },
        'service_unavailable',
      );
    }
    const split = splitOllamaName(name);
    if (!split.name) throw new InvalidInput(`Cannot pull ${name}: ${split.problem}`, { name }, 'invalid_model_name');
    const full = split.name.full;
    const key = JSON.stringify(['ollama_pull', target, full]);
    const existing = await this.o.store.findActive(key);
    const joined = existing ? this.running.get(existing.id) : undefined;
    if (existing && joined) {
      if (onProgress) joined.listeners.add(onProgress);
      return { job: toJobInfo(existing), deduplicated: true, done: joined.done };
    }
    const plan: JobPlan = {
      commit_sha: '',
      variant: split.name.tag,
      quantization: '',
      format: 'ollama',
      entry: '',
      files: [],
      bytes_fetched: 0,
      retries: 0,
    };
    const request = { repo_id: `${target}/${full}`, revision: split.name.tag, variant: null, name: full, force_redownload: false };
    const job = await this.o.store.insert('ollama_pull', request, plan, key, context.actor);
    const listeners = new Set<(line: ProgressResponse) => void>(onProgress ? [onProgress] : []);
    const controller = new AbortController();
    const done = this.run(job, target, full, split.name.model, listeners, controller.signal).finally(() => this.running.delete(job.id));
    this.running.set(job.id, { done, listeners, controller });
    return { job: toJobInfo(job), deduplicated: false, done };
  }

  private emit(type: JobMessage['type'], job: StoredJob, plan: JobPlan): void {
    const info = toJobInfo({ ...job, plan });
    this.o.jobs.emit('message', { type, job_id: job.id, at: new Date().toISOString(), job: info, speed_bps: 0, eta_s: null });
  }

  private async run(
    job: StoredJob,
    server: string,
    full: string,
    model: string,
    listeners: Set<(line: ProgressResponse) => void>,
    signal: AbortSignal,
  ): Promise<JobInfoWithoutRate> {
    const { store } = this.o;
    const plan = job.plan;
    let lastEmit = 0;
    let lastSave = Date.now();
    try {
      await store.update(job.id, { status: 'running', started: true });
      this.emit('download_progress', { ...job, status: 'running' }, plan);
      const stream = await ollamaClient(server, { timeoutMs: null, signal }).pull({ model: full, stream: true });
      for await (const line of stream) {
        for (const listener of listeners) listener(line);
        trackLine(plan, line);
        const now = Date.now();
        if (now - lastEmit >= EMIT_EVERY_MS || line.status === 'success') {
          lastEmit = now;
          this.emit('download_progress', { ...job, status: 'running' }, plan);
        }
        if (now - lastSave >= SAVE_EVERY_MS) {
          lastSave = now;
          void store.update(job.id, { plan }).catch(() => undefined);
        }
      }
      // The pulled model joins the catalog at once, not at the next periodic sync.
      await this.o.sync.syncAll();
      const resolved = await this.o.catalog.resolve(`${model}:${full.slice(model.length + 1)}`);
      for (const file of plan.files) file.status = 'stored';
      const result = {
        model: resolved.model.name,
        version: resolved.version.version,
        format: 'ollama',
        quantization: resolved.version.quantization,
        size_bytes: resolved.version.size_bytes,
      };
      await store.update(job.id, { status: 'completed', plan, result, error: null, finished: true });
      this.emit('download_completed', await store.get(job.id), plan);
    } catch (error) {
      // A cancelled job is already recorded as such.
      if (signal.aborted) return toJobInfo(await store.get(job.id));
      const reported = error instanceof HangarError ? error : upstreamError(server, error, `pulling ${full}`);
      this.o.logger.warn({ job: job.id, server, err: error }, 'Ollama pull failed');
      await store.update(job.id, { status: 'failed', plan, error: { code: reported.code, message: reported.message }, finished: true });
      this.emit('download_failed', await store.get(job.id), plan);
    }
    return toJobInfo(await store.get(job.id));
  }
}

/** A progress line as the job's files: one per layer digest, its bytes so far. */
function trackLine(plan: JobPlan, line: ProgressResponse): void {
  if (!line.digest) return;
  let file: JobFile | undefined = plan.files.find((f) => f.path === line.digest);
  if (!file) {
    file = {
      path: line.digest,
      size_bytes: 0,
      sha256: line.digest.replace(/^sha256:/, ''),
      git_oid: null,
      bytes_done: 0,
      status: 'downloading',
    };
    plan.files.push(file);
  }
  if (typeof line.total === 'number' && line.total > 0) file.size_bytes = line.total;
  if (typeof line.completed === 'number') {
    const delta = Math.max(0, line.completed - file.bytes_done);
    plan.bytes_fetched += delta;
    file.bytes_done = line.completed;
  }
  if (file.size_bytes > 0 && file.bytes_done >= file.size_bytes) file.status = 'verified';
}
