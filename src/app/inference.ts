// Use cases embed, generate and chat: lease the model from the runtime, run the request, record its outcome for metrics.
import { HangarError, InvalidInput, NotFound } from '../errors.ts';
import type { InferenceKind, InferenceRecorder } from '../monitor/inference-recorder.ts';
import { parseModelRef } from '../registry/model-name.ts';
import { parseKeepAlive } from '../runtime/keep-alive.ts';
import type { Lease, LeaseOptions, ModelRuntime } from '../runtime/model-runtime.ts';
import type { ChatMessage, GenerationDone } from '../runtime/protocol.ts';
import { assertGenerationSettings, shortenEmbeddings } from './inference-settings.ts';
import {
  GENERATION_DEFAULTS,
  type ChatRequest,
  type ChatTurn,
  type EmbedRequest,
  type EmbedResult,
  type GenerateRequest,
  type GenerationResult,
  type GenerationSettings,
  type StreamControl,
} from './inference-types.ts';

interface WorkDone<T> {
  result: T;
  promptTokens: number;
  completionTokens: number;
}

export class Inference {
  constructor(
    private readonly runtime: ModelRuntime,
    private readonly recorder: InferenceRecorder,
  ) {}

  private record(
    kind: InferenceKind,
    model: string,
    lease: Lease | undefined,
    outcome: string,
    promptTokens: number,
    completionTokens: number,
    items: number,
    startedAt: number,
  ): void {
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

  private async run<T>(
    kind: InferenceKind,
    ref: string,
    keepAlive: string | number | undefined,
    items: number,
    work: (lease: Lease) => Promise<WorkDone<T>>,
    leaseOptions: LeaseOptions = {},
  ): Promise<T> {
    // A bad keep-alive is refused before anything is loaded or queued.
    const keepAliveMs = keepAlive === undefined ? undefined : parseKeepAlive(keepAlive);
    const model = parseModelRef(ref).name;
    const startedAt = Date.now();
    let lease: Lease | undefined;
    try {
      lease = await this.runtime.lease(ref, kind, leaseOptions);
      const { result, promptTokens, completionTokens } = await work(lease);
      this.record(kind, model, lease, 'success', promptTokens, completionTokens, items, startedAt);
      return result;
    } catch (error) {
      // Requests for models that do not exist are not a model's failures (and must not grow metric labels without bound).
      if (!(error instanceof NotFound))
        this.record(kind, model, lease, error instanceof HangarError ? error.code : 'internal_error', 0, 0, items, startedAt);
      throw error;
    } finally {
      lease?.release(keepAliveMs);
    }
  }

  async embed(request: EmbedRequest): Promise<EmbedResult> {
    const { dimensions } = request;
    if (dimensions !== undefined && (!Number.isInteger(dimensions) || dimensions < 1)) {
      throw new InvalidInput(`dimensions must be a positive integer, got ${dimensions}`, { dimensions });
    }
    return this.run('embed', request.model, request.keepAlive, request.inputs.length, async (lease) => {
      const embedLength = lease.served.ready.embeddingLength;
      if (dimensions !== undefined && embedLength !== null && dimensions > embedLength) {
        throw new InvalidInput(`dimensions ${dimensions} is more than ${lease.model}'s embedding length of ${embedLength}`, {
          dimensions,
          embedding_length: embedLength,
        });
      }
      const startedAt = performance.now();
      const reply = await lease.served.embed(request.inputs, { truncate: request.truncate ?? true });
      return {
        result: {
          model: lease.model,
          version: lease.version,
          embeddings: dimensions === undefined ? reply.embeddings : shortenEmbeddings(reply.embeddings, dimensions),
          tokens: reply.tokens,
          loadMs: lease.loadMs,
          queueMs: lease.queueMs,
          embedMs: performance.now() - startedAt,
        },
        promptTokens: reply.tokens,
        completionTokens: 0,
      };
    });
  }

  async generate(request: GenerateRequest, stream: StreamControl = {}): Promise<GenerationResult> {
    assertGenerationSettings(request);
    return this.run(
      'generate',
      request.model,
      request.keepAlive,
      1,
      async (lease) => {
        const done = await lease.served.generate(
          { prompt: request.prompt, ...runtimeSettings(request, stream) },
          stream.onToken,
          stream.signal,
        );
        return { result: toResult(lease, done), promptTokens: done.promptTokens, completionTokens: done.completionTokens };
      },
      leaseOptionsOf(request),
    );
  }

  async chat(request: ChatRequest, stream: StreamControl = {}): Promise<GenerationResult> {
    assertGenerationSettings(request);
    const tools = request.tools ?? [];
    return this.run(
      'chat',
      request.model,
      request.keepAlive,
      1,
      async (lease) => {
        // The model's own chat template decides (the runner reports it as the `tools` capability), as Ollama does.
        if (tools.length > 0 && !lease.served.ready.capabilities.includes('tools')) {
          throw new InvalidInput(`"${lease.model}" does not support tools`, { model: lease.model }, 'unsupported_operation');
        }
        const done = await lease.served.chat(
          {
            messages: request.messages.map(toChatMessage),
            ...(tools.length > 0 ? { tools } : {}),
            ...runtimeSettings(request, stream),
          },
          stream.onToken,
          stream.signal,
        );
        return { result: toResult(lease, done), promptTokens: done.promptTokens, completionTokens: done.completionTokens };
      },
      leaseOptionsOf(request),
    );
  }
}

function toChatMessage(turn: ChatTurn): ChatMessage {
  return {
    role: turn.role,
    content: turn.content,
    ...(turn.toolCalls?.length ? { toolCalls: turn.toolCalls } : {}),
    ...(turn.toolName === undefined ? {} : { toolName: turn.toolName }),
  };
}

function leaseOptionsOf(settings: GenerationSettings): LeaseOptions {
  return settings.contextSize === undefined ? {} : { contextSize: settings.contextSize };
}

/** The generation settings with defaults applied, as the runtime takes them. */
function runtimeSettings(settings: GenerationSettings, stream: StreamControl) {
  return {
    maxTokens: settings.maxTokens ?? GENERATION_DEFAULTS.maxTokens,
    temperature: settings.temperature ?? GENERATION_DEFAULTS.temperature,
    stop: settings.stop ?? [],
    stream: stream.onToken !== undefined,
    ...(settings.ignoreEos ? { ignoreEos: true } : {}),
    ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
    ...(settings.topP !== undefined ? { topP: settings.topP } : {}),
    ...(settings.topK !== undefined ? { topK: settings.topK } : {}),
    ...(settings.repeatPenalty !== undefined ? { repeatPenalty: settings.repeatPenalty } : {}),
    ...(settings.frequencyPenalty !== undefined ? { frequencyPenalty: settings.frequencyPenalty } : {}),
    ...(settings.presencePenalty !== undefined ? { presencePenalty: settings.presencePenalty } : {}),
    ...(settings.responseFormat !== undefined ? { responseFormat: settings.responseFormat } : {}),
  };
}

function toResult(lease: Lease, done: GenerationDone): GenerationResult {
  const seconds = done.generationMs / 1000;
  return {
    model: lease.model,
    version: lease.version,
    text: done.text,
    finishReason: done.finishReason,
    toolCalls: done.toolCalls ?? [],
    loadMs: lease.loadMs,
    queueMs: lease.queueMs,
    promptTokens: done.promptTokens,
    completionTokens: done.completionTokens,
    firstTokenMs: done.firstTokenMs,
    generationMs: done.generationMs,
    tokensPerSecond: seconds > 0 && done.completionTokens > 0 ? Math.round((done.completionTokens / seconds) * 100) / 100 : null,
  };
}
