// Placement policy (pure functions): the bytes a load needs, which idle models to evict to make room, and the GPU budget a load may use.
import { HangarError } from '../errors.ts';
import { estimateMemory } from '../model-shape/memory-model.ts';
import type { ModelShape } from '../model-shape/model-shape.ts';
import { tenantOfName } from '../tenants/tenant-names.ts';
import { backendSpec, type BackendId } from './backends.ts';

import { MIB } from '../mebibytes.ts';

export interface EstimateInput {
  backend: BackendId;
  artifactBytes: number;
  /** Peak RSS measured the last time this version was loaded, if ever. */
  measuredBytes?: number | null;
  /** The model's shape (GGUF header / config.json), when it could be read; without it the weights are the artifact's size and KV/compute are unknown. */
  shape?: ModelShape | null;
  /** Context the load asks for (default: the runner's choice); counted only by backends that honour it. */
  contextSize?: number;
  /** Parallel sequences of a llama.cpp context (each holds its own KV cache). */
  parallel?: number;
}

/** RAM a load is expected to take: the last measurement of this version, else the memory model (weights + KV cache + compute + runner). */
export function estimateLoadBytes(input: EstimateInput): { bytes: number; source: 'measured' | 'estimated' } {
  if (input.measuredBytes && input.measuredBytes > 0) return { bytes: input.measuredBytes, source: 'measured' };
  const backend = backendSpec(input.backend);
  const shape: ModelShape = input.shape ?? {
    format: backend.formats[0],
    weightsBytes: input.artifactBytes,
    layerCount: null,
    embeddingLength: null,
    headCount: null,
    headCountKv: null,
    contextLength: null,
    vocabSize: null,
    quantization: null,
  };
  const contextSize = backend.usesContextSize ? input.contextSize : undefined;
  return { bytes: estimateMemory(shape, { contextSize, sequences: input.parallel }).total_bytes, source: 'estimated' };
}

export interface ResidentModel {
  name: string;
  memoryBytes: number;
  /** Requests running or queued. */
  busy: number;
  pinned: boolean;
  /** Another tenant's model that this load may not take (the loading tenant is over its share): never evicted for it. */
  reserved?: boolean;
  lastUsedAt: number;
  /** When its keep-alive runs out (ms epoch); null while busy or kept forever. */
  expiresAt: number | null;
}

export interface EvictionRequest {
  neededBytes: number;
  budgetBytes: number;
  resident: ResidentModel[];
  /** 0 = no limit. */
  maxLoadedModels: number;
  now: number;
}

export type EvictionPlan =
  | { fits: true; evict: string[] }
  | { fits: false; freeBytes: number; blocked: Array<{ name: string; reason: BlockedReason; memoryBytes: number }> };

/** Why a resident model could not be evicted: pinned, serving requests, or another tenant's while the loading one is over its share. */
export type BlockedReason = 'pinned' | 'busy' | 'other_tenant';

/** Idle, unpinned, unreserved models in eviction order: keep-alive already expired first (oldest expiry first), then least recently used. */
export function evictionOrder(resident: ResidentModel[], now: number): ResidentModel[] {
  const candidates = resident.filter((m) => !m.pinned && !m.reserved && m.busy === 0);
  const expired = candidates
    .filter((m) => m.expiresAt !== null && m.expiresAt <= now)
    .sort((a, b) => (a.expiresAt ?? 0) - (b.expiresAt ?? 0));
  const rest = candidates.filter((m) => !expired.includes(m)).sort((a, b) => a.lastUsedAt - b.lastUsedAt);
  return [...expired, ...rest];
}

/** Chooses the fewest evictions, in policy order, that make the load fit the budget and the model-count limit. */
export function planEviction(request: EvictionRequest): EvictionPlan {
  let used = request.resident.reduce((sum, m) => sum + m.memoryBytes, 0);
  let count = request.resident.length;
  const fits = () =>
    used + request.neededBytes <= request.budgetBytes && (request.maxLoadedModels === 0 || count + 1 <= request.maxLoadedModels);
  const evict: string[] = [];
  for (const model of evictionOrder(request.resident, request.now)) {
    if (fits()) break;
    evict.push(model.name);
    used -= model.memoryBytes;
    count -= 1;
  }
  if (fits()) return { fits: true, evict };
  const reasonOf = (m: ResidentModel): BlockedReason | null =>
    m.pinned ? 'pinned' : m.busy > 0 ? 'busy' : m.reserved ? 'other_tenant' : null;
  const blocked = request.resident.flatMap((m) => {
    const reason = reasonOf(m);
    return reason === null ? [] : [{ name: m.name, reason, memoryBytes: m.memoryBytes }];
  });
  return { fits: false, freeBytes: Math.max(0, request.budgetBytes - request.resident.reduce((s, m) => s + m.memoryBytes, 0)), blocked };
}

/**
 * 409 insufficient_memory with the numbers a user needs to act on it. Models of other tenants than the loading model's
 * are listed without their names (`model: null`): the caller may be a tenant, and names must not leak across tenants.
 */
export function insufficientMemory(
  name: string,
  device: string,
  need: { bytes: number; source: string },
  plan: Extract<EvictionPlan, { fits: false }>,
  budgetBytes: number,
  maxLoadedModels: number,
): HangarError {
  const mb = (b: number) => Math.round(b / MIB);
  return new HangarError(
    'insufficient_memory',
    `Not enough ${device === 'cpu' ? 'memory' : `memory on ${device}`} to load ${name}: needs ~${mb(need.bytes)} MiB (${need.source}), ${mb(plan.freeBytes)} MiB free of a ${mb(budgetBytes)} MiB budget, and nothing idle is left to evict`,
    {
      device,
      needed_mb: mb(need.bytes),
      estimate_source: need.source,
      free_mb: mb(plan.freeBytes),
      budget_mb: mb(budgetBytes),
      max_loaded_models: maxLoadedModels,
      not_evictable: plan.blocked.map((b) => ({
        model: tenantOfName(b.name) === tenantOfName(name) ? b.name : null,
        reason: b.reason,
        memory_mb: mb(b.memoryBytes),
      })),
    },
  );
}

/**
 * VRAM a GPU load may use: the configured budget (else 90% of the card) minus what other processes
 * already hold there; Hangar's own runners are counted as residents so they can be evicted.
 */
export function gpuBudgetBytes(
  gpu: { memoryTotalMb: number; memoryUsedMb: number },
  configuredBudgetMb: number,
  ownUsageBytes: number,
): number {
  const budget = configuredBudgetMb > 0 ? configuredBudgetMb * MIB : Math.floor(gpu.memoryTotalMb * MIB * 0.9);
  const othersBytes = Math.max(0, gpu.memoryUsedMb * MIB - ownUsageBytes);
  return Math.max(0, Math.min(budget, gpu.memoryTotalMb * MIB - othersBytes));
}
