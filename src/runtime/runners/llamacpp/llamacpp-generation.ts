// llama.cpp generation pieces: timing and streamed text, sampling options, stop reasons, the EOS-ignoring loop, chat prompts.
import {
  LlamaVocabularyType,
  type ChatHistoryItem,
  type ChatModelFunctions,
  type LLamaChatGenerateResponseOptions,
  type LLamaContextualRepeatPenalty,
  type LlamaChat,
  type LlamaCompletionGenerationOptions,
  type LlamaContextSequence,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import type { ToolCall } from '../../protocol.ts';
import type { GenerationRequest, GenerationResult } from '../runner-backend.ts';

/** The parts of a generation the backend assembles into a GenerationResult. */
export interface GenerationOutcome {
  finishReason: GenerationResult['finishReason'];
  toolCalls?: ToolCall[];
}

/** How many recent tokens the repeat penalties look at (llama.cpp's and Ollama's repeat_last_n default). */
const REPEAT_PENALTY_LAST_TOKENS = 64;

/** The token LlamaCompletion puts before a prompt (mirrors its resolveBeginningTokenToPrepend, which is not exported). */
export function beginningToken(model: LlamaModel): Token | null {
  const vocabulary = model.vocabularyType;
  if (vocabulary === LlamaVocabularyType.rwkv || vocabulary === LlamaVocabularyType.ugm) return null;
  if (vocabulary === LlamaVocabularyType.wpm || model.tokens.shouldPrependBosToken) return model.tokens.bos;
  return null;
}

/** Times a generation and collects its streamed text, so `done.text` is exactly what was streamed. */
export class GenerationClock {
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

  result(finishReason: GenerationResult['finishReason'], toolCalls: ToolCall[] = []): GenerationResult {
    return {
      text: this.#text,
      ...(toolCalls.length > 0 ? { toolCalls } : {}),
      promptTokens: this.promptTokens,
      completionTokens: this.#completionTokens,
      finishReason,
      firstTokenMs: this.#firstTokenMs,
      generationMs: performance.now() - this.#startMs,
    };
  }
}

/** The sampler settings a request gives, in node-llama-cpp's names (absent ones keep its defaults). */
export function samplerSettings(request: GenerationRequest): {
  temperature: number;
  seed?: number;
  topP?: number;
  topK?: number;
  repeatPenalty?: LLamaContextualRepeatPenalty;
} {
  const { repeatPenalty, frequencyPenalty, presencePenalty } = request;
  const penalised = repeatPenalty !== undefined || frequencyPenalty !== undefined || presencePenalty !== undefined;
  return {
    temperature: request.temperature,
    ...(request.seed === undefined ? {} : { seed: request.seed }),
    ...(request.topP === undefined ? {} : { topP: request.topP }),
    ...(request.topK === undefined ? {} : { topK: request.topK }),
    ...(penalised
      ? {
          repeatPenalty: {
            penalty: repeatPenalty ?? 1,
            frequencyPenalty: frequencyPenalty ?? 0,
            presencePenalty: presencePenalty ?? 0,
            lastTokens: REPEAT_PENALTY_LAST_TOKENS,
          },
        }
      : {}),
  };
}

/** Options LlamaCompletion and LlamaChat share (the grammar and functions each add on their own). */
type SharedGenerationOptions = Pick<
  LlamaCompletionGenerationOptions,
  'maxTokens' | 'temperature' | 'seed' | 'topP' | 'topK' | 'repeatPenalty' | 'customStopTriggers' | 'signal' | 'stopOnAbortSignal'
> &
  Pick<LLamaChatGenerateResponseOptions, 'onToken' | 'onTextChunk'>;

export function samplingOptions(request: GenerationRequest, maxTokens: number, clock: GenerationClock): SharedGenerationOptions {
  return {
    maxTokens,
    ...samplerSettings(request),
    customStopTriggers: request.stop.filter((stop) => stop !== ''),
    signal: request.signal,
    stopOnAbortSignal: true,
    onToken: (tokens: Token[]) => clock.countTokens(tokens.length),
    onTextChunk: (text: string) => clock.emitText(text),
  };
}

type StopReason = 'eogToken' | 'stopGenerationTrigger' | 'customStopTrigger' | 'functionCalls' | 'maxTokens' | 'abort';

export function finishReasonOf(stopReason: StopReason): GenerationResult['finishReason'] {
  if (stopReason === 'maxTokens') return 'length';
  if (stopReason === 'abort') return 'cancelled';
  if (stopReason === 'functionCalls') return 'tool_calls';
  return 'stop';
}

/**
 * Generates exactly maxTokens: end-of-generation tokens are fed back like any other (they add no text), as benchmarks
 * need a fixed count. Stop strings do not apply here.
 */
export async function generateIgnoringEos(
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
  const { repeatPenalty, ...sampler } = samplerSettings(request);
  // evaluate() takes the penalty with the tokens to punish; the recent output is what the completion path punishes too.
  const penalty = repeatPenalty
    ? {
        repeatPenalty: {
          penalty: repeatPenalty.penalty,
          frequencyPenalty: repeatPenalty.frequencyPenalty,
          presencePenalty: repeatPenalty.presencePenalty,
          maxPunishTokens: REPEAT_PENALTY_LAST_TOKENS,
          punishTokens: () => emitted.slice(-REPEAT_PENALTY_LAST_TOKENS),
        },
      }
    : {};
  const tokens = sequence.evaluate(input, { ...sampler, ...penalty, yieldEogToken: true });
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

/** Tokens of the rendered chat (template applied) up to where the model's answer starts. */
export function countChatPromptTokens(
  chat: LlamaChat,
  history: ChatHistoryItem[],
  model: LlamaModel,
  availableFunctions?: ChatModelFunctions,
): number {
  const withAnswerTurn: ChatHistoryItem[] = history.at(-1)?.type === 'model' ? history : [...history, { type: 'model', response: [] }];
  const { contextText } = chat.chatWrapper.generateContextState({
    chatHistory: withAnswerTurn,
    ...(availableFunctions ? { availableFunctions } : {}),
  });
  return contextText.tokenize(model.tokenizer).length;
}
