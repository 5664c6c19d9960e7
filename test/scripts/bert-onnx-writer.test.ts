// Proves the tiny BERT fixture is a real model: transformers.js loads it and its embeddings behave like a transformer's.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AutoTokenizer, env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import { writeTinyBertModel, type TinyBertSummary } from '../../scripts/lib/bert-onnx-writer.ts';
import { decodeModel } from '../../scripts/lib/onnx-proto.ts';

let root = '';
let small: FeatureExtractionPipeline;
let wide: FeatureExtractionPipeline;
let smallSummary: TinyBertSummary;
let wideSummary: TinyBertSummary;

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hangar-bert-'));
  // Local folders only; models are addressed by folder name under localModelPath.
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = root;
  env.useFSCache = false;
  smallSummary = await writeTinyBertModel(join(root, 'tiny-32'), { hiddenSize: 32, seed: 1 });
  wideSummary = await writeTinyBertModel(join(root, 'tiny-64'), { hiddenSize: 64, seed: 1 });
  // dtype 'fp32' pins the file to onnx/model.onnx (it is also the Node default for device 'cpu').
  small = await pipeline('feature-extraction', 'tiny-32', { dtype: 'fp32' });
  wide = await pipeline('feature-extraction', 'tiny-64', { dtype: 'fp32' });
});

after(async () => {
  await small?.dispose();
  await wide?.dispose();
  if (root) await rm(root, { recursive: true, force: true });
});

async function embed(pipe: FeatureExtractionPipeline, texts: string[]): Promise<number[][]> {
  const output = await pipe(texts, { pooling: 'mean', normalize: true });
  return output.tolist() as number[][];
}

const dot = (a: number[], b: number[]): number => a.reduce((sum, x, i) => sum + x * b[i], 0);

test('the folder has the Hugging Face files and a sane summary', () => {
  assert.deepEqual(smallSummary.files.slice().sort(), [
    'config.json',
    'onnx/model.onnx',
    'special_tokens_map.json',
    'tokenizer.json',
    'tokenizer_config.json',
    'vocab.txt',
  ]);
  assert.equal(smallSummary.hiddenSize, 32);
  assert.equal(wideSummary.hiddenSize, 64);
  assert.ok(smallSummary.vocabSize > 500);
  assert.ok(wideSummary.parameterCount > smallSummary.parameterCount);
});

test('model.onnx decodes to opset 13 with the three BERT inputs and last_hidden_state', async () => {
  const model = decodeModel(await readFile(join(root, 'tiny-32', 'onnx', 'model.onnx'))) as {
    opsetImport: { version: number }[];
    graph: { input: { name: string }[]; output: { name: string }[]; node: { opType: string }[] };
  };
  assert.equal(model.opsetImport[0].version, 13);
  assert.deepEqual(
    model.graph.input.map((i) => i.name),
    ['input_ids', 'attention_mask', 'token_type_ids'],
  );
  assert.deepEqual(
    model.graph.output.map((o) => o.name),
    ['last_hidden_state'],
  );
  const ops = new Set(model.graph.node.map((n) => n.opType));
  for (const op of ['Gather', 'Range', 'ReduceMean', 'Softmax', 'Erf', 'MatMul']) assert.ok(ops.has(op), `no ${op} node`);
});

test('config and vocab.txt agree with the summary', async () => {
  const config = JSON.parse(await readFile(join(root, 'tiny-32', 'config.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(config.model_type, 'bert');
  assert.equal(config.hidden_size, 32);
  assert.equal(config.vocab_size, smallSummary.vocabSize);
  const vocab = (await readFile(join(root, 'tiny-32', 'vocab.txt'), 'utf8')).trimEnd().split('\n');
  assert.equal(vocab.length, smallSummary.vocabSize);
  assert.deepEqual(vocab.slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
});

test('"Hello world" tokenizes without [UNK], wrapped in [CLS] ... [SEP]', async () => {
  const tokenizer = await AutoTokenizer.from_pretrained('tiny-32');
  const ids = tokenizer.encode('Hello world, ZEBRAS & 42 quokkas!');
  assert.equal(ids[0], 2);
  assert.equal(ids[ids.length - 1], 3);
  assert.ok(!ids.includes(1), `unexpected [UNK] in ${ids.join(',')}`);
  assert.ok(!tokenizer.encode('Hello world').includes(1));
});

test('vectors have the hidden size and unit norm', async () => {
  const [a] = await embed(small, ['the dog bit the man']);
  const [b] = await embed(wide, ['the dog bit the man']);
  assert.equal(a.length, 32);
  assert.equal(b.length, 64);
  for (const v of [a, b]) assert.ok(Math.abs(Math.sqrt(dot(v, v)) - 1) < 1e-5);
});

test('word order changes the vector', async () => {
  const [a, b] = await embed(small, ['the dog bit the man', 'the man bit the dog']);
  const maxDiff = Math.max(...a.map((x, i) => Math.abs(x - b[i])));
  assert.ok(maxDiff > 1e-3, `max difference only ${maxDiff}`);
});

test('different sentences are not near-duplicates', async () => {
  const [a, b] = await embed(small, ['the weather is cold today', 'servers store model files on disk']);
  assert.ok(dot(a, b) < 0.999, `cosine ${dot(a, b)}`);
});

test('padding is masked: batched vectors equal solo vectors', async () => {
  const texts = ['a cat', 'the quick brown fox jumps over the lazy dog near the river bank'];
  const batch = await embed(small, texts);
  for (let i = 0; i < texts.length; i++) {
    const [solo] = await embed(small, [texts[i]]);
    const maxDiff = Math.max(...solo.map((x, j) => Math.abs(x - batch[i][j])));
    assert.ok(maxDiff < 1e-4, `text ${i}: max difference ${maxDiff}`);
  }
});

test('the same seed writes byte-identical files; another seed changes the weights', async () => {
  const again = join(root, 'again');
  const other = join(root, 'other');
  await writeTinyBertModel(again, { hiddenSize: 32, seed: 1 });
  await writeTinyBertModel(other, { hiddenSize: 32, seed: 2 });
  const first = await readFile(join(root, 'tiny-32', 'onnx', 'model.onnx'));
  assert.ok(first.equals(await readFile(join(again, 'onnx', 'model.onnx'))));
  assert.ok(!first.equals(await readFile(join(other, 'onnx', 'model.onnx'))));
  for (const name of smallSummary.files) {
    const a = await readFile(join(root, 'tiny-32', name));
    assert.ok(a.equals(await readFile(join(again, name))), `${name} differs`);
  }
});
