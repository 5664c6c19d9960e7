// The ONNX runner's own padding and pooling give exactly what transformers.js' feature-extraction pipeline gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { env, pipeline } from '@huggingface/transformers';
import { writeTinyBertModel } from '../../scripts/lib/bert-onnx-writer.ts';
import { meanPooledNormalized, paddedInputs, type Encodings } from '../../src/runtime/runners/onnx/pooled-embeddings.ts';
import { tempDir } from '../helpers/temp.ts';

test('padded groups, mean-pooled and normalised by the runner, equal the pipeline bit for bit', async (t) => {
  const dir = path.join(await tempDir(t), 'bert');
  await writeTinyBertModel(dir, { hiddenSize: 32, numLayers: 2, seed: 11 });
  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(dir);
  const extractor = await pipeline('feature-extraction', path.basename(dir), { dtype: 'fp32' });
  t.after(() => extractor.dispose());
  const texts = ['a short one', 'a somewhat longer sentence with more words in it than the first', 'mid length text here', 'x'];
  const expected = await extractor(texts, { pooling: 'mean', normalize: true });
  const width = expected.dims[1] ?? 0;

  const encodings = extractor.tokenizer(texts, { padding: false, truncation: true, return_tensor: false }) as unknown as Encodings;
  const padding = { padTokenId: Number(extractor.tokenizer.pad_token_id), side: 'right' as const };
  // Every input in one group (as the pipeline pads them) and each alone (as a length group may hold it): both match.
  for (const groups of [
    [[0, 1, 2, 3]],
    [[0], [1], [2], [3]],
    [
      [3, 1],
      [2, 0],
    ],
  ]) {
    const vectors = new Array<Float32Array>(texts.length);
    for (const group of groups) {
      const inputs = paddedInputs(encodings, group, padding);
      const outputs = (await extractor.model(inputs)) as { last_hidden_state: { data: Float32Array; dims: number[] } };
      const pooled = meanPooledNormalized(outputs.last_hidden_state, inputs.attention_mask as never);
      for (const [position, index] of group.entries()) vectors[index] = pooled[position] as Float32Array;
    }
    for (const [index, vector] of vectors.entries()) {
      const want = (expected.data as Float32Array).subarray(index * width, (index + 1) * width);
      assert.deepEqual(Array.from(vector), Array.from(want), `input ${index} in groups ${JSON.stringify(groups)}`);
    }
  }
});

test('padding goes on the tokenizer side, with the pad id for input_ids and 0 for the other keys', () => {
  const encodings = { input_ids: [[5, 6, 7], [8]], attention_mask: [[1, 1, 1], [1]] };
  const right = paddedInputs(encodings, [0, 1], { padTokenId: 9, side: 'right' });
  assert.deepEqual(right.input_ids?.dims, [2, 3]);
  assert.deepEqual(Array.from(right.input_ids?.data as BigInt64Array), [5n, 6n, 7n, 8n, 9n, 9n]);
  assert.deepEqual(Array.from(right.attention_mask?.data as BigInt64Array), [1n, 1n, 1n, 1n, 0n, 0n]);
  const left = paddedInputs(encodings, [1, 0], { padTokenId: 9, side: 'left' });
  assert.deepEqual(Array.from(left.input_ids?.data as BigInt64Array), [9n, 9n, 8n, 5n, 6n, 7n]);
  assert.deepEqual(Array.from(left.attention_mask?.data as BigInt64Array), [0n, 0n, 1n, 1n, 1n, 1n]);
});
