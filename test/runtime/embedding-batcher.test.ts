// The micro-batcher's queueing rules, driven by a plain batch function that records what it was given.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { EmbeddingBatcher, type BatchFunction } from '../../src/runtime/runners/onnx/embedding-batcher.ts';

/** A batch function that upper-cases its inputs after `delayMs`, recording every batch and the peak concurrency. */
function recordingBatch(delayMs = 0): { run: BatchFunction<string, string>; batches: string[][]; peakConcurrency: () => number } {
  const batches: string[][] = [];
  let running = 0;
  let peak = 0;
  const run: BatchFunction<string, string> = async (inputs) => {
    batches.push([...inputs]);
    running += 1;
    peak = Math.max(peak, running);
    await sleep(delayMs);
    running -= 1;
    return inputs.map((input) => input.toUpperCase());
  };
  return { run, batches, peakConcurrency: () => peak };
}

describe('EmbeddingBatcher', () => {
  it('runs concurrent requests as one batch once maxBatchSize inputs are queued, without waiting', async () => {
    const { run, batches } = recordingBatch();
    const batcher = new EmbeddingBatcher(run, { maxBatchSize: 4, maxBatchWaitMs: 10_000 });
    const started = performance.now();
    const results = await Promise.all([batcher.submit(['a']), batcher.submit(['b', 'c']), batcher.submit(['d'])]);
    assert.ok(performance.now() - started < 1000, 'a full batch must not wait for maxBatchWaitMs');
    assert.deepEqual(batches, [['a', 'b', 'c', 'd']]);
    assert.deepEqual(results, [
      { outputs: ['A'], batchSize: 4 },
      { outputs: ['B', 'C'], batchSize: 4 },
      { outputs: ['D'], batchSize: 4 },
    ]);
  });

  it('runs a lone request after maxBatchWaitMs', async () => {
    const { run, batches } = recordingBatch();
    const batcher = new EmbeddingBatcher(run, { maxBatchSize: 8, maxBatchWaitMs: 40 });
    const started = performance.now();
    const result = await batcher.submit(['x']);
    const waitedMs = performance.now() - started;
    assert.ok(waitedMs >= 35, `waited only ${waitedMs} ms`);
    assert.deepEqual(result, { outputs: ['X'], batchSize: 1 });
    assert.deepEqual(batches, [['x']]);
  });

  it('gathers requests that arrive within the wait into one batch', async () => {
    const { run, batches } = recordingBatch();
    const batcher = new EmbeddingBatcher(run, { maxBatchSize: 8, maxBatchWaitMs: 30 });
    const first = batcher.submit(['a']);
    await sleep(5);
    const second = batcher.submit(['b']);
    assert.deepEqual(await Promise.all([first, second]), [
      { outputs: ['A'], batchSize: 2 },
      { outputs: ['B'], batchSize: 2 },
    ]);
    assert.deepEqual(batches, [['a', 'b']]);
  });

  it('splits a request larger than maxBatchSize and keeps its outputs in order', async () => {
    const { run, batches } = recordingBatch();
    const batcher = new EmbeddingBatcher(run, { maxBatchSize: 4, maxBatchWaitMs: 0 });
    const inputs = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
    const result = await batcher.submit(inputs);
    assert.deepEqual(
      result.outputs,
      inputs.map((input) => input.toUpperCase()),
    );
    assert.equal(result.batchSize, 4);
    assert.deepEqual(
      batches.map((batch) => batch.length),
      [4, 4, 2],
    );
  });

  it('runs one batch at a time; what queues meanwhile runs together next', async () => {
    const { run, batches, peakConcurrency } = recordingBatch(30);
    const batcher = new EmbeddingBatcher(run, { maxBatchSize: 16, maxBatchWaitMs: 0 });
    const first = batcher.submit(['a']);
    await sleep(5);
    const later = [batcher.submit(['b']), batcher.submit(['c']), batcher.submit(['d'])];
    const results = await Promise.all([first, ...later]);
    assert.equal(peakConcurrency(), 1);
    assert.deepEqual(batches, [['a'], ['b', 'c', 'd']]);
    assert.deepEqual(
      results.map((r) => r.batchSize),
      [1, 3, 3, 3],
    );
  });

  it('fails every request in a failing batch, and keeps serving afterwards', async () => {
    let calls = 0;
    const batcher = new EmbeddingBatcher<string, string>(
      async (inputs) => {
        calls += 1;
        if (inputs.includes('bad')) throw new Error('runtime exploded');
        return inputs.map((input) => input.toUpperCase());
      },
      { maxBatchSize: 2, maxBatchWaitMs: 0 },
    );
    // 'ok' runs alone at once (no wait); 'bad' and 'sibling' queue behind it and share the next batch.
    const [good, bad, sibling] = await Promise.allSettled([batcher.submit(['ok']), batcher.submit(['bad']), batcher.submit(['sibling'])]);
    assert.deepEqual(good, { status: 'fulfilled', value: { outputs: ['OK'], batchSize: 1 } });
    assert.match(String(bad.status === 'rejected' && bad.reason), /runtime exploded/);
    assert.equal(sibling.status, 'rejected');
    assert.deepEqual(await batcher.submit(['after']), { outputs: ['AFTER'], batchSize: 1 });
    assert.equal(calls, 3);
  });

  it('drops the remaining inputs of a request once one of its batches failed', async () => {
    const seen: string[] = [];
    const batcher = new EmbeddingBatcher<string, string>(
      async (inputs) => {
        seen.push(...inputs);
        if (inputs.includes('b')) throw new Error('bad input');
        return inputs;
      },
      { maxBatchSize: 2, maxBatchWaitMs: 0 },
    );
    await assert.rejects(batcher.submit(['a', 'b', 'c', 'd']), /bad input/);
    await sleep(10);
    assert.deepEqual(seen, ['a', 'b']);
    assert.equal(batcher.queuedInputs, 0);
  });

  it('rejects when the batch function returns the wrong number of outputs', async () => {
    const batcher = new EmbeddingBatcher<string, string>(async () => ['only one'], { maxBatchSize: 4, maxBatchWaitMs: 0 });
    await assert.rejects(batcher.submit(['a', 'b']), /returned 1 outputs for 2 inputs/);
  });

  it('answers an empty request at once without calling the batch function', async () => {
    const { run, batches } = recordingBatch();
    const batcher = new EmbeddingBatcher(run);
    assert.deepEqual(await batcher.submit([]), { outputs: [], batchSize: 0 });
    assert.equal(batches.length, 0);
  });
});
