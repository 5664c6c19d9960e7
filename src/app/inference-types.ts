// Inference domain types (camelCase, independent of any wire format) and the one place their defaults live.

/** Defaults every surface applies when a request leaves a generation field out. */
export const GENERATION_DEFAULTS = {
  maxTokens: 128,
  temperature: 0.8,
} as const;

/**
 * maxTokens meaning "until the model stops or the context is full" (OpenAI without max_tokens, Ollama's num_predict
 * -1): the runtime caps max tokens at the end of the context window, so no model generates this many.
 */
export const UNTIL_CONTEXT_END = 131_072;

/** A function the model may call (OpenAI's and Ollama's `tools[].function`). */
export interface ToolDefinition {
  name: string;
  description?: string;
  /** JSON schema of the arguments object. */
  parameters?: Record<string, unknown>;
}

/** A call the model made to one of the request's tools. */
export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface ChatTurn {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** On assistant turns: the tool calls the model made (earlier in the conversation). */
  toolCalls?: ToolCall[];
  /** On tool turns: which tool produced this result. */
  toolName?: string;
}

/** Constrains generated text: any JSON value (`json`), or JSON matching a schema (a grammar in the runtime). */
export type ResponseFormat = { type: 'json' } | { type: 'json_schema'; schema: Record<string, unknown> };

interface InferenceRequestBase {
  /** `name`, `name:version` or `name:alias`. */
  model: string;
  /** A keep-alive given with the request becomes the model's ("5m", seconds, 0, negative = forever). */
  keepAlive?: string | number;
}

export interface EmbedRequest extends InferenceRequestBase {
  inputs: string[];
  /** Cut inputs longer than the model's context to fit (default true); false refuses them with context_overflow. */
  truncate?: boolean;
  /** Keep the first `dimensions` values of each vector and re-normalise (Matryoshka-style); at most the model's length. */
  dimensions?: number;
}

export interface GenerationSettings {
  maxTokens?: number;
  temperature?: number;
  stop?: string[];
  seed?: number;
  /** Generate exactly maxTokens, past end-of-generation tokens (benchmarks). */
  ignoreEos?: boolean;
  /** Nucleus sampling: keep the smallest token set whose probability sums to topP (1 = off). */
  topP?: number;
  /** Keep only the topK likeliest tokens (0 = off). */
  topK?: number;
  /** Penalty for repeating recent tokens (1 = off), as llama.cpp's repeat_penalty. */
  repeatPenalty?: number;
  /** OpenAI-style penalties (-2…2): by how often a token appeared / whether it appeared. */
  frequencyPenalty?: number;
  presencePenalty?: number;
  /** Grammar-constrained output. */
  responseFormat?: ResponseFormat;
  /** Context window to load the model with when this request loads it (Ollama's num_ctx). */
  contextSize?: number;
}

export interface GenerateRequest extends InferenceRequestBase, GenerationSettings {
  prompt: string;
}

export interface ChatRequest extends InferenceRequestBase, GenerationSettings {
  messages: ChatTurn[];
  /** Functions the model may call; refused (unsupported_operation) when the model's chat template has no tool calling. */
  tools?: ToolDefinition[];
}

/** How a streaming caller hears the text as it is produced, and can stop it. */
export interface StreamControl {
  onToken?: (text: string) => void;
  signal?: AbortSignal;
}

/** Where a request's time went before its work ran. */
export interface RequestTimings {
  /** Time spent loading the model for this request (0 when it was resident). */
  loadMs: number;
  /** Time waiting for a free slot on the model. */
  queueMs: number;
}

export interface EmbedResult extends RequestTimings {
  model: string;
  version: number;
  embeddings: number[][];
  tokens: number;
  /** Time the embedding itself took, from lease to answer. */
  embedMs: number;
}

export interface GenerationResult extends RequestTimings {
  model: string;
  version: number;
  text: string;
  /** `tool_calls`: the model called tools (in toolCalls) instead of answering. */
  finishReason: 'stop' | 'length' | 'cancelled' | 'tool_calls';
  toolCalls: ToolCall[];
  promptTokens: number;
  completionTokens: number;
  /** Time to first token and generation time, measured inside the runtime. */
  firstTokenMs: number | null;
  generationMs: number;
  tokensPerSecond: number | null;
}
