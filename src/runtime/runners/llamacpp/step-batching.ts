// Continuous batching for one llama.cpp context: each step carries a token of every generating sequence, in sequence-id order.
import type { BatchItem, LlamaContext, PrioritizedBatchItem } from 'node-llama-cpp';

/**
 * How many times a step may be put off waiting for a generating sequence that has not queued its next token yet.
 * A sequence re-queues a few promise turns after the step that fed it, so a handful of empty turns is enough; past
 * this the step goes ahead without it (a sequence busy elsewhere never stalls the others).
 */
const MAX_WAITS_PER_STEP = 20;

/** What the batcher saw: steps decoded, tokens in them, and steps that carried every generating sequence. */
export interface StepStats {
  steps: number;
  tokens: number;
  fullSteps: number;
  waits: number;
}

/** node-llama-cpp's queue entry for a batch item (internal: read defensively, so a change there only loses the ordering). */
interface QueuedDecode {
  sequenceId?: unknown;
}

/**
 * node-llama-cpp decodes whatever is queued when the previous step ends, in queue order. Two things then cost a CPU
 * most of the gain of batching several sequences:
 * - a sequence still a few promise turns from re-queuing misses the step, so steps alternate between 3 of 4 and 1;
 * - llama.cpp puts consecutive increasing sequence ids into one micro-batch (llama_batch_allocr::split_equal with a
 *   per-sequence KV cache), so a step queued as [2, 0, 3, 1] runs as several forward passes instead of one.
 * This strategy waits (briefly) for every generating sequence, orders the step by sequence id, and shares the batch
 * fairly between long prompts and single generated tokens, as node-llama-cpp's own maximumParallelism does.
 */
export class StepBatcher {
  #context: LlamaContext | null = null;
  #generating = 0;
  #waits = 0;
  readonly #stats: StepStats = { steps: 0, tokens: 0, fullSteps: 0, waits: 0 };

  /** The context whose queue the strategy reads; it is created with the strategy, so it is attached after. */
  attach(context: LlamaContext): void {
    this.#context = context;
  }

  /** A generation starts on one of the context's sequences. */
  begin(): void {
    this.#generating += 1;
  }

  /** A generation ended (finished, failed or cancelled). */
  end(): void {
    this.#generating = Math.max(0, this.#generating - 1);
  }

  stats(): StepStats {
    return { ...this.#stats };
  }

  /** node-llama-cpp's `batching.itemPrioritizationStrategy`. */
  readonly strategy = ({ items, size }: { items: readonly BatchItem[]; size: number }): PrioritizedBatchItem[] => {
    if (items.length === 0) return [];
    if (items.length < this.#generating && this.#waits < MAX_WAITS_PER_STEP) {
      // An empty step: node-llama-cpp loops again after a promise turn, by which time the others may have queued.
      this.#waits += 1;
      this.#stats.waits += 1;
      return [];
    }
    this.#waits = 0;
    const ordered = orderBySequence(items, this.#queuedSequenceIds(items.length));
    const amounts = fairShares(ordered, size);
    this.#stats.steps += 1;
    this.#stats.tokens += amounts.reduce((sum, amount) => sum + amount, 0);
    if (items.length >= this.#generating) this.#stats.fullSteps += 1;
    return ordered.map((item, index) => ({ item, processAmount: amounts[index] ?? 0 })).filter((entry) => entry.processAmount > 0);
  };

  /** The sequence id of each queued item, in the order node-llama-cpp listed them; null where its queue is not readable. */
  #queuedSequenceIds(count: number): number[] | null {
    const queue = (this.#context as unknown as { _queuedDecodes?: unknown } | null)?._queuedDecodes;
    if (!Array.isArray(queue) || queue.length !== count) return null;
    const ids = (queue as QueuedDecode[]).map((entry) => entry.sequenceId);
    return ids.every((id): id is number => typeof id === 'number') ? ids : null;
  }
}

/** Items sorted by their sequence id (ties and unknown ids keep their order). */
export function orderBySequence(items: readonly BatchItem[], sequenceIds: readonly number[] | null): BatchItem[] {
  if (sequenceIds === null) return [...items];
  return items
    .map((item, index) => ({ item, id: sequenceIds[index] ?? Number.MAX_SAFE_INTEGER, index }))
    .sort((a, b) => a.id - b.id || a.index - b.index)
    .map((entry) => entry.item);
}

/**
 * Tokens each item may put in a step of `size`: rounds of equal shares of what is left, so a long prompt cannot
 * crowd a generating sequence's single token out of the step.
 */
export function fairShares(items: readonly Pick<BatchItem, 'tokens'>[], size: number): number[] {
  const shares = items.map((item) => ({ wanted: item.tokens.length, amount: 0 }));
  let left = size;
  while (left > 0) {
    const open = shares.filter((share) => share.amount < share.wanted);
    if (open.length === 0) break;
    const each = Math.max(1, Math.floor(left / open.length));
    for (const share of open) {
      const add = Math.min(each, share.wanted - share.amount, left);
      share.amount += add;
      left -= add;
      if (left === 0) break;
    }
  }
  return shares.map((share) => share.amount);
}
