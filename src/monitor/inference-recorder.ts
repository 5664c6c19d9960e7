// Every inference request's outcome, recorded in one place; metrics and the dashboard subscribe to it.
import { EventEmitter } from 'node:events';

export type InferenceKind = 'embed' | 'generate' | 'chat';

export interface InferenceRecord {
  model: string;
  version: number | null;
  kind: InferenceKind;
  /** 'success' or the error code (runner_crashed, queue_full, …). */
  outcome: string;
  latencyMs: number;
  /** Time spent waiting for a slot before the runner got the request. */
  queueMs: number;
  /** Input tokens (embeddings) or prompt tokens. */
  promptTokens: number;
  completionTokens: number;
  /** Inputs in the request (embeddings). */
  items: number;
  at: number;
}

export class InferenceRecorder extends EventEmitter<{ record: [InferenceRecord] }> {
  private readonly recent: InferenceRecord[] = [];

  constructor(private readonly keep = 10_000) {
    super();
  }

  record(entry: InferenceRecord): void {
    this.recent.push(entry);
    if (this.recent.length > this.keep) this.recent.splice(0, this.recent.length - this.keep);
    this.emit('record', entry);
  }

  /** The latest records, oldest first (bounded). */
  latest(): readonly InferenceRecord[] {
    return this.recent;
  }
}
