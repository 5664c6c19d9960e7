// One model loaded on an Ollama server, as the runtime drives it: memory from /api/ps, inference proxied with streaming and abort, unload by keep_alive 0.
import type { AbortableAsyncIterator, ChatResponse, GenerateResponse, ModelResponse } from 'ollama';
import type { ChatCommand, EmbedResult, GenerateCommand, GenerationDone, MemoryReport, ReadyMessage, ToolCall } from '../protocol.ts';
import type { ServedModel, ServedModelExit } from '../served-model.ts';
import { isCallerAbort, ollamaClient, QUICK_CALL_TIMEOUT_MS, upstreamError } from './ollama-client.ts';
import { formatOf, messagesOf, optionsOf, toolCallsOf, toolsOf } from './ollama-requests.ts';
import { markAnswered, markFailing } from './server-health.ts';

const NS_PER_MS = 1e6;
/** A stream silent this long (no token, no final chunk) counts as a failing server. */
const STREAM_STALL_MS = 120_000;

export interface OllamaModelTarget {
  server: string;
  /** The name the server knows it by (`tinyllama:latest`). */
  name: string;
  /** Ollama's keep_alive for every request: a duration such as "330s", or -1 (forever). */
  keepAlive: string | number;
}

type Chunk = GenerateResponse | ChatResponse;

export class OllamaServedModel implements ServedModel {
  readonly pid = null;
  private alive = true;
  private active = 0;
  private current: MemoryReport;
  private peak: MemoryReport;
  private readyMessage: ReadyMessage;
  /** Told once when the model ends unasked (server unreachable, model dropped there). */
  onExit: ((exit: ServedModelExit) => void) | null = null;

  constructor(
    readonly target: OllamaModelTarget,
    ready: ReadyMessage,
  ) {
    this.readyMessage = ready;
    this.current = ready.memory;
    this.peak = ready.memory;
  }

  get isAlive(): boolean {
    return this.alive;
  }

  get ready(): ReadyMessage {
    return this.readyMessage;
  }

  get memory(): MemoryReport {
    return this.current;
  }

  get peakMemory(): MemoryReport {
    return this.peak;
  }

  get inFlight(): number {
    return this.active;
  }

  /** A fresh /api/ps entry: memory, and the device it sits on (any bytes in VRAM: gpu). */
  observe(entry: ModelResponse): void {
    const size = Number(entry.size) || 0;
    const vram = Number(entry.size_vram) || 0;
    this.current = vram > 0 ? { rssBytes: size, vramBytes: vram } : { rssBytes: size };
    this.peak = { rssBytes: Math.max(this.peak.rssBytes, size), vramBytes: Math.max(this.peak.vramBytes ?? 0, vram) || undefined };
    this.readyMessage = { ...this.readyMessage, device: vram > 0 ? 'gpu' : 'cpu', memory: this.current };
  }

  /** The model ended without Hangar asking (its server failed, or dropped it): the runtime marks it failed and restarts it. */
  lose(reason: string): void {
    if (!this.alive) return;
    this.alive = false;
    this.onExit?.({ code: null, signal: null, expected: false, stderrTail: reason });
  }

  /** A call failed: a server that cannot be reached takes the model with it (the error names the server). */
  private failed(error: unknown, what: string, signal?: AbortSignal): Error {
    if (isCallerAbort(error, signal)) return error as Error;
    const hangarError = upstreamError(this.target.server, error, what);
    if (hangarError.code === 'ollama_unreachable') {
      markFailing(this.target.server, hangarError.message);
      this.lose(hangarError.message);
    }
    return hangarError;
  }

  private async tracked<T>(work: () => Promise<T>): Promise<T> {
    this.active++;
    try {
      return await work();
    } finally {
      this.active--;
    }
  }

  embed(inputs: string[], options?: { truncate?: boolean }): Promise<EmbedResult> {
    return this.tracked(async () => {
      try {
        const reply = await ollamaClient(this.target.server, { timeoutMs: null }).embed({
          model: this.target.name,
          input: inputs,
          keep_alive: this.target.keepAlive,
          ...(options?.truncate !== undefined ? { truncate: options.truncate } : {}),
        });
        markAnswered(this.target.server);
        return {
          type: 'embed_result',
          id: '',
          embeddings: reply.embeddings,
          tokens: reply.prompt_eval_count ?? 0,
          batchSize: inputs.length,
        };
      } catch (error) {
        throw this.failed(error, `embeddings from ${this.target.name}`);
      }
    });
  }

  generate(command: Omit<GenerateCommand, 'type' | 'id'>, onToken?: (text: string) => void, signal?: AbortSignal): Promise<GenerationDone> {
    return this.tracked(async () => {
      const client = ollamaClient(this.target.server, { timeoutMs: null, signal });
      // Hangar's generate is a plain completion of the prompt: raw, no chat template.
      const start = () =>
        client.generate({
          model: this.target.name,
          prompt: command.prompt,
          raw: true,
          stream: true,
          keep_alive: this.target.keepAlive,
          options: optionsOf(command),
          format: formatOf(command.responseFormat),
        });
      return this.stream(start, (chunk) => (chunk as GenerateResponse).response ?? '', onToken, signal, 'a generation');
    });
  }

  chat(command: Omit<ChatCommand, 'type' | 'id'>, onToken?: (text: string) => void, signal?: AbortSignal): Promise<GenerationDone> {
    return this.tracked(async () => {
      const client = ollamaClient(this.target.server, { timeoutMs: null, signal });
      const start = () =>
        client.chat({
          model: this.target.name,
          messages: messagesOf(command.messages),
          tools: toolsOf(command.tools),
          stream: true,
          keep_alive: this.target.keepAlive,
          options: optionsOf(command),
          format: formatOf(command.responseFormat),
        });
      return this.stream(start, (chunk) => (chunk as ChatResponse).message?.content ?? '', onToken, signal, 'a chat');
    });
  }

  /** Runs a streamed call: tokens passed on as they come, the final chunk's counts and durations as the result. */
  private async stream(
    start: () => Promise<AbortableAsyncIterator<Chunk>>,
    textOf: (chunk: Chunk) => string,
    onToken: ((text: string) => void) | undefined,
    signal: AbortSignal | undefined,
    what: string,
  ): Promise<GenerationDone> {
    const startedAt = performance.now();
    let firstTokenMs: number | null = null;
    let text = '';
    let final: Chunk | null = null;
    const toolCalls: ToolCall[] = [];
    let iterator: AbortableAsyncIterator<Chunk> | null = null;
    let stalled = false;
    let watchdog: NodeJS.Timeout | null = null;
    const rearm = () => {
      if (watchdog) clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        stalled = true;
        iterator?.abort();
      }, STREAM_STALL_MS);
      watchdog.unref();
    };
    try {
      rearm();
      iterator = await start();
      for await (const chunk of iterator) {
        rearm();
        const piece = textOf(chunk);
        if (piece) {
          firstTokenMs ??= performance.now() - startedAt;
          text += piece;
          onToken?.(piece);
        }
        // Ollama sends a chat's tool calls in a chunk of their own.
        if ('message' in chunk) toolCalls.push(...toolCallsOf(chunk.message?.tool_calls));
        if (chunk.done) final = chunk;
      }
      markAnswered(this.target.server);
    } catch (error) {
      if (signal?.aborted) return this.done(text, final, 'cancelled', firstTokenMs, startedAt);
      if (stalled) throw this.failed(Object.assign(new Error('stream stalled'), { name: 'TimeoutError' }), what);
      throw this.failed(error, what, signal);
    } finally {
      if (watchdog) clearTimeout(watchdog);
    }
    if (!final) {
      if (signal?.aborted) return this.done(text, null, 'cancelled', firstTokenMs, startedAt);
      throw this.failed(Object.assign(new Error('terminated'), { cause: { code: 'UND_ERR_SOCKET' } }), what);
    }
    const reason = toolCalls.length ? 'tool_calls' : final.done_reason === 'length' ? 'length' : 'stop';
    return { ...this.done(text, final, reason, firstTokenMs, startedAt), ...(toolCalls.length ? { toolCalls } : {}) };
  }

  private done(
    text: string,
    final: Chunk | null,
    finishReason: GenerationDone['finishReason'],
    firstTokenMs: number | null,
    startedAt: number,
  ): GenerationDone {
    // Ollama's own timings (nanoseconds) when its final chunk came; else what was measured here.
    const evalMs = final?.eval_duration ? final.eval_duration / NS_PER_MS : performance.now() - startedAt;
    return {
      type: 'done',
      id: '',
      text,
      promptTokens: final?.prompt_eval_count ?? 0,
      completionTokens: final?.eval_count ?? 0,
      finishReason,
      firstTokenMs: final?.prompt_eval_duration ? final.prompt_eval_duration / NS_PER_MS : firstTokenMs,
      generationMs: evalMs,
    };
  }

  /** Unloads it on the server (keep_alive 0); the model counts as stopped whether or not the server answers. */
  async stop(timeoutMs = QUICK_CALL_TIMEOUT_MS): Promise<void> {
    if (!this.alive) return;
    this.alive = false;
    await unloadOnServer(this.target, timeoutMs).catch(() => undefined);
  }
}

/** Asks the server to drop the model now (Ollama's empty generate with keep_alive 0). */
export async function unloadOnServer(target: Pick<OllamaModelTarget, 'server' | 'name'>, timeoutMs: number): Promise<void> {
  await ollamaClient(target.server, { timeoutMs }).generate({ model: target.name, prompt: '', keep_alive: 0, stream: false });
}
