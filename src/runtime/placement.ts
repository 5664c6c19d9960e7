// Placement policy: how much memory a load needs, and which idle models to evict to make room (pure functions).
import type { Backend } from './protocol.ts';

export const MIB = 1024 * 1024;

/**
 * A runner is a Node.js process with its runtime loaded before any weights: measured on the tiny demo
 * models at about 290 MiB (transformers.js + onnxruntime) and 165 MiB (node-llama-cpp). Weights then
 * cost roughly their file size (llama.cpp maps them; onnxruntime copies them once into its arena), plus
 * working buffers.
 */
const RUNNER_BASE_BYTES: Record<Backend, number> = { onnx: 290 * MIB, llamacpp: 165 * MIB };
const WEIGHT_FACTOR: Record<Backend, number> = { onnx: 1.5, llamacpp: 1.1 };

export interface EstimateInput {
  backend: Backend;
  artifactBytes: number;
  /** Peak RSS measured the last time this version was loaded, if ever. */
  measuredBytes?: number | null;
}

/** Bytes a load is expected to take: the last measurement of this version, else size x backend factor + runner base. */
export function estimateLoadBytes(input: EstimateInput): { bytes: number; source: 'measured' | 'estimated' } {
  if (input.measuredBytes && input.measuredBytes > 0) return { bytes: input.measuredBytes, source: 'measured' };
  return { bytes: Math.round(RUNNER_BASE_BYTES[input.backend] + input.artifactBytes * WEIGHT_FACTOR[input.backend]), source: 'estimated' };
}

export interface ResidentModel {
  name: string;
  memoryBytes: number;
  /** Requests running or queued. */
  busy: number;
  pinned: boolean;
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
  | { fits: false; freeBytes: number; blocked: Array<{ name: string; reason: 'pinned' | 'busy'; memoryBytes: number }> };

/** Idle, unpinned models in eviction order: keep-alive already expired first (oldest expiry first), then least recently used. */
export function evictionOrder(resident: ResidentModel[], now: number): ResidentModel[] {
  const candidates = resident.filter((m) => !m.pinned && m.busy === 0);
  const expired = candidates.filter((m) => m.expiresAt !== null && m.expiresAt <= now).sort((a, b) => (a.expiresAt ?? 0) - (b.expiresAt ?? 0));
  const rest = candidates.filter((m) => !expired.includes(m)).sort((a, b) => a.lastUsedAt - b.lastUsedAt);
  return [...expired, ...rest];
}

/** Chooses the fewest evictions, in policy order, that make the load fit the budget and the model-count limit. */
export function planEviction(request: EvictionRequest): EvictionPlan {
  let used = request.resident.reduce((sum, m) => sum + m.memoryBytes, 0);
  let count = request.resident.length;
  const fits = () => used + request.neededBytes <= request.budgetBytes && (request.maxLoadedModels === 0 || count + 1 <= request.maxLoadedModels);
  const evict: string[] = [];
  for (const model of evictionOrder(request.resident, request.now)) {
    if (fits()) break;
    evict.push(model.name);
    used -= model.memoryBytes;
    count -= 1;
  }
  if (fits()) return { fits: true, evict };
  const blocked = request.resident
    .filter((m) => m.pinned || m.busy > 0)
    .map((m) => ({ name: m.name, reason: m.pinned ? ('pinned' as const) : ('busy' as const), memoryBytes: m.memoryBytes }));
  return { fits: false, freeBytes: Math.max(0, request.budgetBytes - request.resident.reduce((s, m) => s + m.memoryBytes, 0)), blocked };
}
