// The llama.cpp step batcher: sequence-id order, fair shares, waiting for generating sequences, and real steps on a real context.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { getLlama, type BatchItem, type LlamaContext, type Token } from 'node-llama-cpp';
import { writeTinyLlamaGguf } from '../../scripts/lib/llama-gguf-writer.ts';
import { StepBatcher, fairShares, orderBySequence } from '../../src/runtime/runners/llamacpp/step-batching.ts';

const item = (tokens: number): BatchItem => ({
  tokens: Array.from({ length: tokens }, () => 1 as Token),
  logits: [],
  evaluationPriority: 5,
});

/** A stand-in for the context's queue: the batcher reads `_queuedDecodes[i].sequenceId` for item i. */
const queueOf = (ids: number[]) => ({ _queuedDecodes: ids.map((sequenceId) => ({ sequenceId })) }) as unknown as LlamaContext;

describe('step batching', () => {
  it('orders items by sequence id, keeping the given order where ids tie or are unknown', () => {
    const [a, b, c, d] = [item(1), item(1), item(1), item(1)];
    assert.deepEqual(orderBySequence([a, b, c, d], [2, 0, 3, 1]), [b, d, a, c]);
    assert.deepEqual(orderBySequence([a, b], [1, 1]), [a, b]);
    assert.deepEqual(orderBySequence([a, b, c], null), [a, b, c]);
  });

  it('shares a step fairly: single tokens always fit beside a long prompt, and nothing exceeds the batch', () => {
    assert.deepEqual(fairShares([item(1000), item(1), item(1)], 512), [510, 1, 1]);
    assert.deepEqual(fairShares([item(300), item(300)], 512), [256, 256]);
    assert.deepEqual(fairShares([item(3), item(2)], 512), [3, 2]);
    assert.deepEqual(fairShares([item(1), item(1), item(1)], 2), [1, 1, 0]);
    assert.deepEqual(fairShares([], 512), []);
  });

  it('puts a step off while a generating sequence has not queued, then goes ahead without it', () => {
    const batcher = new StepBatcher();
    batcher.attach(queueOf([1]));
    batcher.begin();
    batcher.begin();
    const waited: number[] = [];
    let step: ReturnType<StepBatcher['strategy']> = [];
    for (let turn = 0; turn < 50 && step.length === 0; turn++) {
      step = batcher.strategy({ items: [item(1)], size: 512 });
      waited.push(step.length);
    }
    assert.equal(waited.filter((n) => n === 0).length, 20, 'twenty empty turns, then the step');
    assert.equal(step.length, 1);
    // Both queued: no wait, ordered by id.
    const [first, second] = [item(1), item(1)];
    batcher.attach(queueOf([1, 0]));
    const both = batcher.strategy({ items: [first, second], size: 512 });
    assert.deepEqual(
      both.map((entry) => entry.item),
      [second, first],
    );
    // One generation ended: a single queued item is the whole step.
    batcher.end();
    batcher.attach(queueOf([0]));
    assert.equal(batcher.strategy({ items: [item(1)], size: 512 }).length, 1);
    assert.deepEqual(batcher.stats(), { steps: 3, tokens: 4, fullSteps: 2, waits: 20 });
  });

  describe('on a real llama.cpp context', () => {
    let dir = '';
    before(async () => {
      dir = await mkdtemp(path.join(tmpdir(), 'hangar-steps-'));
    });
    after(() => rm(dir, { recursive: true, force: true }));

    it('four concurrent sequences share every step: one step per generated token, not one per sequence', async () => {
      const file = path.join(dir, 'model.gguf');
      await writeTinyLlamaGguf(file, { type: 'Q8_0', seed: 3 });
      const llama = await getLlama({ gpu: false });
      const model = await llama.loadModel({ modelPath: file });
      const batcher = new StepBatcher();
      const context = await model.createContext({
        contextSize: 128,
        threads: 1,
        sequences: 4,
        batching: { itemPrioritizationStrategy: batcher.strategy },
      });
      batcher.attach(context);
      const tokensEach = 24;
      try {
        await Promise.all(
          Array.from({ length: 4 }, async (_, index) => {
            const sequence = context.getSequence();
            batcher.begin();
            try {
              let count = 0;
              for await (const token of sequence.evaluate(model.tokenize(`hello world ${index}`), { temperature: 0 })) {
                void token;
                if (++count >= tokensEach) break;
              }
            } finally {
              batcher.end();
            }
          }),
        );
        const stats = batcher.stats();
        // The prompts go in the first step; each later step feeds one token of each of the four sequences.
        assert.ok(stats.steps <= tokensEach + 2, `steps ${JSON.stringify(stats)}`);
        assert.ok(stats.fullSteps >= tokensEach - 1, `full steps ${JSON.stringify(stats)}`);
      } finally {
        await context.dispose();
        await model.dispose();
      }
    });
  });
});
