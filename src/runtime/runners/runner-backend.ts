// The contract between the runner process and the one inference backend it hosts (onnx, llama.cpp, …).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChatMessage, GenerationDone, LoadCommand, MemoryReport, ReadyMessage, ResponseFormat, ToolDefinition } from '../protocol.ts';

/** What a loaded backend tells the server in its `ready` message (the runner adds loadMs and memory). */
export type BackendInfo = Pick<ReadyMessage, 'device' | 'accelerator' | 'embeddingLength' | 'contextSize' | 'capabilities' | 'runtime'>;

/** One embed request's answer: a unit vector per input, in input order. */
export interface EmbedOutput {
  embeddings: number[][];
  /** Tokens the model saw for these inputs (padding excluded). */
  tokens: number;
  /** How many inputs ran together in the batch this request joined. */
  batchSize: number;
}

/** One text generation, independent of the wire format. */
export interface GenerationRequest {
  maxTokens: number;
  /** 0 means greedy. */
  temperature: number;
  stop: readonly string[];
  /** Generate exactly maxTokens (fewer only when the context ends), past end-of-generation tokens. */
  ignoreEos: boolean;
  seed?: number;
  /** Sampler settings; absent ones keep the runtime's defaults. */
  topP?: number;
  topK?: number;
  repeatPenalty?: number;
  frequencyPenalty?: number;
  presencePenalty?: number;
  /** Constrains the text to JSON (or JSON matching a schema) with a grammar. */
  responseFormat?: ResponseFormat;
  /** Aborting ends the generation early with finishReason 'cancelled'. */
  signal: AbortSignal;
  /** Receives text as it is produced; the chunks concatenate to the final text. */
  onText?: (text: string) => void;
}

/** The `done` message's fields a backend fills in. */
export type GenerationResult = Omit<GenerationDone, 'type' | 'id'>;

/** A loaded model. Methods a backend cannot serve are absent (and missing from `info.capabilities`). */
export interface RunnerBackend {
  readonly info: BackendInfo;
  /** `truncate` false: an input longer than the model takes is refused (context_overflow) instead of cut to fit. */
  embed?(inputs: string[], options: { truncate: boolean }): Promise<EmbedOutput>;
  generate?(prompt: string, request: GenerationRequest): Promise<GenerationResult>;
  /** With `tools` the model may answer with tool calls (finishReason tool_calls) instead of text. */
  chat?(messages: ChatMessage[], request: GenerationRequest, tools: readonly ToolDefinition[]): Promise<GenerationResult>;
  /** Memory this process holds now: RSS, plus VRAM where the runtime reports it. */
  memory(): Promise<MemoryReport>;
  /** Frees the model; the runner exits right after. */
  dispose(): Promise<void>;
}

/** A tiny model a backend loads once to warm its runtime, as the fields of a load command. */
export interface WarmUpModel {
  modelDir: string;
  entry: string;
  extras: Partial<LoadCommand>;
}

/** Opens the model a `load` command names; rejects with the runtime's own reason. */
export type LoadBackend = (command: LoadCommand) => Promise<RunnerBackend>;

/** Error codes a request can fail with (the `code` of a protocol `error` message). */
export type BackendErrorCode = 'unsupported_operation' | 'invalid_input' | 'context_overflow' | 'overloaded' | 'runtime_error';

/** A request failure the runner reports with its code; anything else becomes runtime_error. */
export class BackendError extends Error {
  constructor(
    readonly code: BackendErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BackendError';
  }
}

/** Scales a vector to unit length (a zero vector stays zero). */
export function toUnitVector(values: ArrayLike<number>): number[] {
  const vector = Array.from(values);
  let sumOfSquares = 0;
  for (const value of vector) sumOfSquares += value * value;
  const norm = Math.sqrt(sumOfSquares);
  return vector.map((value) => (norm > 0 ? value / norm : 0));
}

/** The installed version of a package, read from its package.json (exports maps often hide that file). */
export async function installedPackageVersion(packageName: string): Promise<string> {
  let dir = path.dirname(fileURLToPath(import.meta.resolve(packageName)));
  for (;;) {
    const manifest = await readPackageJson(path.join(dir, 'package.json'));
    if (manifest?.name === packageName && typeof manifest.version === 'string') return manifest.version;
    const parent = path.dirname(dir);
    if (parent === dir) return 'unknown';
    dir = parent;
  }
}

async function readPackageJson(file: string): Promise<{ name?: unknown; version?: unknown } | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    return null;
  }
}
