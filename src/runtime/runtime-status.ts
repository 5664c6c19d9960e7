// Model status documents (seeds 000/002/003): live state from the deployments, memory from /proc and nvidia-smi, idle models from the catalog.
import type { ModelCatalog } from '../registry/catalog.ts';
import { parseModelRef } from '../registry/model-name.ts';
import type { GpuQuery } from '../monitor/nvidia-smi.ts';
import { readRssBytes } from '../monitor/process-memory.ts';
import type { ModelStatus } from '../schemas/runtime.ts';
import type { ModelSummary } from '../schemas/models.ts';
import { backendForFormat, unservableReason } from './backends.ts';
import type { Deployment } from './deployment.ts';
import type { DeploymentTable } from './deployment-table.ts';
import { formatKeepAlive } from './keep-alive.ts';
import { MIB, roundedMib } from '../mebibytes.ts';

export interface StatusSources {
  table: DeploymentTable;
  catalog: ModelCatalog;
  gpus: { query(): Promise<GpuQuery> };
  /** Every model's summary (of one tenant, when given): the roster's copy in memory, or the catalog's listing. */
  summaries(tenant?: string): Promise<ModelSummary[]>;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The status document of a deployment, with the memory read by the caller. */
function toStatus(dep: Deployment, memory: { rssBytes: number | null; vramBytes: number | null }): ModelStatus {
  const served = dep.served;
  const ready = served?.ready;
  const running = dep.state === 'loaded' || dep.state === 'unloading' || dep.state === 'loading';
  // A model on an external server is where that server's report puts it.
  const device = served && served.pid === null && running ? (ready?.device ?? dep.device) : dep.device;
  return {
    name: dep.name,
    status: dep.state,
    version: dep.version?.number ?? null,
    backend: dep.version?.backend ?? null,
    device,
    gpu: dep.device === 'gpu' ? dep.gpuIndex : null,
    device_note: dep.deviceNote,
    memory_usage_mb: running && memory.rssBytes ? roundedMib(memory.rssBytes) : 0,
    vram_usage_mb: running && memory.vramBytes ? roundedMib(memory.vramBytes) : null,
    pid: running && served?.isAlive ? served.pid : null,
    in_flight: dep.slots.active,
    queue_depth: dep.slots.waiting,
    last_inference: iso(dep.lastInferenceAt),
    loaded_at: dep.state === 'loaded' ? iso(dep.loadedAt) : null,
    expires_at: dep.state === 'loaded' ? iso(dep.expiresAt) : null,
    keep_alive: formatKeepAlive(dep.keepAliveMs),
    pinned: dep.pinned,
    reason: dep.state === 'failed' ? dep.failure : null,
    restarts: dep.restartTimes.length,
    load_count: dep.loadCount,
    last_load_ms: dep.lastLoadMs,
    context_size: running ? (ready?.contextSize ?? null) : null,
    embedding_length: ready?.embeddingLength ?? null,
    capabilities: ready?.capabilities ?? [],
    servable: true,
  };
}

/** A deployment's status with its RSS read now and, on a GPU, the VRAM nvidia-smi lists for its pid. */
export async function deploymentStatus(dep: Deployment, gpus: StatusSources['gpus']): Promise<ModelStatus> {
  const pid = dep.served?.isAlive ? dep.served.pid : null;
  const alive = dep.served?.isAlive ?? false;
  // A runner's RSS comes from /proc; a model held by an external backend reports its own.
  const rss = !alive ? null : pid === null ? dep.memoryBytes() : (readRssBytes(pid) ?? dep.memoryBytes());
  let vram: number | null = dep.served?.memory.vramBytes ?? null;
  if (pid !== null && dep.device === 'gpu') {
    const listed = (await gpus.query()).processes.find((p) => p.pid === pid);
    if (listed) vram = listed.usedMemoryMb * MIB;
  }
  const status = toStatus(dep, { rssBytes: rss, vramBytes: vram });
  // A load queued behind another (one load at a time) already counts as loading.
  return dep.pending && dep.state !== 'loaded' ? { ...status, status: 'loading' } : status;
}

function idleStatus(name: string, version: number | null, format: string | null): ModelStatus {
  return {
    name,
    status: 'not_loaded',
    version,
    backend: format === null ? null : (backendForFormat(format)?.id ?? null),
    device: 'cpu',
    gpu: null,
    device_note: null,
    memory_usage_mb: 0,
    vram_usage_mb: null,
    pid: null,
    in_flight: 0,
    queue_depth: 0,
    last_inference: null,
    loaded_at: null,
    expires_at: null,
    keep_alive: null,
    pinned: false,
    reason: null,
    restarts: 0,
    load_count: 0,
    last_load_ms: null,
    context_size: null,
    embedding_length: null,
    capabilities: [],
    servable: true,
  };
}

function statusOfSummary(sources: StatusSources, model: ModelSummary): Promise<ModelStatus> | ModelStatus {
  const dep = sources.table.get(model.name);
  if (dep && (dep.state !== 'not_loaded' || dep.pending)) return deploymentStatus(dep, sources.gpus);
  const idle = idleStatus(model.name, model.production_version ?? model.latest_version, model.format);
  // An unloaded model still remembers its last use, load count and settings.
  const status = dep ? { ...toStatus(dep, { rssBytes: null, vramBytes: null }), version: idle.version, backend: idle.backend } : idle;
  // A model whose external server is failing cannot be served: it says so instead of looking merely idle.
  const unavailable = model.format === null ? null : (backendForFormat(model.format)?.unavailableReason?.(model.name) ?? null);
  if (unavailable) return { ...status, status: 'failed', reason: unavailable };
  // A format no backend serves is honest about it: not loaded, not servable, and why.
  const unservable = model.format === null ? null : unservableReason(model.format);
  return unservable ? { ...status, status: 'not_loaded', servable: false, reason: unservable } : status;
}

/** Status of one model of the catalog (404 for unknown models). */
export async function modelStatus(sources: StatusSources, ref: string): Promise<ModelStatus> {
  const { name } = parseModelRef(ref);
  const detail = await sources.catalog.getModel(name);
  return statusOfSummary(sources, detail);
}

/** Every model in the catalog (of `tenant` only, when given), keyed by name. */
export async function allModelStatuses(sources: StatusSources, tenant?: string): Promise<Record<string, ModelStatus>> {
  const out: Record<string, ModelStatus> = {};
  for (const model of await sources.summaries(tenant)) out[model.name] = await statusOfSummary(sources, model);
  return out;
}
