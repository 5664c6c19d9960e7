// The contract between the runner process and the one inference backend it hosts (onnx, llama.cpp, …).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChatMessage, GenerationDone, LoadCommand, MemoryReport, ReadyMessage } from '../protocol.ts';

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
  embed?(inputs: string[]): Promise<EmbedOutput>;
  generate?(prompt: string, request: GenerationRequest): Promise<GenerationResult>;
  chat?(messages: ChatMessage[], request: GenerationRequest): Promise<GenerationResult>;
  /** Memory this process holds now: RSS, plus VRAM where the runtime reports it. */
  memory(): Promise<MemoryReport>;
  /** Frees the model; the runner exits right after. */
  dispose(): Promise<void>;
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
  let sumOfSquares = 0;
  for (let i = 0; i < values.length; i++) sumOfSquares += values[i] * values[i];
  const norm = Math.sqrt(sumOfSquares);
  return Array.from(values, (value) => (norm > 0 ? value / norm : 0));
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
