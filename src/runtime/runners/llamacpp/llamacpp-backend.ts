// llama.cpp backend (node-llama-cpp): completion, chat and embeddings on one GGUF, one context sequence per request.
import path from 'node:path';
import {
  getLlama,
  LlamaChat,
  LlamaCompletion,
  LlamaLogLevel,
  type Llama,
  type LlamaContext,
  type LlamaContextSequence,
  type LlamaEmbeddingContext,
  type LlamaGrammar,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import { supportsTools } from '../../../model-shape/chat-template-facts.ts';
import type { ChatMessage, LoadCommand, MemoryReport, ToolDefinition } from '../../protocol.ts';
import {
  BackendError,
  installedPackageVersion,
  toUnitVector,
  type EmbedOutput,
  type GenerationRequest,
  type GenerationResult,
  type RunnerBackend,
} from '../runner-backend.ts';
import {
  beginningToken,
  countChatPromptTokens,
  finishReasonOf,
  GenerationClock,
  generateIgnoringEos,
  samplingOptions,
  type GenerationOutcome,
} from './llamacpp-generation.ts';
import { toChatFunctions, toChatHistory, toToolCalls } from './llamacpp-chat-history.ts';
import { GrammarCache } from './llamacpp-grammar.ts';
import { StepBatcher } from './step-batching.ts';

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
    const batcher = new StepBatcher();
    // threads is passed everywhere: node-llama-cpp's own default oversubscribes small machines by 30-300x.
    const context = await model.createContext({
      contextSize: command.contextSize ?? Math.min(model.trainContextSize, DEFAULT_CONTEXT_CAP),
      threads: command.threads,
      sequences: command.parallel,
      batching: { itemPrioritizationStrategy: batcher.strategy },
    });
    batcher.attach(context);
    const runtime = `node-llama-cpp ${await installedPackageVersion('node-llama-cpp')}`;
    return new LlamaCppBackend(llama, model, context, { threads: command.threads, runtime, onGpu, batcher });
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
    if (llama.gpu === false)
      throw new Error('llamacpp runner: device gpu was requested but node-llama-cpp found no usable GPU backend (CUDA, Vulkan or Metal)');
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
  sequenceId: number;
  completion: LlamaCompletion;
  chat: LlamaChat;
}

interface LlamaCppBackendOptions {
  threads: number;
  runtime: string;
  onGpu: boolean;
  batcher: StepBatcher;
}

class LlamaCppBackend implements RunnerBackend {
  readonly info: RunnerBackend['info'];
  readonly #llama: Llama;
  readonly #model: LlamaModel;
  readonly #context: LlamaContext;
  readonly #threads: number;
  readonly #onGpu: boolean;
  /** Free sequences, highest id first: pop() takes the lowest, so busy sequences stay consecutive (one micro-batch a step). */
  readonly #freeSlots: GenerationSlot[];
  readonly #batcher: StepBatcher;
  readonly #grammars: GrammarCache;
  #embeddingContext: Promise<LlamaEmbeddingContext> | null = null;
  #embedQueue: Promise<unknown> = Promise.resolve();

  constructor(llama: Llama, model: LlamaModel, context: LlamaContext, options: LlamaCppBackendOptions) {
    this.#llama = llama;
    this.#model = model;
    this.#context = context;
    this.#threads = options.threads;
    this.#onGpu = options.onGpu;
    // A fresh context hands out sequence ids 0, 1, 2… in order, so the creation index is the id.
    this.#freeSlots = Array.from({ length: context.totalSequences }, (_, index) => createSlot(context.getSequence(), index)).sort(
      byIdDescending,
    );
    this.#batcher = options.batcher;
    this.#grammars = new GrammarCache(llama);
    // Tool calling is offered where the model's own chat template has it (the rule /api/show applies to unloaded models too).
    const tools = supportsTools(model.fileInfo.metadata.tokenizer?.chat_template);
    this.info = {
      device: options.onGpu ? 'gpu' : 'cpu',
      accelerator: options.onGpu && llama.gpu !== false ? llama.gpu : 'cpu',
      embeddingLength: model.embeddingVectorSize,
      contextSize: context.contextSize,
      capabilities: ['generate', 'chat', 'embed', ...(tools ? (['tools'] as const) : [])],
      runtime: options.runtime,
    };
  }

  async generate(prompt: string, request: GenerationRequest): Promise<GenerationResult> {
    const clock = new GenerationClock(request);
    const promptTokens = this.#completionInput(prompt);
    clock.promptTokens = promptTokens.length;
    const maxTokens = this.#fitMaxTokens(promptTokens.length, request.maxTokens);
    const grammar = await this.#grammarFor(request);
    return this.#withSlot(clock, async (slot) => {
      if (request.ignoreEos) {
        if (grammar) throw new BackendError('invalid_input', 'ignore_eos cannot be combined with a response format');
        return generateIgnoringEos(slot.sequence, promptTokens, maxTokens, request, clock);
      }
      const { metadata } = await slot.completion.generateCompletionWithMeta(prompt, {
        ...samplingOptions(request, maxTokens, clock),
        ...(grammar ? { grammar } : {}),
        // The prompt was checked to fit; no context shift may silently drop its start.
        contextShiftSize: 1,
        disableContextShift: true,
      });
      return { finishReason: finishReasonOf(metadata.stopReason) };
    });
  }

  async chat(messages: ChatMessage[], request: GenerationRequest, tools: readonly ToolDefinition[]): Promise<GenerationResult> {
    const clock = new GenerationClock(request);
    const history = toChatHistory(messages);
    // node-llama-cpp constrains a response either to a grammar or to its function-call syntax, not both.
    if (tools.length > 0 && request.responseFormat) {
      throw new BackendError('invalid_input', 'a response format cannot be combined with tools');
    }
    const functions = tools.length > 0 ? toChatFunctions(tools) : undefined;
    const grammar = await this.#grammarFor(request);
    return this.#withSlot(clock, async (slot) => {
      const promptTokens = countChatPromptTokens(slot.chat, history, this.#model, functions);
      clock.promptTokens = promptTokens;
      const maxTokens = this.#fitMaxTokens(promptTokens, request.maxTokens);
      const options = samplingOptions(request, maxTokens, clock);
      if (functions) {
        const response = await slot.chat.generateResponse(history, { ...options, functions });
        const toolCalls = toToolCalls(response.functionCalls);
        return { finishReason: toolCalls.length > 0 ? 'tool_calls' : finishReasonOf(response.metadata.stopReason), toolCalls };
      }
      const { metadata } = await slot.chat.generateResponse(history, { ...options, ...(grammar ? { grammar } : {}) });
      return { finishReason: finishReasonOf(metadata.stopReason) };
    });
  }

  #grammarFor(request: GenerationRequest): Promise<LlamaGrammar | undefined> {
    return request.responseFormat ? this.#grammars.grammarFor(request.responseFormat) : Promise.resolve(undefined);
  }

  async embed(inputs: string[], options: { truncate: boolean }): Promise<EmbedOutput> {
    if (inputs.length === 0) throw new BackendError('invalid_input', 'inputs must hold at least one string');
    // One embedding context evaluates one input at a time; requests queue here instead of racing on it.
    const run = this.#embedQueue.then(() => this.#embedSequentially(inputs, options.truncate));
    this.#embedQueue = run.catch(() => undefined);
    return run;
  }

  async #embedSequentially(inputs: string[], truncate: boolean): Promise<EmbedOutput> {
    const embeddingContext = await this.#getEmbeddingContext();
    const tokenized = inputs.map((input) => this.#model.tokenize(input));
    // Refused before any input is embedded: the whole request fails, as one answer cannot leave an input out.
    if (!truncate) for (const [index, textTokens] of tokenized.entries()) this.#assertFitsContext(embeddingContext, textTokens, index);
    const embeddings: number[][] = [];
    let tokens = 0;
    for (const textTokens of tokenized) {
      const inputTokens = this.#truncateToContext(embeddingContext, textTokens);
      const embedding = await embeddingContext.getEmbeddingFor(inputTokens);
      embeddings.push(toUnitVector(embedding.vector));
      tokens += embeddingContext.calculateInputLength(inputTokens);
    }
    return { embeddings, tokens, batchSize: inputs.length };
  }

  /** Cuts an input to what the context holds, as the onnx pipeline (and Ollama's default `truncate`) does. */
  #truncateToContext(embeddingContext: LlamaEmbeddingContext, textTokens: Token[]): Token[] {
    const room = this.#embeddingRoom(embeddingContext, textTokens);
    return textTokens.length > room ? textTokens.slice(0, room) : textTokens;
  }

  /** Text tokens an input may have: the context adds its beginning/end tokens itself, and needs one cell to spare. */
  #embeddingRoom(embeddingContext: LlamaEmbeddingContext, textTokens: Token[]): number {
    const specialTokens = embeddingContext.calculateInputLength(textTokens) - textTokens.length;
    return this.#context.contextSize - 1 - specialTokens;
  }

  #assertFitsContext(embeddingContext: LlamaEmbeddingContext, textTokens: Token[], index: number): void {
    const room = this.#embeddingRoom(embeddingContext, textTokens);
    if (textTokens.length > room) {
      throw new BackendError(
        'context_overflow',
        `input ${index} has ${textTokens.length} tokens, more than the ${room} this model embeds at once (context ${this.#context.contextSize}); send truncate: true to cut it to fit`,
      );
    }
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
    this.#batcher.begin();
    try {
      const { finishReason, toolCalls } = await run(slot);
      return clock.result(finishReason, toolCalls);
    } catch (error) {
      if (clock.signal.aborted) return clock.result('cancelled');
      throw error;
    } finally {
      this.#batcher.end();
      this.#freeSlots.push(slot);
      this.#freeSlots.sort(byIdDescending);
    }
  }
}

const byIdDescending = (a: GenerationSlot, b: GenerationSlot) => b.sequenceId - a.sequenceId;

function createSlot(sequence: LlamaContextSequence, sequenceId: number): GenerationSlot {
  return {
    sequence,
    sequenceId,
    completion: new LlamaCompletion({ contextSequence: sequence }),
    chat: new LlamaChat({ contextSequence: sequence }),
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
