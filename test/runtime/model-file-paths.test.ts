// The ONNX runner's path cache: model files answer with their local path (also when asked by hub address), other files not at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { modelFilePathCache } from '../../src/runtime/runners/onnx/model-file-paths.ts';
import { tempDir } from '../helpers/temp.ts';

test('model files are answered with their path, other files and missing ones are not', async (t) => {
  const dir = path.join(await tempDir(t), 'embedder');
  fs.mkdirSync(path.join(dir, 'onnx'), { recursive: true });
  for (const file of ['onnx/model.onnx', 'onnx/model.onnx_data', 'config.json']) fs.writeFileSync(path.join(dir, file), 'x');
  const cache = modelFilePathCache();
  const graph = path.join(dir, 'onnx/model.onnx');
  assert.equal(await cache.match(graph), graph);
  assert.equal(await cache.match(path.join(dir, 'onnx/model.onnx_data')), path.join(dir, 'onnx/model.onnx_data'));
  assert.equal(await cache.match(path.join(dir, 'config.json')), undefined, 'read by transformers.js itself');
  assert.equal(await cache.match(path.join(dir, 'onnx/missing.onnx')), undefined);
  // transformers.js looks a hit up again by its hub address.
  assert.equal(await cache.match('https://huggingface.co/embedder/resolve/main/onnx/model.onnx'), graph);
  assert.equal(await cache.match('https://huggingface.co/embedder/resolve/main/onnx/other.onnx'), undefined);
  await cache.put('anything', {});
});
