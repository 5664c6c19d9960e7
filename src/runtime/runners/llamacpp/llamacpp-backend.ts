// llama.cpp backend (node-llama-cpp): completion, chat and embeddings on one GGUF, one context sequence per request.
import path from 'node:path';
import {
  getLlama,
  LlamaChat,
  LlamaCompletion,
  LlamaLogLevel,
  LlamaVocabularyType,
  type ChatHistoryItem,
  type LLamaChatGenerateResponseOptions,
  type Llama,
  type LlamaCompletionGenerationOptions,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import type { ChatMessage, LoadCommand, MemoryReport } from '../../protocol.ts';
import {
  BackendError,
  installedPackageVersion,
  toUnitVector,
  type EmbedOutput,
  type GenerationRequest,
  type GenerationResult,
  type RunnerBackend,
} from '../runner-backend.ts';

/** Context window used when the load command names none: the trained context, capped here. */
const DEFAULT_CONTEXT_CAP = 4096;
/** How long a failed load waits for llama.cpp's log lines, which trail the rejected promise. */
const NATIVE_LOG_SETTLE_MS = 25;
const NATIVE_ERROR_LINES_KEPT = 4;

/** Opens the GGUF the command names; rejects with node-llama-cpp's own reason. */
export async function loadLlamaCppBackend(command: LoadCommand): Promise<RunnerBackend> {
  const llama = await openLlama(command, nativeLog.logger);
  const onGpu = command.device === 'gpu';
  try {
    const model = await llama.loadModel({ modelPath: path.resolve(command.modelDir, command.entry), gpuLayers: onGpu ? 'max' : 0 });
    // threads is passed everywhere: node-llama-cpp's own default oversubscribes small machines by 30-300x.
    const context = await model.createContext({
      contextSize: command.contextSize ?? Math.min(model.trainContextSize, DEFAULT_CONTEXT_CAP),
      threads: command.threads,
      sequences: command.parallel,
    });
    const runtime = `node-llama-cpp ${await installedPackageVersion('node-llama-cpp')}`;
    return new LlamaCppBackend(llama, model, context, { threads: command.threads, runtime, onGpu });
  } catch (error) {
    throw await nativeLog.explain(error);
  }
}

type LlamaLogger = (level: LlamaLogLevel, message: string) => void;

/** A CPU llama.cpp instance made before any load command (a warm spare runner), so the load itself only maps the model. */
let prewarmedCpuLlama: Promise<Llama> | undefined;

/** Initialises llama.cpp for the CPU ahead of time (~0.7 s here); loads on the CPU then reuse it. */
export function prewarm(): Promise<unknown> {
  prewarmedCpuLlama ??= openCpuLlama(nativeLog.logger);
  return prewarmedCpuLlama;
}

async function openLlama(command: LoadCommand, logger: LlamaLogger): Promise<Llama> {
  if (command.device === 'gpu') {
    if (command.gpuIndex !== undefined) restrictToGpu(command.gpuIndex);
    const llama = await getLlama({ gpu: 'auto', logger });
    if (llama.gpu === false) throw new Error('llamacpp runner: device gpu was requested but node-llama-cpp found no usable GPU backend (CUDA, Vulkan or Metal)');
    return llama;
  }
  return prewarmedCpuLlama ?? openCpuLlama(logger);
}

async function openCpuLlama(logger: LlamaLogger): Promise<Llama> {
  try {
    return await getLlama({ gpu: false, logger });
  } catch (cpuError) {
    // Installs that carry only GPU builds (no CPU-only binary) still run on the CPU through a GPU build with 0 layers offloaded.
    process.stderr.write(`llamacpp runner: no CPU-only binary (${errorText(cpuError)}); using a GPU build with 0 GPU layers\n`);
    return getLlama({ gpu: 'auto', logger });
  }
}

/** Keeps llama.cpp's recent error lines: its exceptions say only "Failed to load model", its log says why. */
class NativeErrorLog {
  readonly #lines: string[] = [];

  /** Passes every line on to stderr (the server keeps its tail) and remembers the errors. */
  readonly logger: LlamaLogger = (level, message) => {
    const line = message.trimEnd();
    process.stderr.write(`[node-llama-cpp] ${line}\n`);
    if (level !== LlamaLogLevel.error && level !== LlamaLogLevel.fatal) return;
    this.#lines.push(line);
    if (this.#lines.length > NATIVE_ERROR_LINES_KEPT) this.#lines.shift();
  };

  /** The error with llama.cpp's own reason appended; its log lines arrive a moment after the rejection. */
  async explain(error: unknown): Promise<Error> {
    await new Promise((resolve) => setTimeout(resolve, NATIVE_LOG_SETTLE_MS));
    if (this.#lines.length === 0) return error instanceof Error ? error : new Error(errorText(error));
    return new Error(`${errorText(error)}: ${this.#lines.join('; ')}`);
  }
}

/** One runner hosts one model, so one log serves the whole process (and the prewarmed instance). */
const nativeLog = new NativeErrorLog();

/** The native libraries read these when they initialise, so setting them before getLlama picks the card. */
function restrictToGpu(gpuIndex: number): void {
  process.env.CUDA_VISIBLE_DEVICES ??= String(gpuIndex);
  process.env.GGML_VK_VISIBLE_DEVICES ??= String(gpuIndex);
}

/** A context sequence with the evaluators bound to it; one per in-flight generation. */
interface GenerationSlot {
  sequence: LlamaContextSequence;
  completion: LlamaCompletion;
  chat: LlamaChat;
}

/** The parts of a generation the backend assembles into a GenerationResult. */
interface GenerationOutcome {
  finishReason: GenerationResult['finishReason'];
}

interface LlamaCppBackendOptions {
  threads: number;
  runtime: string;
  onGpu: boolean;
}

class LlamaCppBackend implements RunnerBackend {
  readonly info: RunnerBackend['info'];
  readonly #llama: Llama;
  readonly #model: LlamaModel;
  readonly #context: LlamaContext;
  readonly #threads: number;
  readonly #onGpu: boolean;
  readonly #freeSlots: GenerationSlot[];
  #embeddingContext: Promise<LlamaEmbeddingContext> | null = null;
  #embedQueue: Promise<unknown> = Promise.resolve();

  constructor(llama: Llama, model: LlamaModel, context: LlamaContext, options: LlamaCppBackendOptions) {
    this.#llama = llama;
    this.#model = model;
    this.#context = context;
    this.#threads = options.threads;
    this.#onGpu = options.onGpu;
    this.#freeSlots = Array.from({ length: context.totalSequences }, () => createSlot(context.getSequence()));
    this.info = {
      device: options.onGpu ? 'gpu' : 'cpu',
      accelerator: options.onGpu && llama.gpu !== false ? llama.gpu : 'cpu',
      embeddingLength: model.embeddingVectorSize,
      contextSize: context.contextSize,
      capabilities: ['generate', 'chat', 'embed'],
      runtime: options.runtime,
    };
  }

  async generate(prompt: string, request: GenerationRequest): Promise<GenerationResult> {
    const clock = new GenerationClock(request);
    const promptTokens = this.#completionInput(prompt);
    clock.promptTokens = promptTokens.length;
    const maxTokens = this.#fitMaxTokens(promptTokens.length, request.maxTokens);
    return this.#withSlot(clock, async (slot) => {
      if (request.ignoreEos) return generateIgnoringEos(slot.sequence, promptTokens, maxTokens, request, clock);
      const { metadata } = await slot.completion.generateCompletionWithMeta(prompt, {
        ...samplingOptions(request, maxTokens, clock),
        // The prompt was checked to fit; no context shift may silently drop its start.
        contextShiftSize: 1,
        disableContextShift: true,
      });
      return { finishReason: finishReasonOf(metadata.stopReason) };
    });
  }

  async chat(messages: ChatMessage[], request: GenerationRequest): Promise<GenerationResult> {
    const clock = new GenerationClock(request);
    const history = toChatHistory(messages);
    return this.#withSlot(clock, async (slot) => {
      const promptTokens = countChatPromptTokens(slot.chat, history, this.#model);
      clock.promptTokens = promptTokens;
      const maxTokens = this.#fitMaxTokens(promptTokens, request.maxTokens);
      const { metadata } = await slot.chat.generateResponse(history, samplingOptions(request, maxTokens, clock));
      return { finishReason: finishReasonOf(metadata.stopReason) };
    });
  }

  async embed(inputs: string[]): Promise<EmbedOutput> {
    if (inputs.length === 0) throw new BackendError('invalid_input', 'inputs must hold at least one string');
    // One embedding context evaluates one input at a time; requests queue here instead of racing on it.
    const run = this.#embedQueue.then(() => this.#embedSequentially(inputs));
    this.#embedQueue = run.catch(() => undefined);
    return run;
  }

  async #embedSequentially(inputs: string[]): Promise<EmbedOutput> {
    const embeddingContext = await this.#getEmbeddingContext();
    const embeddings: number[][] = [];
    let tokens = 0;
    for (const input of inputs) {
      const inputTokens = this.#truncateToContext(embeddingContext, this.#model.tokenize(input));
      const embedding = await embeddingContext.getEmbeddingFor(inputTokens);
      embeddings.push(toUnitVector(embedding.vector));
      tokens += embeddingContext.calculateInputLength(inputTokens);
    }
    return { embeddings, tokens, batchSize: inputs.length };
  }

  /** Cuts an input to what the context holds, as the onnx pipeline (and Ollama's default `truncate`) does. */
  #truncateToContext(embeddingContext: LlamaEmbeddingContext, textTokens: Token[]): Token[] {
    // The context adds its beginning/end tokens itself, and needs one cell to spare.
    const specialTokens = embeddingContext.calculateInputLength(textTokens) - textTokens.length;
    const room = this.#context.contextSize - 1 - specialTokens;
    return textTokens.length > room ? textTokens.slice(0, room) : textTokens;
  }

  #getEmbeddingContext(): Promise<LlamaEmbeddingContext> {
    this.#embeddingContext ??= this.#model.createEmbeddingContext({ contextSize: this.#context.contextSize, threads: this.#threads });
    return this.#embeddingContext;
  }

  async memory(): Promise<MemoryReport> {
    const rssBytes = process.memoryUsage().rss;
    if (!this.#onGpu) return { rssBytes };
    // What this Llama instance holds (model + contexts); getVramState() would count every process on the card.
    const { gpuVram } = await this.#llama.getLlamaMemoryUsage();
    return { rssBytes, vramBytes: Math.max(0, Math.round(gpuVram)) };
  }

  async dispose(): Promise<void> {
    if (this.#embeddingContext) await (await this.#embeddingContext).dispose();
    await this.#context.dispose();
    await this.#model.dispose();
    // The prewarmed instance outlives a warm-up model: the real load reuses it.
    if (prewarmedCpuLlama === undefined || (await prewarmedCpuLlama) !== this.#llama) await this.#llama.dispose();
  }

  /** Prompt tokens as LlamaCompletion feeds them: the beginning-of-sequence token, then the text. */
  #completionInput(prompt: string): Token[] {
    const bos = beginningToken(this.#model);
    const textTokens = this.#model.tokenize(prompt, false, bos === null ? undefined : 'trimLeadingSpace');
    return bos === null ? textTokens : [bos, ...textTokens];
  }

  /** Rejects a prompt that leaves no room to generate; caps maxTokens at the end of the context window. */
  #fitMaxTokens(promptTokens: number, maxTokens: number): number {
    const contextSize = this.#context.contextSize;
    if (promptTokens >= contextSize) {
      throw new BackendError('context_overflow', `prompt of ${promptTokens} tokens does not fit the context of ${contextSize} tokens`);
    }
    return Math.min(maxTokens, contextSize - promptTokens);
  }

  /** Runs a generation on a free sequence; an abort before or during it ends as 'cancelled'. */
  async #withSlot(clock: GenerationClock, run: (slot: GenerationSlot) => Promise<GenerationOutcome>): Promise<GenerationResult> {
    const slot = this.#freeSlots.pop();
    if (!slot) throw new BackendError('overloaded', `all ${this.#context.totalSequences} generation slots (parallel) are busy`);
    try {
      const { finishReason } = await run(slot);
      return clock.result(finishReason);
    } catch (error) {
      if (clock.signal.aborted) return clock.result('cancelled');
      throw error;
    } finally {
      this.#freeSlots.push(slot);
    }
  }
}

/** The token LlamaCompletion puts before a prompt (mirrors its resolveBeginningTokenToPrepend, which is not exported). */
function beginningToken(model: LlamaModel): Token | null {
  const vocabulary = model.vocabularyType;
  if (vocabulary === LlamaVocabularyType.rwkv || vocabulary === LlamaVocabularyType.ugm) return null;
  if (vocabulary === LlamaVocabularyType.wpm || model.tokens.shouldPrependBosToken) return model.tokens.bos;
  return null;
}

function createSlot(sequence: LlamaContextSequence): GenerationSlot {
  return { sequence, completion: new LlamaCompletion({ contextSequence: sequence }), chat: new LlamaChat({ contextSequence: sequence }) };
}

/** Times a generation and collects its streamed text, so `done.text` is exactly what was streamed. */
class GenerationClock {
  readonly signal: AbortSignal;
  /** Set by the caller once the prompt is tokenized. */
  promptTokens = 0;
  readonly #startMs = performance.now();
  readonly #request: GenerationRequest;
  #firstTokenMs: number | null = null;
  #completionTokens = 0;
  #text = '';

  constructor(request: GenerationRequest) {
    this.#request = request;
    this.signal = request.signal;
  }

  countTokens(count: number): void {
    if (count > 0 && this.#firstTokenMs === null) this.#firstTokenMs = performance.now() - this.#startMs;
    this.#completionTokens += count;
  }

  emitText(text: string): void {
    if (text === '') return;
    this.#text += text;
    this.#request.onText?.(text);
  }

  result(finishReason: GenerationResult['finishReason']): GenerationResult {
    return {
      text: this.#text,
      promptTokens: this.promptTokens,
      completionTokens: this.#completionTokens,
      finishReason,
      firstTokenMs: this.#firstTokenMs,
      generationMs: performance.now() - this.#startMs,
    };
  }
}

/** Options LlamaCompletion and LlamaChat share (the intersection of their option types). */
function samplingOptions(request: GenerationRequest, maxTokens: number, clock: GenerationClock): LlamaCompletionGenerationOptions & LLamaChatGenerateResponseOptions {
  return {
    maxTokens,
    temperature: request.temperature,
    ...(request.seed === undefined ? {} : { seed: request.seed }),
    customStopTriggers: request.stop.filter((stop) => stop !== ''),
    signal: request.signal,
    stopOnAbortSignal: true,
    onToken: (tokens: Token[]) => clock.countTokens(tokens.length),
    onTextChunk: (text: string) => clock.emitText(text),
  };
}

type StopReason = 'eogToken' | 'stopGenerationTrigger' | 'customStopTrigger' | 'functionCalls' | 'maxTokens' | 'abort';

function finishReasonOf(stopReason: StopReason): GenerationResult['finishReason'] {
  if (stopReason === 'maxTokens') return 'length';
  if (stopReason === 'abort') return 'cancelled';
  return 'stop';
}

/**
 * Generates exactly maxTokens: end-of-generation tokens are fed back like any other (they add no text), as benchmarks
 * need a fixed count. Stop strings do not apply here.
 */
async function generateIgnoringEos(
  sequence: LlamaContextSequence,
  input: Token[],
  maxTokens: number,
  request: GenerationRequest,
  clock: GenerationClock,
): Promise<GenerationOutcome> {
  const model = sequence.model;
  await sequence.clearHistory();
  const emitted: Token[] = [];
  let pending: Token[] = [];
  const seed = request.seed === undefined ? {} : { seed: request.seed };
  const tokens = sequence.evaluate(input, { temperature: request.temperature, ...seed, yieldEogToken: true });
  let generated = 0;
  for await (const token of tokens) {
    generated += 1;
    clock.countTokens(1);
    pending.push(token);
    // A multi-byte character can span tokens: hold them until the text is whole (as LlamaCompletion does).
    const text = model.detokenize(pending, false, emitted.slice(-16));
    if (!text.endsWith('\uFFFD') || pending.length >= 4) {
      clock.emitText(text);
      emitted.push(...pending);
      pending = [];
    }
    if (generated >= maxTokens || clock.signal.aborted) break;
  }
  if (pending.length > 0) clock.emitText(model.detokenize(pending, false, emitted.slice(-16)));
  return { finishReason: clock.signal.aborted && generated < maxTokens ? 'cancelled' : 'length' };
}

function toChatHistory(messages: ChatMessage[]): ChatHistoryItem[] {
  return messages.map((message): ChatHistoryItem => {
    if (message.role === 'assistant') return { type: 'model', response: [message.content] };
    return { type: message.role, text: message.content };
  });
}

/** Tokens of the rendered chat (template applied) up to where the model's answer starts. */
function countChatPromptTokens(chat: LlamaChat, history: ChatHistoryItem[], model: LlamaModel): number {
  const withAnswerTurn: ChatHistoryItem[] = history.at(-1)?.type === 'model' ? history : [...history, { type: 'model', response: [] }];
  const { contextText } = chat.chatWrapper.generateContextState({ chatHistory: withAnswerTurn });
  return contextText.tokenize(model.tokenizer).length;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
