// The store's snapshot folders (symlinks to sha256 blobs) load in the real runtimes: transformers.js and node-llama-cpp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { env, pipeline } from '@huggingface/transformers';
import { getLlama } from 'node-llama-cpp';
import { catalogUnderTest } from '../helpers/catalog.ts';

test('an imported ONNX version embeds and an imported GGUF version generates, straight from the store', async (t) => {
  const s = await catalogUnderTest(t);
  assert.ok(s);
  const { catalog, fixtures } = s;
  await catalog.importVersion({ name: 'org/embed', path: fixtures.onnxFolder }, { actor: 'test' });
  await catalog.importVersion({ name: 'llama', path: fixtures.ggufQ8 }, { actor: 'test' });

  const embedFolder = await catalog.versionPath(await catalog.resolve('org/embed'));
  env.allowRemoteModels = false;
  env.useFSCache = false;
  env.localModelPath = path.dirname(embedFolder);
  const extractor = await pipeline('feature-extraction', path.basename(embedFolder), { dtype: 'fp32' });
  const output = await extractor(['the model store works', 'hello'], { pooling: 'mean', normalize: true });
  assert.deepEqual(output.dims, [2, 32]);
  await extractor.dispose();

  const llamaVersion = await catalog.resolve('llama');
  const llamaFile = path.join(
    await catalog.versionPath(llamaVersion),
    llamaVersion.version.format === 'gguf' ? JSON.parse(llamaVersion.version.manifest).entry : '',
  );
  const llama = await getLlama({ gpu: false });
  const model = await llama.loadModel({ modelPath: llamaFile });
  const context = await model.createContext({ contextSize: 128, threads: Math.max(1, Math.min(2, os.availableParallelism())) });
  const sequence = context.getSequence();
  const tokens = model.tokenize('Hello world');
  let generated = 0;
  for await (const token of sequence.evaluate(tokens, { temperature: 0 })) {
    void token;
    if (++generated >= 8) break;
  }
  assert.equal(generated, 8);
  await context.dispose();
  await model.dispose();
});
