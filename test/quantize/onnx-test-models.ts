// Helpers of the ONNX conversion tests: a tiny BERT folder, embeddings through Hangar's onnx backend, and what a graph file holds.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { loadOnnxBackend } from '../../src/runtime/runners/onnx/onnx-backend.ts';
import { parseModel, tensorTypeName } from '../../src/quantize/onnx/onnx-model.ts';
import { fields, type WireField } from '../../src/store/protobuf-reader.ts';
import { ProtoWriter } from '../../src/tiny-models/protobuf-writer.ts';
import { writeTinyBertModel } from '../../src/tiny-models/bert-model.ts';

export const SENTENCES = [
  'hello world',
  'the cat sat on the mat',
  'models are loaded into memory before they answer',
  'a quick brown fox jumps over the lazy dog',
  'the server answers requests from many clients',
  'embedding vectors are compared with the cosine',
  'the weather is nice today',
  'quantization makes weights smaller',
  'tokens and words and pieces',
  'one more sentence for the test',
];

/** A tiny BERT folder (config, tokenizer, onnx/model.onnx) at `dir`. */
export async function tinyBert(dir: string, options: { hiddenSize?: number; vocabSize?: number } = {}): Promise<string> {
  await writeTinyBertModel(dir, { hiddenSize: options.hiddenSize ?? 64, numLayers: 2, seed: 11, vocabSize: options.vocabSize });
  return dir;
}

/** Embeddings of SENTENCES, loaded exactly as Hangar's onnx runner loads `entry` with `dtype`. */
export async function embed(modelDir: string, entry: string, dtype: string): Promise<number[][]> {
  const backend = await loadOnnxBackend({
    type: 'load',
    backend: 'onnx',
    modelDir,
    entry,
    dtype,
    threads: 1,
    device: 'cpu',
    parallel: 1,
    maxBatchSize: SENTENCES.length,
    maxBatchWaitMs: 0,
  });
  try {
    if (!backend.embed) throw new Error('the onnx backend cannot embed');
    return (await backend.embed(SENTENCES, { truncate: true })).embeddings;
  } finally {
    await backend.dispose();
  }
}

/** Mean cosine similarity of two lists of vectors, pair by pair. */
export function meanCosine(a: number[][], b: number[][]): number {
  if (a.length !== b.length || a.length === 0) throw new Error('vector lists differ in length');
  let sum = 0;
  for (const [i, x] of a.entries()) {
    const y = b[i] as number[];
    let dot = 0;
    let nx = 0;
    let ny = 0;
    for (const [j, v] of x.entries()) {
      const w = y[j] as number;
      dot += v * w;
      nx += v * v;
      ny += w * w;
    }
    sum += dot / Math.sqrt(nx * ny);
  }
  return sum / a.length;
}

/** Initializer counts per data type name, and node counts per op type, as the file holds them. */
export async function graphContents(file: string): Promise<{ tensorTypes: Record<string, number>; ops: Record<string, number> }> {
  const model = parseModel(await fsp.readFile(file));
  const tensorTypes: Record<string, number> = {};
  for (const t of model.initializers) tensorTypes[tensorTypeName(t.dataType)] = (tensorTypes[tensorTypeName(t.dataType)] ?? 0) + 1;
  const ops: Record<string, number> = {};
  for (const n of model.nodes) ops[n.opType] = (ops[n.opType] ?? 0) + 1;
  return { tensorTypes, ops };
}

/** Files in `dir` (recursively) left by an unfinished conversion. */
export async function partialsIn(dir: string): Promise<string[]> {
  const entries = await fsp.readdir(dir, { recursive: true });
  return entries.filter((name) => path.basename(name).includes('.partial-'));
}

/**
 * Rewrites the model file `file` so that every initializer with more than `minBytes` of raw_data keeps its bytes in
 * `dataName` beside it (data_location EXTERNAL, location/offset/length), as large exports are saved.
 */
export async function externalize(file: string, dataName: string, minBytes = 1024): Promise<void> {
  const bytes = await fsp.readFile(file);
  const model = parseModel(bytes);
  const verbatim = (f: WireField): Uint8Array => bytes.subarray(f.keyStart, f.end);
  const entry = (key: string, value: string): Uint8Array => new ProtoWriter().string(1, key).string(2, value).finish();
  const data: Uint8Array[] = [];
  let offset = 0;
  const graph: Uint8Array[] = [];
  for (const f of model.graphFields) {
    const tensor = model.initializers.find((i) => i.field === f);
    if (tensor?.data.kind !== 'raw' || tensor.data.end - tensor.data.start <= minBytes) {
      graph.push(verbatim(f));
      continue;
    }
    const raw = bytes.subarray(tensor.data.start, tensor.data.end);
    // The tensor's fields but raw_data, verbatim, then where its bytes are.
    const kept = [...fields(bytes, f.start, f.end)].filter((tf) => tf.number !== 9).map(verbatim);
    const external = new ProtoWriter()
      .bytesField(13, entry('location', dataName))
      .bytesField(13, entry('offset', String(offset)))
      .bytesField(13, entry('length', String(raw.length)))
      .int(14, 1)
      .finish();
    graph.push(new ProtoWriter().bytesField(5, Buffer.concat([...kept, external])).finish());
    data.push(raw);
    offset += raw.length;
  }
  const graphBytes = new ProtoWriter().bytesField(7, Buffer.concat(graph)).finish();
  const modelBytes = Buffer.concat(model.modelFields.map((f) => (f === model.graphField ? graphBytes : verbatim(f))));
  await fsp.writeFile(path.join(path.dirname(file), dataName), Buffer.concat(data));
  await fsp.writeFile(file, modelBytes);
}

/** Rewrites the initializer `name` of the model file `file` into `out`: its raw_data field replaced by `dataFields` (encoded fields). */
export async function replaceRawData(file: string, out: string, name: string, dataFields: (raw: Uint8Array) => Uint8Array): Promise<void> {
  const bytes = await fsp.readFile(file);
  const model = parseModel(bytes);
  const verbatim = (f: WireField): Uint8Array => bytes.subarray(f.keyStart, f.end);
  const graph = model.graphFields.map((f) => {
    const tensor = model.initializers.find((i) => i.field === f);
    if (tensor?.name !== name || tensor.data.kind !== 'raw') return verbatim(f);
    const kept = [...fields(bytes, f.start, f.end)].filter((tf) => tf.number !== 9).map(verbatim);
    const content = Buffer.concat([...kept, dataFields(bytes.subarray(tensor.data.start, tensor.data.end))]);
    return new ProtoWriter().bytesField(5, content).finish();
  });
  const graphBytes = new ProtoWriter().bytesField(7, Buffer.concat(graph)).finish();
  await fsp.writeFile(out, Buffer.concat(model.modelFields.map((f) => (f === model.graphField ? graphBytes : verbatim(f)))));
}
