// Conversions of small hand-built graphs run in onnxruntime: opset raising for q8, shared weights, and refusals decided by the graph.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { float16Bits, float16Value } from '../../src/quantize/onnx/float16.ts';
import { quantizeOnnx } from '../../src/quantize/onnx/index.ts';
import { TENSOR_TYPES, parseModel } from '../../src/quantize/onnx/onnx-model.ts';
import { inMemoryTensor, writeOnnxModel, type StreamedTensor } from '../../src/tiny-models/onnx-file-writer.ts';
import { DataType, attr, floatTensor, makeNode, tensorValueInfo, type NodeMessage } from '../../src/tiny-models/onnx-messages.ts';
import { ProtoWriter } from '../../src/tiny-models/protobuf-writer.ts';
import { tempDir } from '../helpers/temp.ts';
import { partialsIn, replaceRawData } from './onnx-test-models.ts';

const K = 8;
const N = 6;
/** Deterministic weights of varied magnitude per column, so per-column scales matter. */
const weights = Array.from({ length: K * N }, (_, i) => Math.sin(i * 1.7) * (1 + (i % N)));
const inputs = Float32Array.from({ length: 2 * K }, (_, i) => Math.cos(i * 0.9));

interface GraphSpec {
  opset: number;
  nodes: NodeMessage[];
  initializers?: StreamedTensor[];
  outputs: string[];
}

async function writeGraph(file: string, spec: GraphSpec): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await writeOnnxModel(file, {
    irVersion: 5,
    producerName: 'hangar-test',
    opsetImport: [{ domain: '', version: spec.opset }],
    graph: {
      name: 'g',
      node: spec.nodes,
      initializer: spec.initializers ?? [inMemoryTensor(floatTensor('W', [K, N], weights))],
      input: [tensorValueInfo('X', DataType.FLOAT, [2, K])],
      output: spec.outputs.map((name) => tensorValueInfo(name, DataType.FLOAT, ['rows', 'columns'])),
    },
  });
}

async function run(file: string): Promise<Record<string, Float32Array>> {
  const session = await ort.InferenceSession.create(file);
  try {
    const result = await session.run({ X: new ort.Tensor('float32', inputs, [2, K]) });
    return Object.fromEntries(Object.entries(result).map(([name, tensor]) => [name, tensor.data as Float32Array]));
  } finally {
    await session.release();
  }
}

/** Round half to even, as onnxruntime rounds when quantizing. */
const rint = (x: number): number => {
  const r = Math.round(x);
  return r - x === 0.5 && (r & 1) !== 0 ? r - 1 : r;
};

/**
 * X·W as the quantized graph should compute it, worked out independently: X by DynamicQuantizeLinear's definition
 * (uint8, range widened to hold 0), W per column symmetric int8 (scale max|W[:, n]| / 127), integer products, rescaled.
 */
function quantizedProduct(): Float32Array {
  const lo = Math.min(0, ...inputs);
  const hi = Math.max(0, ...inputs);
  const xScale = Math.fround((hi - lo) / 255);
  const xZero = Math.min(255, Math.max(0, rint(-lo / xScale)));
  const xq = [...inputs].map((v) => Math.min(255, Math.max(0, rint(v / xScale) + xZero)));
  const wScale = Array.from({ length: N }, (_, n) => {
    let max = 0;
    for (let k = 0; k < K; k++) max = Math.max(max, Math.abs(Math.fround(weights[k * N + n] as number)));
    return Math.fround(max / 127);
  });
  const wq = weights.map((w, i) => rint(Math.fround(w) / (wScale[i % N] as number)));
  const y = new Float32Array(2 * N);
  for (let r = 0; r < 2; r++) {
    for (let n = 0; n < N; n++) {
      let sum = 0;
      for (let k = 0; k < K; k++) sum += ((xq[r * K + k] as number) - xZero) * (wq[k * N + n] as number);
      y[r * N + n] = sum * Math.fround(xScale * (wScale[n] as number));
    }
  }
  return y;
}

function maxRelativeError(expected: Float32Array, actual: Float32Array): number {
  const scale = Math.max(...expected.map(Math.abs));
  return Math.max(...expected.map((v, i) => Math.abs(v - (actual[i] as number)) / scale));
}

test('q8 raises opset 10 to 11 when every op is safe there, and the quantized MatMul computes the product', async (t) => {
  const dir = await tempDir(t);
  const input = path.join(dir, 'm.onnx');
  await writeGraph(input, { opset: 10, nodes: [makeNode('MatMul', ['X', 'W'], ['Y'], 'mm')], outputs: ['Y'] });
  const output = path.join(dir, 'm_quantized.onnx');
  await quantizeOnnx({ modelDir: dir, entry: 'm.onnx', dtype: 'q8', output });
  const model = parseModel(await fsp.readFile(output));
  assert.deepEqual(
    model.opsets.map((o) => [o.domain, o.version]),
    [['', 11]],
  );
  assert.equal(model.irVersion, 5);
  assert.deepEqual(
    model.nodes.map((n) => n.opType),
    ['DynamicQuantizeLinear', 'MatMulInteger', 'Mul', 'Cast', 'Mul'],
  );
  const [expected, actual] = [(await run(input)).Y as Float32Array, (await run(output)).Y as Float32Array];
  // Exactly the int8 arithmetic (a row/column mix-up of the scales would be far off), and close to the float product.
  const reference = quantizedProduct();
  assert.ok(maxRelativeError(reference, actual) < 1e-5, `q8 vs the int8 reference: ${[...actual]} vs ${[...reference]}`);
  assert.ok(maxRelativeError(expected, actual) < 0.05, `q8 vs fp32: ${maxRelativeError(expected, actual)}`);

  const fp16 = path.join(dir, 'm_fp16.onnx');
  await quantizeOnnx({ modelDir: dir, entry: 'm.onnx', dtype: 'fp16', output: fp16 });
  assert.equal(parseModel(await fsp.readFile(fp16)).opsets[0]?.version, 10, 'fp16 needs no newer opset');
  // The product with the weights rounded to float16 and float32 arithmetic (the graph widens them back).
  const halfWeights = new Float32Array(2 * N);
  for (let r = 0; r < 2; r++) {
    for (let n = 0; n < N; n++) {
      for (let k = 0; k < K; k++)
        halfWeights[r * N + n] += (inputs[r * K + k] as number) * float16Value(float16Bits(weights[k * N + n] as number));
    }
  }
  const fp16Error = maxRelativeError(halfWeights, (await run(fp16)).Y as Float32Array);
  assert.ok(fp16Error < 1e-5, `fp16 vs float16-rounded weights: ${fp16Error}`);
});

test('q8 refuses to raise the opset of a graph with an op whose meaning changed at opset 11', async (t) => {
  const dir = await tempDir(t);
  const nodes = [makeNode('MatMul', ['X', 'W'], ['P'], 'mm'), makeNode('Pad', ['P'], ['Y'], 'pad', [attr.ints('pads', [0, 0, 0, 0])])];
  await writeGraph(path.join(dir, 'm.onnx'), { opset: 10, nodes, outputs: ['Y'] });
  const output = path.join(dir, 'm_quantized.onnx');
  await assert.rejects(quantizeOnnx({ modelDir: dir, entry: 'm.onnx', dtype: 'q8', output }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'unsupported_operation');
    assert.match(err.message, /opset 10.*Pad/);
    return true;
  });
  assert.deepEqual(await fsp.readdir(dir), ['m.onnx']);
});

test('a weight that another node also reads keeps its float32 copy beside the quantized one', async (t) => {
  const dir = await tempDir(t);
  const input = path.join(dir, 'm.onnx');
  // Y = X·W and Z = W + W: the Add still needs the float W.
  const nodes = [makeNode('MatMul', ['X', 'W'], ['Y'], 'mm'), makeNode('Add', ['W', 'W'], ['Z'], 'add')];
  await writeGraph(input, { opset: 13, nodes, outputs: ['Y', 'Z'] });
  const output = path.join(dir, 'm_quantized.onnx');
  const outcome = await quantizeOnnx({ modelDir: dir, entry: 'm.onnx', dtype: 'q8', output });
  assert.deepEqual(outcome.tensorTypes, { FLOAT: 2, INT8: 2 });
  const model = parseModel(await fsp.readFile(output));
  assert.deepEqual(
    model.initializers.map((i) => [i.name, i.dataType]),
    [
      ['W', TENSOR_TYPES.FLOAT],
      ['W_quantized', TENSOR_TYPES.INT8],
      ['W_scale', TENSOR_TYPES.FLOAT],
      ['W_zero_point', TENSOR_TYPES.INT8],
    ],
  );
  const [expected, actual] = [await run(input), await run(output)];
  assert.deepEqual(actual.Z, expected.Z);
  const reference = quantizedProduct();
  assert.ok(maxRelativeError(reference, actual.Y as Float32Array) < 1e-5, `q8 vs the int8 reference: ${[...(actual.Y ?? [])]}`);
});

test('nothing to convert, or an output over 2 GiB, is refused before anything is written', async (t) => {
  const dir = await tempDir(t);
  // Only activation×activation MatMuls and a 4-element constant: no weight for q8, nothing large enough for fp16.
  await writeGraph(path.join(dir, 'none.onnx'), {
    opset: 13,
    nodes: [makeNode('Add', ['X', 'C'], ['S'], 'add'), makeNode('MatMul', ['S', 'S'], ['Y'], 'mm')],
    initializers: [inMemoryTensor(floatTensor('C', [4], [1, 2, 3, 4]))],
    outputs: ['Y'],
  });
  for (const dtype of ['fp16', 'q8'] as const) {
    await assert.rejects(quantizeOnnx({ modelDir: dir, entry: 'none.onnx', dtype, output: path.join(dir, `none-${dtype}.onnx`) }), {
      code: 'unsupported_operation',
    });
  }

  // A 2.5 GB int64 table kept in a sparse external-data file: inlining it would pass protobuf's 2 GiB limit.
  const bigBytes = 2.5e9;
  await writeGraph(path.join(dir, 'big.onnx'), { opset: 13, nodes: [makeNode('MatMul', ['X', 'W'], ['Y'], 'mm')], outputs: ['Y'] });
  const bytes = await fsp.readFile(path.join(dir, 'big.onnx'));
  const model = parseModel(bytes);
  const entry = (key: string, value: string): Uint8Array => new ProtoWriter().string(1, key).string(2, value).finish();
  const big = new ProtoWriter()
    .int(1, bigBytes / 8)
    .int(2, TENSOR_TYPES.INT64)
    .string(8, 'big')
    .bytesField(13, entry('location', 'big.bin'))
    .bytesField(13, entry('length', String(bigBytes)))
    .int(14, 1)
    .finish();
  const graph = Buffer.concat([
    bytes.subarray(model.graphField.start, model.graphField.end),
    new ProtoWriter().bytesField(5, big).finish(),
  ]);
  const rebuilt = model.modelFields.map((f) =>
    f === model.graphField ? new ProtoWriter().bytesField(7, graph).finish() : bytes.subarray(f.keyStart, f.end),
  );
  await fsp.writeFile(path.join(dir, 'big.onnx'), Buffer.concat(rebuilt));
  await (await fsp.open(path.join(dir, 'big.bin'), 'w')).truncate(bigBytes).then(() => undefined);
  const output = path.join(dir, 'big-fp16.onnx');
  await assert.rejects(quantizeOnnx({ modelDir: dir, entry: 'big.onnx', dtype: 'fp16', output }), (err: Error & { code?: string }) => {
    assert.equal(err.code, 'unsupported_operation');
    assert.match(err.message, /over the 2 GiB/);
    return true;
  });
  await assert.rejects(fsp.stat(output), { code: 'ENOENT' });
  assert.deepEqual(await partialsIn(dir), []);
});

test('weights in float_data, packed or one value per field, convert exactly like the same weights in raw_data', async (t) => {
  const dir = await tempDir(t);
  await writeGraph(path.join(dir, 'raw.onnx'), { opset: 13, nodes: [makeNode('MatMul', ['X', 'W'], ['Y'], 'mm')], outputs: ['Y'] });
  await replaceRawData(path.join(dir, 'raw.onnx'), path.join(dir, 'packed.onnx'), 'W', (raw) =>
    new ProtoWriter().bytesField(4, raw).finish(),
  );
  await replaceRawData(path.join(dir, 'raw.onnx'), path.join(dir, 'unpacked.onnx'), 'W', (raw) => {
    const w = new ProtoWriter();
    for (const value of new Float32Array(new Uint8Array(raw).buffer)) w.float(4, value);
    return w.finish();
  });
  const expected = (await run(path.join(dir, 'raw.onnx'))).Y;
  for (const form of ['packed', 'unpacked']) {
    assert.deepEqual((await run(path.join(dir, `${form}.onnx`))).Y, expected, `the ${form} fixture holds the same weights`);
    assert.equal(parseModel(await fsp.readFile(path.join(dir, `${form}.onnx`))).initializers[0]?.data.kind, 'floatData');
  }
  for (const dtype of ['fp16', 'q8'] as const) {
    const outputs: Float32Array[] = [];
    for (const form of ['raw', 'packed', 'unpacked']) {
      const output = path.join(dir, `${form}-${dtype}.onnx`);
      await quantizeOnnx({ modelDir: dir, entry: `${form}.onnx`, dtype, output });
      outputs.push((await run(output)).Y as Float32Array);
    }
    assert.deepEqual(outputs[1], outputs[0], `${dtype}: packed float_data`);
    assert.deepEqual(outputs[2], outputs[0], `${dtype}: unpacked float_data`);
  }
});
