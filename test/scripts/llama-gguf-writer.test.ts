// Proves the GGUF writer and tiny-llama generator against the real parsers: @huggingface/gguf and llama.cpp via node-llama-cpp.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gguf } from '@huggingface/gguf';
import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';
import { SeededRandom } from '../../scripts/lib/seeded-random.ts';
import { decodeValues, encodeValues, f16BitsToF32, f32ToF16Bits, gv, writeGguf } from '../../scripts/lib/gguf-writer.ts';
import { writeTinyLlamaGguf, type TinyLlamaSummary } from '../../scripts/lib/llama-gguf-writer.ts';

const TYPES = ['F32', 'F16', 'Q8_0', 'Q4_0'] as const;
type WeightType = (typeof TYPES)[number];

let dir = '';
const written = new Map<WeightType, TinyLlamaSummary>();
const fileOf = (type: WeightType): string => join(dir, `tiny-${type}.gguf`);

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hangar-gguf-'));
  for (const type of TYPES) written.set(type, await writeTinyLlamaGguf(fileOf(type), { type }));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('f16 conversion', () => {
  it('rounds to nearest even and handles subnormals, overflow, inf and NaN', () => {
    const cases: Array<[number, number]> = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [65504, 0x7bff],
      [65519.99, 0x7bff],
      [65520, 0x7c00],
      [1e6, 0x7c00],
      [Infinity, 0x7c00],
      [-Infinity, 0xfc00],
      [1 + 2 ** -11, 0x3c00],
      [1 + 3 * 2 ** -11, 0x3c02],
      [2 ** -14, 0x0400],
      [2 ** -24, 0x0001],
      [2 ** -25, 0x0000],
      [1.5 * 2 ** -25, 0x0001],
      [3 * 2 ** -25, 0x0002],
      [2 ** -14 - 2 ** -25, 0x0400],
      [1e-10, 0x0000],
    ];
    for (const [value, bits] of cases) {
      assert.equal(f32ToF16Bits(value), bits, `f16(${value}) = 0x${f32ToF16Bits(value).toString(16)}, want 0x${bits.toString(16)}`);
    }
    assert.equal(f32ToF16Bits(NaN) & 0x7e00, 0x7e00);
    for (let bits = 0; bits < 0x7c00; bits += 37) assert.equal(f32ToF16Bits(f16BitsToF32(bits)), bits);
  });
});

describe('block quantization', () => {
  it('encodes known Q8_0 and Q4_0 blocks exactly', () => {
    const q8 = encodeValues(
      'Q8_0',
      Float32Array.from({ length: 32 }, (_, j) => (j % 2 === 0 ? 1 : -1) * j * 4),
    );
    assert.equal(q8.length, 34);
    assert.equal(q8.readUInt16LE(0), f32ToF16Bits(124 / 127));
    assert.equal(q8.readInt8(2 + 31), -127);
    assert.equal(q8.readInt8(2 + 1), -4); // round(-4 · 127/124)
    assert.equal(q8.readInt8(2 + 2), 8); // round(8 · 127/124)

    const q4src = Float32Array.from({ length: 32 }, (_, j) => (j % 16) - 8); // max by magnitude is -8 → d = 1
    const q4 = encodeValues('Q4_0', q4src);
    assert.equal(q4.length, 18);
    assert.equal(q4.readUInt16LE(0), 0x3c00);
    for (let j = 0; j < 16; j++) assert.equal(q4[2 + j], j | (j << 4), `nibbles of byte ${j}`);
    assert.deepEqual(decodeValues('Q4_0', q4), q4src);
  });

  it('round-trips random values within one quantization step', () => {
    const rng = new SeededRandom(7);
    const values = Float32Array.from({ length: 32 * 64 }, () => rng.normal(1) * (rng.next() < 0.1 ? 10 : 1));
    for (const [type, stepOf, tolerance] of [
      ['Q8_0', (amax: number) => amax / 127, 0.51],
      ['Q4_0', (amax: number) => amax / 8, 1.01], // the far side clamps at +7 steps, so one full step is allowed
    ] as const) {
      const decoded = decodeValues(type, encodeValues(type, values));
      assert.equal(decoded.length, values.length);
      for (let b = 0; b < values.length / 32; b++) {
        const block = values.subarray(b * 32, b * 32 + 32);
        const step = stepOf(Math.max(...block.map(Math.abs)));
        for (let j = 0; j < 32; j++) {
          const err = Math.abs(decoded[b * 32 + j] - block[j]);
          // The scale itself is stored as f16 (relative error 2^-11), which adds up to 8 or 127 steps' worth of that.
          assert.ok(err <= step * tolerance + Math.abs(block[j]) * 2 ** -10, `${type} block ${b}[${j}]: err ${err} > step ${step}`);
        }
      }
    }
  });
});

describe('gguf writer', () => {
  it('streams odd-sized chunks through a tiny buffer into correctly aligned tensors', async () => {
    const path = join(dir, 'chunks.gguf');
    const rng = new SeededRandom(3);
    const a = Float32Array.from({ length: 32 * 5 }, () => rng.normal(1));
    const b = Float32Array.from({ length: 7 }, () => rng.normal(1));
    const chunked = (src: Float32Array, size: number) =>
      function* (): Generator<Float32Array> {
        for (let i = 0; i < src.length; i += size) yield src.slice(i, i + size);
      };
    const layout = await writeGguf(
      path,
      [
        ['general.alignment', gv.uint32(32)],
        ['test.list', gv.stringArray(['x', 'ÿ'])],
        ['test.big', gv.uint64(2n ** 40n)],
      ],
      [
        { name: 'a', dims: [32, 5], type: 'Q8_0', values: chunked(a, 7) },
        { name: 'b', dims: [7], type: 'F16', values: chunked(b, 3) },
        { name: 'c', dims: [32, 5], type: 'Q4_0', values: chunked(a, 33) },
      ],
      { chunkBytes: 64 },
    );
    const bytes = await readFile(path);
    assert.equal(bytes.length, layout.totalBytes);
    const parsed = await gguf(path, { allowLocalFile: true });
    // The parser types metadata by known architectures; custom keys need a plain record view.
    const custom = new Map<string, unknown>(Object.entries(parsed.metadata));
    assert.equal(custom.get('test.big'), 2n ** 40n);
    assert.deepEqual(custom.get('test.list'), ['x', 'ÿ']);
    assert.equal(Number(parsed.tensorDataOffset), layout.dataOffset);
    for (const [i, [type, src]] of (
      [
        ['Q8_0', a],
        ['F16', b],
        ['Q4_0', a],
      ] as const
    ).entries()) {
      const info = parsed.tensorInfos[i];
      assert.equal(Number(info.offset) % 32, 0);
      const start = layout.dataOffset + Number(info.offset);
      const expected = encodeValues(type, src);
      assert.deepEqual(bytes.subarray(start, start + expected.length), expected, `tensor ${info.name} bytes`);
    }
  });

  it('rejects wrong element counts and unaligned quantized rows', async () => {
    const path = join(dir, 'bad.gguf');
    await assert.rejects(
      writeGguf(path, [], [{ name: 't', dims: [4], type: 'F32', values: () => [new Float32Array(3)] }]),
      /tensor t: values produced 3 elements, expected 4/,
    );
    await assert.rejects(stat(path), { code: 'ENOENT' }, 'a failed write leaves no partial file');
    await assert.rejects(
      writeGguf(path, [], [{ name: 'q', dims: [48, 2], type: 'Q8_0', values: () => [] }]),
      /tensor q: ggml type Q8_0 needs the row length \(ne0 = 48\) to be a multiple of 32/,
    );
    await assert.rejects(writeTinyLlamaGguf(path, { type: 'Q4_0', embeddingLength: 48, headCount: 4 }), /multiple of 32/);
    await assert.rejects(writeTinyLlamaGguf(path, { headCount: 3 }), /headCount \(3\) must divide embeddingLength \(64\)/);
  });
});

describe('tiny llama files', () => {
  it('are deterministic per seed and shrink with the weight type', async () => {
    const again = join(dir, 'again.gguf');
    await writeTinyLlamaGguf(again, { type: 'F16' });
    assert.ok((await readFile(again)).equals(await readFile(fileOf('F16'))), 'same options → identical bytes');
    await writeTinyLlamaGguf(again, { type: 'F16', seed: 2 });
    assert.ok(!(await readFile(again)).equals(await readFile(fileOf('F16'))), 'another seed → other weights');

    for (const type of TYPES) assert.equal((await stat(fileOf(type))).size, written.get(type)?.sizeBytes);
    const size = (type: WeightType): number => written.get(type)?.sizeBytes ?? 0;
    assert.ok(size('Q4_0') < size('Q8_0') && size('Q8_0') < size('F16') && size('F16') < size('F32'));
    const params = new Set(TYPES.map((type) => written.get(type)?.parameterCount));
    assert.equal(params.size, 1, 'the weight type does not change the parameter count');
  });

  for (const [type, fileType, dtype] of [
    ['F16', 1, 1],
    ['Q8_0', 7, 8],
  ] as const) {
    it(`${type} parses with @huggingface/gguf`, async () => {
      const summary = written.get(type);
      assert.ok(summary);
      const parsed = await gguf(fileOf(type), { allowLocalFile: true, computeParametersCount: true });
      const m = parsed.metadata;
      assert.equal(m['general.architecture'], 'llama');
      assert.equal(m['llama.context_length'], 512);
      assert.equal(m['general.file_type'], fileType);
      assert.equal(m['llama.embedding_length'], 64);
      assert.equal(m['tokenizer.ggml.model'], 'llama');
      assert.equal(m['tokenizer.ggml.tokens']?.length, summary.vocabSize);
      assert.equal(parsed.parameterCount, summary.parameterCount);
      const shapes = new Map(parsed.tensorInfos.map((t) => [t.name, { shape: t.shape.map(Number), dtype: t.dtype }]));
      assert.equal(shapes.size, 1 + 9 * 2 + 2); // token_embd, 9 per block, output_norm and output
      assert.deepEqual(shapes.get('token_embd.weight'), { shape: [64, summary.vocabSize], dtype });
      assert.deepEqual(shapes.get('blk.1.attn_k.weight'), { shape: [64, 32], dtype });
      assert.deepEqual(shapes.get('blk.0.ffn_gate.weight'), { shape: [64, 128], dtype });
      assert.deepEqual(shapes.get('blk.0.ffn_down.weight'), { shape: [128, 64], dtype });
      assert.deepEqual(shapes.get('output_norm.weight'), { shape: [64], dtype: 0 });
      assert.deepEqual(shapes.get('output.weight'), { shape: [64, summary.vocabSize], dtype });
    });
  }
});

describe('node-llama-cpp runs the files', () => {
  let llama: Llama | undefined;
  before(async () => {
    llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
  });
  after(async () => {
    await llama?.dispose();
  });

  for (const type of ['F16', 'Q8_0', 'Q4_0'] as const) {
    it(`${type}: tokenizes, generates and embeds`, async () => {
      assert.ok(llama);
      const model = await llama.loadModel({ modelPath: fileOf(type) });
      try {
        assert.equal(model.trainContextSize, 512);
        const tokens = model.tokenize('Hello world');
        assert.ok(tokens.length < Buffer.byteLength('Hello world'), `"Hello world" became ${tokens.length} tokens`);
        assert.equal(model.detokenize(tokens), 'Hello world');

        // Threads must be explicit: the default (4) on a 2-core machine is tens of times slower.
        const context = await model.createContext({ contextSize: 256, threads: 1 });
        try {
          const generated: number[] = [];
          const bos = model.tokens.bos;
          assert.equal(bos, 1);
          // evaluate() does not stop at EOS, so random weights cannot end the run early.
          for await (const token of context.getSequence().evaluate([bos, ...tokens], { temperature: 0 })) {
            generated.push(token);
            if (generated.length >= 16) break;
          }
          assert.equal(generated.length, 16);
          assert.ok(generated.every((t) => Number.isInteger(t) && t >= 0 && t < (written.get(type)?.vocabSize ?? 0)));
        } finally {
          await context.dispose();
        }

        const embedder = await model.createEmbeddingContext({ contextSize: 256, threads: 1 });
        try {
          const { vector } = await embedder.getEmbeddingFor('Hello world');
          assert.equal(vector.length, 64);
          assert.ok(vector.every(Number.isFinite));
        } finally {
          await embedder.dispose();
        }
      } finally {
        await model.dispose();
      }
    });
  }
});
