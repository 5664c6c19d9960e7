// Micro-batching: concurrent requests' inputs are queued and run together as one batch call, one batch at a time.

/** Runs one batch; must return one output per input, in order. */
export type BatchFunction<Input, Output> = (inputs: Input[]) => Promise<Output[]>;

export interface EmbeddingBatcherOptions {
  /** The most inputs one batch call receives (a larger request is split across batches). Default 32. */
  maxBatchSize?: number;
  /** How long the oldest queued input waits for company before its batch runs anyway. Default 5 ms. */
  maxBatchWaitMs?: number;
}

/** One request's outputs, in input order. */
export interface BatchedResult<Output> {
  outputs: Output[];
  /** Size of the largest batch this request's inputs ran in (0 for an empty request). */
  batchSize: number;
}

interface PendingRequest<Output> {
  outputs: Output[];
  remaining: number;
  batchSize: number;
  failed: boolean;
  resolve: (result: BatchedResult<Output>) => void;
  reject: (error: unknown) => void;
}

interface QueuedInput<Input, Output> {
  input: Input;
  index: number;
  request: PendingRequest<Output>;
  queuedAtMs: number;
}

const DEFAULT_MAX_BATCH_SIZE = 32;
const DEFAULT_MAX_BATCH_WAIT_MS = 5;

export class EmbeddingBatcher<Input, Output> {
  readonly #runBatch: BatchFunction<Input, Output>;
  readonly #maxBatchSize: number;
  readonly #maxBatchWaitMs: number;
  #queue: QueuedInput<Input, Output>[] = [];
  #running = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(runBatch: BatchFunction<Input, Output>, options: EmbeddingBatcherOptions = {}) {
    this.#runBatch = runBatch;
    this.#maxBatchSize = Math.max(1, Math.floor(options.maxBatchSize ?? DEFAULT_MAX_BATCH_SIZE));
    this.#maxBatchWaitMs = Math.max(0, options.maxBatchWaitMs ?? DEFAULT_MAX_BATCH_WAIT_MS);
  }

  /** Inputs waiting for a batch (not counting the one running). */
  get queuedInputs(): number {
    return this.#queue.length;
  }

  /** Queues a request's inputs; resolves when all of them have run, rejects if any batch they joined failed. */
  submit(inputs: readonly Input[]): Promise<BatchedResult<Output>> {
    if (inputs.length === 0) return Promise.resolve({ outputs: [], batchSize: 0 });
    return new Promise((resolve, reject) => {
      const request: PendingRequest<Output> = {
        outputs: new Array<Output>(inputs.length),
        remaining: inputs.length,
        batchSize: 0,
        failed: false,
        resolve,
        reject,
      };
      const queuedAtMs = performance.now();
      for (const [index, input] of inputs.entries()) this.#queue.push({ input, index, request, queuedAtMs });
      this.#schedule();
    });
  }

  #schedule(): void {
    const oldest = this.#queue[0];
    if (this.#running || oldest === undefined) return;
    const waitedMs = performance.now() - oldest.queuedAtMs;
    if (this.#queue.length >= this.#maxBatchSize || waitedMs >= this.#maxBatchWaitMs) {
      this.#clearTimer();
      void this.#runNextBatch();
    } else if (this.#timer === null) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        this.#schedule();
      }, this.#maxBatchWaitMs - waitedMs);
    }
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  async #runNextBatch(): Promise<void> {
    // Inputs of a request that already failed are dropped rather than computed for nobody.
    this.#queue = this.#queue.filter((queued) => !queued.request.failed);
    const batch = this.#queue.splice(0, this.#maxBatchSize);
    if (batch.length === 0) return;
    this.#running = true;
    try {
      const outputs = await this.#runBatch(batch.map((queued) => queued.input));
      if (outputs.length !== batch.length) throw new Error(`batch function returned ${outputs.length} outputs for ${batch.length} inputs`);
      for (const [i, output] of outputs.entries()) {
        const queued = batch[i];
        if (queued === undefined) throw new Error(`internal: batch output ${i} has no queued input`);
        deliver(queued, output, batch.length);
      }
    } catch (error) {
      for (const queued of batch) fail(queued.request, error);
    } finally {
      this.#running = false;
      this.#schedule();
    }
  }
}

function deliver<Input, Output>(queued: QueuedInput<Input, Output>, output: Output, batchSize: number): void {
  const request = queued.request;
  if (request.failed) return;
  request.outputs[queued.index] = output;
  request.batchSize = Math.max(request.batchSize, batchSize);
  request.remaining -= 1;
  if (request.remaining === 0) request.resolve({ outputs: request.outputs, batchSize: request.batchSize });
}

function fail<Output>(request: PendingRequest<Output>, error: unknown): void {
  if (request.failed) return;
  request.failed = true;
  request.reject(error);
}
