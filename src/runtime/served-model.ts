// The small interface at the boundary of a loaded model, wherever it runs: a Hangar runner process or an external server.
import type { ChatCommand, EmbedResult, GenerateCommand, GenerationDone, MemoryReport, ReadyMessage } from './protocol.ts';

/** How a loaded model ended (a runner process exiting, or an external backend dropping it). */
export interface ServedModelExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when Hangar asked for it (unload, shutdown). */
  expected: boolean;
  stderrTail: string;
}

/**
 * One loaded model as the runtime drives it. `RunnerProcess` is the in-process-backend form; an
 * external backend supplies its own (memory then comes from that backend's report, pid is null).
 */
export interface ServedModel {
  /** The OS process holding the model, when it is ours to read /proc of; null for external backends. */
  readonly pid: number | null;
  readonly isAlive: boolean;
  /** What the backend reported when the model became ready. */
  readonly ready: ReadyMessage;
  /** Latest memory report (RSS and, on a GPU, VRAM). */
  readonly memory: MemoryReport;
  /** Highest memory any report showed. */
  readonly peakMemory: MemoryReport;
  /** Requests being served now. */
  readonly inFlight: number;
  /** `truncate` (default true) cuts inputs longer than the model takes; false refuses them (context_overflow). */
  embed(inputs: string[], options?: { truncate?: boolean }): Promise<EmbedResult>;
  generate(command: Omit<GenerateCommand, 'type' | 'id'>, onToken?: (text: string) => void, signal?: AbortSignal): Promise<GenerationDone>;
  chat(command: Omit<ChatCommand, 'type' | 'id'>, onToken?: (text: string) => void, signal?: AbortSignal): Promise<GenerationDone>;
  /** Releases the model (graceful, then forced after `timeoutMs`). */
  stop(timeoutMs?: number): Promise<unknown>;
}
