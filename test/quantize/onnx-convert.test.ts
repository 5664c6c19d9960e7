// fp16 and q8 conversions of a tiny BERT load in Hangar's onnx backend (transformers.js) and embed like the fp32 model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ONNX_QUANT_DTYPES, onnxEntryFor, quantizeOnnx, type OnnxQuantDtype } from '../../src/quantize/onnx/index.ts';
import { parseModel, TENSOR_TYPES } from '../../src/quantize/onnx/onnx-model.ts';
import { tempDir } from '../helpers/temp.ts';
import { SENTENCES, embed, externalize, graphContents, meanCosine, partialsIn, tinyBert } from './onnx-test-models.ts';

test('onnxEntryFor names the files transformers.js opens per dtype', () => {
  assert.deepEqual(ONNX_QUANT_DTYPES, ['fp16', 'q8']);
  assert.equal(onnxEntryFor('onnx/model.onnx', 'fp16'), 'onnx/model_fp16.onnx');
  assert.equal(onnxEntryFor('onnx/model.onnx', 'q8'), 'onnx/model_quantized.onnx');
  assert.equal(onnxEntryFor('model.onnx', 'q8'), 'model_quantized.onnx');
  assert.throws(() => onnxEntryFor('onnx/model.bin', 'fp16'), { code: 'invalid_input' });
});

test('fp16 and q8 of a tiny BERT: smaller files, the reported tensor types, embeddings with cosine >= 0.99 to fp32', async (t) => {
  const dir = await tinyBert(path.join(await tempDir(t), 'bert'));
  const fp32File = path.join(dir, 'onnx/model.onnx');
  const fp32Size = (await fsp.stat(fp32File)).size;
  const source = await graphContents(fp32File);
  const baseline = await embed(dir, 'onnx/model.onnx', 'fp32');
  assert.equal(baseline.length, SENTENCES.length);

  const results: Record<OnnxQuantDtype, { size: number; cosine: number }> = {} as never;
  for (const dtype of ONNX_QUANT_DTYPES) {
    const entry = onnxEntryFor('onnx/model.onnx', dtype);
    const output = path.join(dir, entry);
    const progress: { done: number; total: number }[] = [];
    const outcome = await quantizeOnnx({ modelDir: dir, entry: 'onnx/model.onnx', dtype, output, onProgress: (p) => progress.push(p) });
    assert.equal(outcome.entry, entry);
    assert.equal(outcome.tool, 'hangar-onnx');
    assert.ok(outcome.durationMs > 0);
    assert.equal(outcome.sizeBytes, (await fsp.stat(output)).size);
    assert.deepEqual(progress.at(-1), { done: outcome.sizeBytes, total: outcome.sizeBytes });

    const written = await graphContents(output);
    assert.deepEqual(outcome.tensorTypes, written.tensorTypes, 'tensorTypes are what the file holds');
    // The input's other nodes and graph inputs/outputs are all still there.
    const model = parseModel(await fsp.readFile(output));
    assert.deepEqual(model.graphInputs, ['input_ids', 'attention_mask', 'token_type_ids']);
    assert.deepEqual(model.graphOutputs, ['last_hidden_state']);

    const embeddings = await embed(dir, entry, dtype);
    results[dtype] = { size: outcome.sizeBytes, cosine: meanCosine(baseline, embeddings) };
    assert.ok(results[dtype].cosine >= 0.99, `${dtype} mean cosine ${results[dtype].cosine}`);

    if (dtype === 'fp16') {
      // Every float weight but the few scalar constants is stored as float16; the file is about half.
      assert.equal(written.tensorTypes.FLOAT16, (source.tensorTypes.FLOAT ?? 0) - 6);
      assert.equal(written.tensorTypes.FLOAT, 6);
      assert.ok(outcome.sizeBytes < fp32Size * 0.55, `fp16 ${outcome.sizeBytes} vs fp32 ${fp32Size}`);
      assert.equal(written.ops.MatMul, source.ops.MatMul);
    } else {
      // 6 weight MatMuls per layer become MatMulInteger; the 2 activation×activation ones stay float.
      assert.equal(written.ops.MatMulInteger, 12);
      assert.equal(written.ops.MatMul, 4);
      // Query, key and value read one activation: 4 distinct activations per layer are quantized, not 6.
      assert.equal(written.ops.DynamicQuantizeLinear, 8);
      assert.equal(written.tensorTypes.INT8, 24, 'a weight and a zero point per quantized MatMul');
      assert.equal(written.tensorTypes.FLOAT, source.tensorTypes.FLOAT, '12 float weights out, 12 scales in');
      assert.ok(outcome.sizeBytes < fp32Size * 0.75, `q8 ${outcome.sizeBytes} vs fp32 ${fp32Size}`);
      // The embedding tables are read by Gather and stay float32.
      const tables = model.initializers.filter((i) => i.name.startsWith('embeddings.') && i.name.endsWith('embeddings.weight'));
      assert.deepEqual(
        tables.map((i) => i.dataType),
        [TENSOR_TYPES.FLOAT, TENSOR_TYPES.FLOAT, TENSOR_TYPES.FLOAT],
      );
    }
  }
  assert.deepEqual(await partialsIn(dir), []);
  t.diagnostic(
    `fp32 ${fp32Size} B; fp16 ${results.fp16.size} B cos ${results.fp16.cosine.toFixed(5)}; q8 ${results.q8.size} B cos ${results.q8.cosine.toFixed(5)}`,
  );
});

test('a model with external data converts into one self-contained file that embeds like the original', async (t) => {
  const root = await tempDir(t);
  const inline = await tinyBert(path.join(root, 'inline'));
  const baseline = await embed(inline, 'onnx/model.onnx', 'fp32');
  const dir = await tinyBert(path.join(root, 'external'));
  await externalize(path.join(dir, 'onnx/model.onnx'), 'model.onnx_data');
  const external = parseModel(await fsp.readFile(path.join(dir, 'onnx/model.onnx')));
  assert.ok(external.initializers.filter((i) => i.data.kind === 'external').length >= 10, 'the fixture stores its weights externally');
  // The fixture itself is a valid model: onnxruntime opens it and its data file from a path.
  await (await ort.InferenceSession.create(path.join(dir, 'onnx/model.onnx'))).release();

  for (const dtype of ONNX_QUANT_DTYPES) {
    const entry = onnxEntryFor('onnx/model.onnx', dtype);
    const outputDir = path.join(root, `out-${dtype}`);
    await fsp.cp(inline, outputDir, { recursive: true });
    await fsp.rm(path.join(outputDir, 'onnx/model.onnx'));
    await quantizeOnnx({ modelDir: dir, entry: 'onnx/model.onnx', dtype, output: path.join(outputDir, entry) });
    assert.deepEqual(await fsp.readdir(path.join(outputDir, 'onnx')), [path.basename(entry)], 'no data file beside the output');
    const converted = parseModel(await fsp.readFile(path.join(outputDir, entry)));
    assert.deepEqual(
      converted.initializers.filter((i) => i.data.kind === 'external'),
      [],
    );
    const cosine = meanCosine(baseline, await embed(outputDir, entry, dtype));
    assert.ok(cosine >= 0.99, `${dtype} from external data: mean cosine ${cosine}`);
  }
});
