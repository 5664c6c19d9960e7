// The one table of backends: the formats each serves, what it can do, where its models run, how they are loaded and measured.

import { BACKEND_IDS, type BackendId } from './backend-ids.ts';
import type { BackendSpec } from './backend-contract.ts';
import { OllamaLauncher } from './ollama/ollama-launcher.ts';
import { unavailableReason } from './ollama/server-health.ts';

// Every backend Hangar knows is named in backend-ids.ts (the protocol's and the API's unions derive from that list).
export { BACKEND_IDS, type BackendId, type Capability } from './backend-ids.ts';
export type { BackendSpec, ExternalLauncherContext, RunnerModule } from './backend-contract.ts';

const BACKENDS: Readonly<Record<BackendId, BackendSpec>> = {
  onnx: {
    id: 'onnx',
    formats: ['onnx'],
    capabilities: ['embed'],
    // onnxruntime-node ships CPU (and WebGPU) providers only; its CUDA provider is a separate install.
    gpuUnavailableReason: 'the onnx backend has no GPU execution provider installed (onnxruntime-node CPU build)',
    hosting: 'runner',
    pool: 'local',
    warmSpare: true,
    concurrency: ({ maxBatchSize }) => maxBatchSize,
    // The ONNX runner takes inputs up to the model's longest, whatever context size is asked.
    usesContextSize: false,
    loadCommandExtras: (version) => (version.quantization ? { dtype: version.quantization } : {}),
    runnerModule: async () => {
      const module = await import('./runners/onnx/onnx-backend.ts');
      // The warm-up model's writer is imported only by spares, which use it.
      const writeWarmUpModel = async (dir: string) => (await import('./runners/onnx/warm-up-model.ts')).writeWarmUpModel(dir);
      return { load: module.loadOnnxBackend, prewarm: module.prewarm, writeWarmUpModel };
    },
  },
  llamacpp: {
    id: 'llamacpp',
    formats: ['gguf'],
    capabilities: ['embed', 'generate', 'chat'],
    gpuUnavailableReason: null,
    hosting: 'runner',
    pool: 'local',
    warmSpare: true,
    concurrency: ({ parallel }) => parallel,
    usesContextSize: true,
    loadCommandExtras: () => ({}),
    runnerModule: async () => {
      const module = await import('./runners/llamacpp/llamacpp-backend.ts');
      // The warm-up model's writer is imported only by spares, which use it.
      const writeWarmUpModel = async (dir: string) => (await import('./runners/llamacpp/warm-up-model.ts')).writeWarmUpModel(dir);
      return { load: module.loadLlamaCppBackend, prewarm: module.prewarm, writeWarmUpModel };
    },
  },
  ollama: {
    id: 'ollama',
    // Versions held by an Ollama server (OLLAMA_BASE_URL): no local files, the server runs and places them.
    formats: ['ollama'],
    capabilities: ['embed', 'generate', 'chat', 'tools'],
    gpuUnavailableReason: 'the Ollama server chooses its own device',
    hosting: 'external',
    pool: 'external',
    warmSpare: false,
    // The server queues requests itself (OLLAMA_NUM_PARALLEL): Hangar lets as many through as it would run.
    concurrency: ({ parallel }) => parallel,
    usesContextSize: true,
    loadCommandExtras: () => ({}),
    createLauncher: (context) => new OllamaLauncher(context),
    unavailableReason,
    runnerModule: () => Promise.reject(new Error('backend ollama runs on an Ollama server, never in a runner')),
  },
};

export function isBackendId(value: string): value is BackendId {
  return (BACKEND_IDS as readonly string[]).includes(value);
}

export function backendSpec(id: BackendId): BackendSpec {
  return BACKENDS[id];
}

/** Every backend, in BACKEND_IDS order. */
export function allBackends(): BackendSpec[] {
  return BACKEND_IDS.map((id) => BACKENDS[id]);
}

/** The backend that serves versions of `format` (the first in BACKEND_IDS order that lists it). */
export function backendForFormat(format: string): BackendSpec | null {
  return allBackends().find((spec) => (spec.formats as readonly string[]).includes(format)) ?? null;
}

/** Why no backend serves `format` (naming the backends there are and what each serves), or null when one does. */
export function unservableReason(format: string): string | null {
  if (backendForFormat(format)) return null;
  const served = allBackends()
    .map((spec) => `${spec.id} (${spec.formats.join(', ')})`)
    .join(', ');
  return `no backend in this Hangar serves ${format} models; the backends are ${served}`;
}
