// Proves the real-size benchmark generators on small-layer variants: deterministic bytes, real vocabularies, and loading in the real runtimes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { AutoTokenizer, env, pipeline } from '@huggingface/transformers';
import { getLlama, LlamaLogLevel, type Llama, type Token } from 'node-llama-cpp';
import { BGE_BASE_SHAPE, MINILM_SHAPE, REAL_FIXTURE_NAMES, TINYLLAMA_SHAPE, realFixturePaths, realFixtures } from '../../bench/fixtures.ts';
import { buildVocab, writeTinyBertModel } from '../../scripts/lib/bert-onnx-writer.ts';
import { decodeValues, encodeValues } from '../../scripts/lib/gguf-writer.ts';
import { writeTinyLlamaGguf, type TinyLlamaType } from '../../scripts/lib/llama-gguf-writer.ts';
import { SeededRandom } from '../../scripts/lib/seeded-random.ts';
import { modelProtoType } from '../../scripts/lib/onnx-proto.ts';

let root = '';

before(async () => {
  root = await mkdtemp(join(tmpdir(), 'hangar-real-size-'));
});

after(async () => {
  if (root) await rm(root, { recursive: true, force: true });
});

const sha256 = async (file: string): Promise<string> =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

/** sha256 of every file under `dir`, keyed by relative path. */
async function hashTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    out[relative(dir, file)] = await sha256(file);
  }
  return out;
}

describe('padded vocabularies', () => {
  it('the BERT vocabulary pads to exactly 30522 unique entries and keeps the base as its prefix', () => {
    const base = buildVocab();
    const padded = buildVocab({ vocabSize: 30522 });
    assert.equal(padded.length, 30522);
    assert.equal(new Set(padded).size, 30522);
    assert.deepEqual(padded.slice(0, base.length), base);
    assert.ok(padded.includes('qx') && padded.includes('##qx'));
    assert.deepEqual(buildVocab({ vocabSize: base.length }), base);
    assert.throws(() => buildVocab({ vocabSize: base.length - 1 }), /vocabSize must be an integer >=/);
  });

  it('the llama vocabulary refuses a size below its base', async () => {
    await assert.rejects(writeTinyLlamaGguf(join(root, 'bad.gguf'), { vocabSize: 100 }), /vocabSize must be an integer >= 3236/);
  });

  it('the fixtures are shaped like the real models', () => {
    assert.deepEqual(
      [
        MINILM_SHAPE.vocabSize,
        MINILM_SHAPE.hiddenSize,
        MINILM_SHAPE.numLayers,
        MINILM_SHAPE.numHeads,
        MINILM_SHAPE.intermediateSize,
        MINILM_SHAPE.maxPositions,
      ],
      [30522, 384, 6, 12, 1536, 512],
    );
    assert.deepEqual([BGE_BASE_SHAPE.hiddenSize, BGE_BASE_SHAPE.numLayers, BGE_BASE_SHAPE.intermediateSize], [768, 12, 3072]);
    const t = TINYLLAMA_SHAPE;
    assert.deepEqual(
      [t.vocabSize, t.embeddingLength, t.blockCount, t.headCount, t.headCountKv, t.feedForwardLength, t.contextLength],
      [32000, 2048, 22, 32, 4, 5632, 2048],
    );
  });
});

describe('realFixtures', () => {
  it('names every fixture and refuses unknown ones', async () => {
    const paths = realFixturePaths();
    assert.deepEqual(Object.keys(paths.tinyllama), ['F16', 'Q8_0', 'Q4_0', 'Q4_K_M']);
    assert.deepEqual(Object.keys(paths.byName), [...REAL_FIXTURE_NAMES]);
    await assert.rejects(realFixtures({ only: ['minilm', 'gpt-5'] }), /unknown fixture gpt-5/);
    // An empty selection generates nothing and still answers the paths.
    const none = await realFixtures({ only: [] });
    assert.equal(none.tinyllama.Q8_0, paths.tinyllama.Q8_0);
  });
});

describe('MiniLM-shaped ONNX, 1 layer', () => {
  const shape = { ...MINILM_SHAPE, numLayers: 1 };
  let dir = '';
  before(async () => {
    dir = join(root, 'minilm-1');
    await writeTinyBertModel(dir, shape);
  });

  it('is byte-identical for the same seed and differs for another', async () => {
    const again = join(root, 'minilm-1-again');
    const other = join(root, 'minilm-1-other');
    await writeTinyBertModel(again, shape);
    await writeTinyBertModel(other, { ...shape, seed: shape.seed + 1 });
    const first = await hashTree(dir);
    assert.equal(Object.keys(first).length, 6);
    assert.deepEqual(await hashTree(again), first);
    const changed = await hashTree(other);
    assert.notEqual(changed['onnx/model.onnx'], first['onnx/model.onnx']);
    assert.equal(changed['tokenizer.json'], first['tokenizer.json']);
  });

  it('is the canonical protobuf encoding of its own contents (the streamed framing is exact)', async () => {
    const bytes = await readFile(join(dir, 'onnx', 'model.onnx'));
    const type = modelProtoType();
    const reencoded = type.encode(type.decode(bytes)).finish();
    assert.ok(Buffer.from(reencoded).equals(bytes));
  });

  it('loads in transformers.js: 384-dimensional embeddings and a 30522-entry vocabulary in use', async () => {
    env.allowRemoteModels = false;
    env.allowLocalModels = true;
    env.localModelPath = root;
    env.useFSCache = false;
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { vocab_size: number; hidden_size: number };
    assert.equal(config.vocab_size, 30522);
    assert.equal(config.hidden_size, 384);
    const tokenizer = await AutoTokenizer.from_pretrained('minilm-1');
    assert.equal(tokenizer.get_vocab().size, 30522);
    const ids = tokenizer.encode('Hello qx');
    // A padded piece is one token with a high id: the embedding table really has 30522 rows.
    assert.ok(
      ids.some((id) => id >= 618),
      `ids ${ids.join(',')}`,
    );
    const extractor = await pipeline('feature-extraction', 'minilm-1', { dtype: 'fp32', session_options: { intraOpNumThreads: 1 } });
    try {
      const output = await extractor(['Hello qx', 'the model server answers requests'], { pooling: 'mean', normalize: true });
      assert.deepEqual(output.dims, [2, 384]);
      const [a] = output.tolist() as number[][];
      assert.ok(Math.abs(Math.hypot(...a) - 1) < 1e-4);
      assert.ok(a.every(Number.isFinite));
    } finally {
      await extractor.dispose();
    }
  });
});

describe('TinyLlama-shaped GGUF, hidden 256 and 2 blocks', () => {
  const shape = { ...TINYLLAMA_SHAPE, embeddingLength: 256, blockCount: 2, feedForwardLength: 704 };
  const fileOf = (type: 'Q8_0' | 'Q4_0'): string => join(root, `tinyllama-small-${type}.gguf`);
  before(async () => {
    for (const type of ['Q8_0', 'Q4_0'] as const) await writeTinyLlamaGguf(fileOf(type), { ...shape, type });
  });

  it('is byte-identical for the same seed and differs for another', async () => {
    const again = join(root, 'tinyllama-again.gguf');
    await writeTinyLlamaGguf(again, { ...shape, type: 'Q8_0' });
    assert.equal(await sha256(again), await sha256(fileOf('Q8_0')));
    await writeTinyLlamaGguf(again, { ...shape, type: 'Q8_0', seed: shape.seed + 1 });
    assert.notEqual(await sha256(again), await sha256(fileOf('Q8_0')));
  });

  it('@huggingface/gguf reads back the architecture and a 32000-token vocabulary', async () => {
    const { metadata, tensorInfos } = await gguf(fileOf('Q8_0'), { allowLocalFile: true });
    assert.equal(metadata['general.architecture'], 'llama');
    if (metadata['general.architecture'] !== 'llama') return;
    assert.equal(metadata['llama.embedding_length'], 256);
    assert.equal(metadata['llama.block_count'], 2);
    assert.equal(metadata['llama.attention.head_count'], 32);
    assert.equal(metadata['llama.attention.head_count_kv'], 4);
    assert.equal(metadata['llama.feed_forward_length'], 704);
    assert.equal(metadata['llama.context_length'], 2048);
    assert.equal(metadata['llama.vocab_size'], 32000);
    const tokens = new Map<string, unknown>(Object.entries(metadata)).get('tokenizer.ggml.tokens');
    assert.ok(Array.isArray(tokens));
    assert.equal(tokens.length, 32000);
    assert.equal(new Set(tokens).size, 32000);
    const embd = tensorInfos.find((t) => t.name === 'token_embd.weight');
    assert.deepEqual(embd?.shape.map(Number), [256, 32000]);
    assert.equal(tensorInfos.length, 3 + 9 * 2);
    assert.equal((await stat(fileOf('Q8_0'))).size > (await stat(fileOf('Q4_0'))).size, true);
  });

  it('node-llama-cpp loads both types, tokenizes with the padded pieces and generates', async () => {
    const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
    try {
      for (const type of ['Q8_0', 'Q4_0'] as const) {
        const model = await llama.loadModel({ modelPath: fileOf(type) });
        try {
          assert.equal(model.trainContextSize, 2048);
          const pieces = model.tokenize('qx');
          assert.equal(pieces.length, 1, `"qx" became ${pieces.length} tokens`);
          assert.ok(pieces[0] >= 3236, `"qx" is token ${pieces[0]}, not a padded one`);
          assert.equal(model.detokenize(model.tokenize('Hello world qx')), 'Hello world qx');
          // Threads must be explicit: the default (4) on a 2-core machine is tens of times slower.
          const context = await model.createContext({ contextSize: 256, threads: 1 });
          try {
            const generated: number[] = [];
            const bos = model.tokens.bos;
            assert.equal(bos, 1);
            for await (const token of context.getSequence().evaluate([bos, ...model.tokenize('Hello world')], { temperature: 0 })) {
              generated.push(token);
              if (generated.length >= 8) break;
            }
            assert.equal(generated.length, 8);
            assert.ok(
              generated.every((t) => Number.isInteger(t) && t >= 0 && t < 32000),
              `${type}: ${generated.join(',')}`,
            );
          } finally {
            await context.dispose();
          }
        } finally {
          await model.dispose();
        }
      }
    } finally {
      await llama.dispose();
    }
  });
});

describe('Q4_K_M', () => {
  it('Q4_K and Q6_K round-trip with the accuracy their bit widths promise', () => {
    const rng = new SeededRandom(9);
    const values = Float32Array.from(
      { length: 256 * 64 },
      (_, i) => rng.normal(0.05) * (i % 997 === 0 ? 8 : 1) + (i % 1280 < 256 ? 0.03 : 0),
    );
    const relativeRmse = (type: 'Q4_0' | 'Q4_K' | 'Q6_K'): number => {
      const encoded = encodeValues(type, values);
      assert.equal(encoded.length, (values.length / (type === 'Q4_0' ? 32 : 256)) * { Q4_0: 18, Q4_K: 144, Q6_K: 210 }[type]);
      const decoded = decodeValues(type, encoded);
      let err = 0;
      let norm = 0;
      for (let i = 0; i < values.length; i++) {
        err += (decoded[i] - values[i]) ** 2;
        norm += values[i] ** 2;
      }
      return Math.sqrt(err / norm);
    };
    const [q40, q4k, q6k] = [relativeRmse('Q4_0'), relativeRmse('Q4_K'), relativeRmse('Q6_K')];
    assert.ok(q4k < 0.1 && q4k < q40, `Q4_K ${q4k} vs Q4_0 ${q40}`);
    assert.ok(q6k < 0.03, `Q6_K ${q6k}`);
  });

  describe('a TinyLlama-shaped model with hidden 256 and 4 blocks', () => {
    const shape = { ...TINYLLAMA_SHAPE, embeddingLength: 256, blockCount: 4, headCount: 8, feedForwardLength: 768, seed: 5 };
    const fileOf = (type: TinyLlamaType): string => join(root, `kquant-${type}.gguf`);
    let llama: Llama | undefined;
    before(async () => {
      for (const type of ['F16', 'Q4_0', 'Q4_K_M'] as const) await writeTinyLlamaGguf(fileOf(type), { ...shape, type });
      llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
    });
    after(async () => {
      await llama?.dispose();
    });

    it('mixes Q4_K and Q6_K as llama-quantize does, and refuses rows that are not whole super-blocks', async () => {
      const { metadata, tensorInfos } = await gguf(fileOf('Q4_K_M'), { allowLocalFile: true });
      assert.equal(new Map<string, unknown>(Object.entries(metadata)).get('general.file_type'), 15);
      const types = new Map(tensorInfos.map((t) => [t.name, t.dtype]));
      assert.equal(types.get('token_embd.weight'), 12);
      assert.equal(types.get('output.weight'), 14);
      // 4 blocks: blocks 2 and 3 (the last eighth and every third after the first eighth) get 6 bits for attn_v and ffn_down.
      assert.deepEqual(
        [0, 1, 2, 3].map((b) => types.get(`blk.${b}.attn_v.weight`)),
        [12, 12, 14, 14],
      );
      assert.deepEqual(
        [0, 1, 2, 3].map((b) => types.get(`blk.${b}.ffn_down.weight`)),
        [12, 12, 14, 14],
      );
      assert.equal(types.get('blk.0.ffn_up.weight'), 12);
      await assert.rejects(
        writeTinyLlamaGguf(join(root, 'bad-k.gguf'), { type: 'Q4_K_M', feedForwardLength: 704, embeddingLength: 256 }),
        /multiple of 256/,
      );
    });

    it('llama.cpp predicts from it as from F16, at least as closely as from Q4_0', async () => {
      assert.ok(llama);
      const texts = ['Hello world', 'the model server loads weights into memory', 'qx zebra 42'];
      const next = new Map<TinyLlamaType, Float64Array[]>();
      for (const type of ['F16', 'Q4_0', 'Q4_K_M'] as const) {
        const model = await llama.loadModel({ modelPath: fileOf(type) });
        try {
          const rows: Float64Array[] = [];
          for (const text of texts) {
            const context = await model.createContext({ contextSize: 256, threads: 1 });
            try {
              const tokens: Token[] = [...(model.tokens.bos === null ? [] : [model.tokens.bos]), ...model.tokenize(text)];
              const last = tokens.length - 1;
              const input = tokens.map((t, i): Token | [Token, { generateNext: { probabilities: boolean } }] =>
                i === last ? [t, { generateNext: { probabilities: true } }] : t,
              );
              const output = await context.getSequence().controlledEvaluate(input);
              const row = new Float64Array(32000);
              for (const [token, p] of output[last]?.next.probabilities ?? []) row[token] = p;
              rows.push(row);
            } finally {
              await context.dispose();
            }
          }
          next.set(type, rows);
        } finally {
          await model.dispose();
        }
      }
      // Correlation of next-token distributions: a mislaid Q4_K block gives ~0.1, a mislaid Q6_K half-block ~0.87.
      const correlation = (a: Float64Array, b: Float64Array): number => {
        const ma = a.reduce((x, y) => x + y, 0) / a.length;
        const mb = b.reduce((x, y) => x + y, 0) / b.length;
        let ab = 0;
        let aa = 0;
        let bb = 0;
        for (let i = 0; i < a.length; i++) {
          ab += (a[i] - ma) * (b[i] - mb);
          aa += (a[i] - ma) ** 2;
          bb += (b[i] - mb) ** 2;
        }
        return ab / Math.sqrt(aa * bb);
      };
      const f16 = next.get('F16') ?? [];
      for (let i = 0; i < texts.length; i++) {
        const k = correlation(next.get('Q4_K_M')?.[i] ?? new Float64Array(32000), f16[i]);
        const q40 = correlation(next.get('Q4_0')?.[i] ?? new Float64Array(32000), f16[i]);
        assert.ok(k > 0.92 && k >= q40 - 0.01, `"${texts[i]}": Q4_K_M correlates ${k.toFixed(4)} with F16, Q4_0 ${q40.toFixed(4)}`);
      }
    });
  });
});
