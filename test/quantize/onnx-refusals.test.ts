// What the ONNX conversion refuses (already converted, corrupt, bad paths) and how it stops (abort): never a partial or output file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { onnxEntryFor, quantizeOnnx } from '../../src/quantize/onnx/index.ts';
import { tempDir } from '../helpers/temp.ts';
import { externalize, partialsIn, tinyBert } from './onnx-test-models.ts';

const exists = (file: string): Promise<boolean> =>
  fsp.stat(file).then(
    () => true,
    () => false,
  );

test('an fp16 or q8 model is refused as already_quantized, for either dtype, leaving no file', async (t) => {
  const dir = await tinyBert(path.join(await tempDir(t), 'bert'));
  for (const dtype of ['fp16', 'q8'] as const) {
    await quantizeOnnx({ modelDir: dir, entry: 'onnx/model.onnx', dtype, output: path.join(dir, onnxEntryFor('onnx/model.onnx', dtype)) });
  }
  for (const [entry, what] of [
    ['onnx/model_fp16.onnx', /FLOAT16 initializers/],
    ['onnx/model_quantized.onnx', /MatMulInteger/],
  ] as const) {
    for (const dtype of ['fp16', 'q8'] as const) {
      const output = path.join(dir, 'again', `${dtype}.onnx`);
      await assert.rejects(quantizeOnnx({ modelDir: dir, entry, dtype, output }), (err: Error & { code?: string }) => {
        assert.equal(err.name, 'Conflict');
        assert.equal(err.code, 'already_quantized');
        assert.match(err.message, what);
        return true;
      });
      assert.equal(await exists(output), false);
    }
  }
  assert.deepEqual(await partialsIn(dir), []);
});

test('a truncated or garbage graph is refused with a clear invalid_input, leaving no file', async (t) => {
  const dir = await tinyBert(path.join(await tempDir(t), 'bert'));
  const whole = await fsp.readFile(path.join(dir, 'onnx/model.onnx'));
  const bad: [string, Uint8Array][] = [
    ['truncated.onnx', whole.subarray(0, Math.floor(whole.length / 2))],
    ['cut-short.onnx', whole.subarray(0, whole.length - 3)],
    ['garbage.onnx', Buffer.from('this is not a protobuf message at all, just some text\n'.repeat(20))],
    ['empty.onnx', new Uint8Array(0)],
  ];
  for (const [name, bytes] of bad) {
    await fsp.writeFile(path.join(dir, 'onnx', name), bytes);
    const output = path.join(dir, 'out', `${name}.fp16.onnx`);
    await assert.rejects(
      quantizeOnnx({ modelDir: dir, entry: `onnx/${name}`, dtype: 'fp16', output }),
      (err: Error & { code?: string }) => {
        assert.equal(err.name, 'InvalidInput', `${name}: ${err.message}`);
        assert.equal(err.code, 'invalid_input');
        assert.match(err.message, new RegExp(`^${name} is not a readable ONNX model`));
        return true;
      },
    );
    assert.equal(await exists(output), false, name);
  }
  // Weights in an external-data file that is gone, or shorter than the graph says.
  await externalize(path.join(dir, 'onnx/model.onnx'), 'model.onnx_data');
  const data = path.join(dir, 'onnx/model.onnx_data');
  const dataBytes = await fsp.readFile(data);
  for (const [what, prepare, message] of [
    ['missing', () => fsp.rm(data), /external data file model\.onnx_data is missing/],
    ['short', () => fsp.writeFile(data, dataBytes.subarray(0, dataBytes.length - 4)), /model\.onnx_data ends at byte/],
  ] as const) {
    await prepare();
    const output = path.join(dir, 'out', `external-${what}.onnx`);
    await assert.rejects(
      quantizeOnnx({ modelDir: dir, entry: 'onnx/model.onnx', dtype: 'q8', output }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'invalid_input', `${what}: ${err.message}`);
        assert.match(err.message, message);
        return true;
      },
    );
    assert.equal(await exists(output), false, what);
  }
  assert.deepEqual(await partialsIn(dir), []);
});

test('paths: the entry must be an .onnx file inside the folder, the output absolute and not the input', async (t) => {
  const dir = await tinyBert(path.join(await tempDir(t), 'bert'));
  const output = path.join(dir, 'out.onnx');
  const cases: [Parameters<typeof quantizeOnnx>[0], string][] = [
    [{ modelDir: dir, entry: '../elsewhere/model.onnx', dtype: 'q8', output }, 'invalid_input'],
    [{ modelDir: dir, entry: 'config.json', dtype: 'q8', output }, 'invalid_input'],
    [{ modelDir: dir, entry: 'onnx/missing.onnx', dtype: 'q8', output }, 'not_found'],
    [{ modelDir: dir, entry: 'onnx/model.onnx', dtype: 'q8', output: 'relative.onnx' }, 'invalid_input'],
    [{ modelDir: dir, entry: 'onnx/model.onnx', dtype: 'q8', output: path.join(dir, 'onnx/model.onnx') }, 'invalid_input'],
    [{ modelDir: dir, entry: 'onnx/model.onnx', dtype: 'int4' as never, output }, 'invalid_input'],
  ];
  for (const [request, code] of cases) {
    await assert.rejects(quantizeOnnx(request), { code }, JSON.stringify(request));
  }
  assert.equal(await exists(output), false);
  assert.ok((await fsp.stat(path.join(dir, 'onnx/model.onnx'))).size > 0, 'the input is untouched');
});

test('aborting stops the conversion process and leaves neither the output nor a partial file', async (t) => {
  // ~16 MB of embedding table, so the conversion is still writing when its first progress report arrives.
  const dir = await tinyBert(path.join(await tempDir(t), 'bert'), { hiddenSize: 128, vocabSize: 30522 });
  const output = path.join(dir, 'onnx/model_fp16.onnx');

  const already = new AbortController();
  already.abort();
  await assert.rejects(quantizeOnnx({ modelDir: dir, entry: 'onnx/model.onnx', dtype: 'fp16', output, signal: already.signal }), {
    name: 'AbortError',
  });

  const controller = new AbortController();
  let reports = 0;
  const running = quantizeOnnx({
    modelDir: dir,
    entry: 'onnx/model.onnx',
    dtype: 'fp16',
    output,
    signal: controller.signal,
    onProgress: ({ done, total }) => {
      reports++;
      if (done < total) controller.abort();
    },
  });
  await assert.rejects(running, { name: 'AbortError' });
  assert.ok(reports > 0, 'the abort came from inside a running conversion');
  assert.equal(await exists(output), false);
  assert.deepEqual(await partialsIn(dir), []);

  // The same request without the abort finishes: the refusal above was the abort, not the model.
  const outcome = await quantizeOnnx({ modelDir: dir, entry: 'onnx/model.onnx', dtype: 'fp16', output });
  assert.equal(outcome.sizeBytes, (await fsp.stat(output)).size);
});
