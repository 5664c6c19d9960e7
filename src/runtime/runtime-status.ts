// Model status documents for every model in the catalog: live state from the runtime, memory from /proc and nvidia-smi.
import type { ModelCatalog } from '../registry/catalog.ts';
import { parseModelRef } from '../registry/model-name.ts';
import type { GpuQuery } from '../monitor/nvidia-smi.ts';
import { readRssBytes } from '../monitor/process-memory.ts';
import type { ModelStatus } from '../schemas/runtime.ts';
import type { ModelSummary } from '../schemas/models.ts';
import type { Deployment } from './deployment.ts';
import { MIB } from './placement.ts';

export interface StatusSources {
  deployments: ReadonlyMap<string, Deployment>;
  catalog: ModelCatalog;
  gpus: { query(): Promise<GpuQuery> };
}

function backendOfFormat(format: string | null): ModelStatus['backend'] {
  if (format === null) return null;
  return format === 'onnx' ? 'onnx' : 'llamacpp';
}

/** A deployment's status with its runner's RSS read now and, on a GPU, the VRAM nvidia-smi lists for its pid. */
export async function deploymentStatus(dep: Deployment, gpus: StatusSources['gpus']): Promise<ModelStatus> {
  const pid = dep.runner?.isAlive ? dep.runner.pid : null;
  const rss = pid ? ((await readRssBytes(pid)) ?? dep.memoryBytes()) : null;
  let vram: number | null = dep.runner?.memory.vramBytes ?? null;
  if (pid && dep.device === 'gpu') {
    const listed = (await gpus.query()).processes.find((p) => p.pid === pid);
    if (listed) vram = listed.usedMemoryMb * MIB;
  }
  const status = dep.toStatus({ rssBytes: rss, vramBytes: vram });
  // A load queued behind another (one load at a time) already counts as loading.
  return dep.pending && dep.state !== 'loaded' ? { ...status, status: 'loading' } : status;
}

function idleStatus(name: string, version: number | null, format: string | null): ModelStatus {
  return {
    name,
    status: 'not_loaded',
    version,
    backend: backendOfFormat(format),
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
  };
}

function statusOfSummary(sources: StatusSources, model: ModelSummary): Promise<ModelStatus> | ModelStatus {
  const dep = sources.deployments.get(model.name);
  if (dep && (dep.state !== 'not_loaded' || dep.pending)) return deploymentStatus(dep, sources.gpus);
  const idle = idleStatus(model.name, model.production_version ?? model.latest_version, model.format);
  // An unloaded model still remembers its last use, load count and settings.
  return dep ? { ...dep.toStatus({ rssBytes: null, vramBytes: null }), version: idle.version, backend: idle.backend } : idle;
}

/** Status of one model of the catalog (404 for unknown models). */
export async function modelStatus(sources: StatusSources, ref: string): Promise<ModelStatus> {
  const { name } = parseModelRef(ref);
  const detail = await sources.catalog.getModel(name);
  return statusOfSummary(sources, detail);
}

/** Every model in the catalog, keyed by name. */
export async function allModelStatuses(sources: StatusSources): Promise<Record<string, ModelStatus>> {
  const out: Record<string, ModelStatus> = {};
  let token: string | undefined;
  do {
    const page = await sources.catalog.listModels({ limit: 500, page_token: token });
    for (const model of page.models) out[model.name] = await statusOfSummary(sources, model);
    token = page.next_page_token ?? undefined;
  } while (token);
  return out;
}
