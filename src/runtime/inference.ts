// Inference requests: find or load (JIT) the model, take a slot, run it on the runner, record the outcome, apply keep-alive.
import { Conflict, HangarError, InvalidInput, NotFound, ServiceUnavailable } from '../errors.ts';
import type { ModelCatalog } from '../registry/catalog.ts';
import { parseModelRef } from '../registry/model-name.ts';
import type { InferenceKind, InferenceRecorder } from '../monitor/inference-recorder.ts';
import type { ChatRequest, EmbeddingsRequest, GenerateRequest } from '../schemas/runtime.ts';
import type { Deployment } from './deployment.ts';
import { parseKeepAlive, type KeepAliveInput } from './keep-alive.ts';
import type { ModelRuntime } from './model-runtime.ts';
import type { RunnerProcess } from './runner-process.ts';
import type { GenerationDone } from './protocol.ts';

interface Lease {
  dep: Deployment;
  release: () => void;
  runner: RunnerProcess;
  version: number;
  queueMs: number;
  startedAt: number;
}

export interface GenerationResult {
  model: string;
  version: number;
  text: string;
  finish_reason: GenerationDone['finishReason'];
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  timings: { first_token_ms: number | null; generation_ms: number; tokens_per_sec: number | null };
}

export interface EmbeddingsResult {
  model: string;
  version: number;
  embeddings: number[][];
  usage: { tokens: number };
}

export class InferenceService {
  constructor(
    private readonly runtime: ModelRuntime,
    private readonly catalog: ModelCatalog,
    private readonly recorder: InferenceRecorder,
  ) {}

  /** The loaded deployment serving `ref`, loading it first when dynamic loading allows. */
  private async deploymentFor(ref: string): Promise<Deployment> {
    const { name, ref: wanted } = parseModelRef(ref);
    let dep = this.runtime.deployments.get(name);
    if (!dep || dep.state !== 'loaded') {
      if (dep?.pending) await dep.pending.catch(() => undefined);
      dep = this.runtime.deployments.get(name);
      if (!dep || dep.state !== 'loaded') {
        await this.catalog.resolve(ref); // an unknown model is 404 whether or not loading on demand is on
        this.runtime.assertLoadedOrDynamic(dep, name);
        dep = await this.runtime.load(ref);
      }
    }
    if (wanted !== undefined) {
      const resolved = await this.catalog.resolve(ref);
      if (resolved.version.id !== dep.version?.id) {
        throw new Conflict(`${ref} is version ${resolved.version.version}, but version ${dep.version?.number} of ${name} is loaded; load ${ref} to switch`, {
          model: name,
          loaded_version: dep.version?.number ?? null,
          requested_version: resolved.version.version,
        }, 'version_not_loaded');
      }
    }
    return dep;
  }

  private async lease(ref: string, capability: 'embed' | 'generate' | 'chat'): Promise<Lease> {
    const dep = await this.deploymentFor(ref);
    const capabilities = dep.runner?.ready.capabilities ?? [];
    if (!capabilities.includes(capability)) {
      throw new InvalidInput(`${dep.name} (${dep.version?.backend}) cannot ${capability}; it supports: ${capabilities.join(', ')}`, { model: dep.name, capabilities }, 'unsupported_operation');
    }
    const queuedAt = Date.now();
    const release = await dep.slots.acquire();
    dep.disarmKeepAlive();
    const runner = dep.runner;
    if (dep.state !== 'loaded' || !runner?.isAlive || !dep.version) {
      release();
      throw new ServiceUnavailable(`${dep.name} stopped before the request could run (${dep.state})`, { state: dep.state }, 'model_unavailable');
    }
    return { dep, release, runner, version: dep.version.number, queueMs: Date.now() - queuedAt, startedAt: Date.now() };
  }

  /** Frees the slot, updates last use and keep-alive (a request's keep_alive becomes the model's), unloads at 0. */
  private finish(lease: Lease, keepAliveMs: number | undefined): void {
    lease.release();
    const now = Date.now();
    lease.dep.lastUsedAt = now;
    lease.dep.lastInferenceAt = now;
    if (keepAliveMs !== undefined) lease.dep.keepAliveMs = keepAliveMs;
    this.runtime.afterRequest(lease.dep);
  }

  private record(kind: InferenceKind, model: string, lease: Lease | undefined, outcome: string, promptTokens: number, completionTokens: number, items: number, startedAt: number): void {
    this.recorder.record({
      model,
      version: lease?.version ?? null,
      kind,
      outcome,
      latencyMs: Date.now() - startedAt,
      queueMs: lease?.queueMs ?? 0,
      promptTokens,
      completionTokens,
      items,
      at: Date.now(),
    });
  }

  private async run<T>(kind: InferenceKind, ref: string, keepAlive: KeepAliveInput | undefined, items: number, work: (lease: Lease) => Promise<{ result: T; promptTokens: number; completionTokens: number }>): Promise<T> {
    const keepAliveMs = keepAlive === undefined ? undefined : parseKeepAlive(keepAlive);
    const model = parseModelRef(ref).name;
    const startedAt = Date.now();
    let lease: Lease | undefined;
    try {
      lease = await this.lease(ref, kind === 'embed' ? 'embed' : kind);
      const { result, promptTokens, completionTokens } = await work(lease);
      this.record(kind, model, lease, 'success', promptTokens, completionTokens, items, startedAt);
      return result;
    } catch (error) {
      // Requests for models that do not exist are not a model's failures (and must not grow metric labels without bound).
      const unknownModel = error instanceof NotFound;
      if (!unknownModel) this.record(kind, model, lease, error instanceof HangarError ? error.code : 'internal_error', 0, 0, items, startedAt);
      throw error;
    } finally {
      if (lease) this.finish(lease, keepAliveMs);
    }
  }

  async embed(request: EmbeddingsRequest): Promise<EmbeddingsResult> {
    const inputs = typeof request.input === 'string' ? [request.input] : request.input;
    return this.run('embed', request.model, request.keep_alive, inputs.length, async (lease) => {
      const reply = await lease.runner.embed(inputs);
      return { result: { model: lease.dep.name, version: lease.version, embeddings: reply.embeddings, usage: { tokens: reply.tokens } }, promptTokens: reply.tokens, completionTokens: 0 };
    });
  }

  async generate(request: GenerateRequest, onToken?: (text: string) => void, signal?: AbortSignal): Promise<GenerationResult> {
    return this.run('generate', request.model, request.keep_alive, 1, async (lease) => {
      const done = await lease.runner.generate({ prompt: request.prompt, ...generationOptions(request) }, onToken, signal);
      return { result: toGenerationResult(lease, done), promptTokens: done.promptTokens, completionTokens: done.completionTokens };
    });
  }

  async chat(request: ChatRequest, onToken?: (text: string) => void, signal?: AbortSignal): Promise<GenerationResult> {
    return this.run('chat', request.model, request.keep_alive, 1, async (lease) => {
      const done = await lease.runner.chat({ messages: request.messages, ...generationOptions(request) }, onToken, signal);
      return { result: toGenerationResult(lease, done), promptTokens: done.promptTokens, completionTokens: done.completionTokens };
    });
  }
}

function generationOptions(request: GenerateRequest | ChatRequest) {
  return {
    maxTokens: request.max_tokens ?? 128,
    temperature: request.temperature ?? 0.8,
    stop: request.stop === undefined ? [] : typeof request.stop === 'string' ? [request.stop] : request.stop,
    stream: request.stream ?? false,
    ...(request.ignore_eos ? { ignoreEos: true } : {}),
    ...(request.seed !== undefined ? { seed: request.seed } : {}),
  };
}

function toGenerationResult(lease: Lease, done: GenerationDone): GenerationResult {
  const seconds = done.generationMs / 1000;
  return {
    model: lease.dep.name,
    version: lease.version,
    text: done.text,
    finish_reason: done.finishReason,
    usage: { prompt_tokens: done.promptTokens, completion_tokens: done.completionTokens, total_tokens: done.promptTokens + done.completionTokens },
    timings: {
      first_token_ms: done.firstTokenMs,
      generation_ms: done.generationMs,
      tokens_per_sec: seconds > 0 && done.completionTokens > 0 ? Math.round((done.completionTokens / seconds) * 100) / 100 : null,
    },
  };
}
