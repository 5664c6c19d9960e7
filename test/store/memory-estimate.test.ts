// Memory estimate: the formula's terms, the shape readers on the demo GGUF/ONNX files, and device fits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { gguf } from '@huggingface/gguf';
import { DEMO_MODELS, generateDemoModel } from '../../src/store/demo-models.ts';
import {
  checkContextSize,
  estimateMemory,
  LLAMACPP_DEFAULT_CONTEXT_CAP,
  RUNNER_OVERHEAD_BYTES,
} from '../../src/model-shape/memory-model.ts';
import { estimateResponse, fitsDevices } from '../../src/model-shape/estimate-reply.ts';
import { readStoredShape } from '../../src/model-shape/stored-shape.ts';
import { repackedBytesOf, shapeFromGgufHeader } from '../../src/model-shape/gguf-facts.ts';
import { hostCpuWeightCopy } from '../../src/model-shape/cpu-weight-copies.ts';
import { shapeFromOnnxConfig } from '../../src/model-shape/onnx-config-facts.ts';
import type { ModelShape } from '../../src/model-shape/model-shape.ts';
import { MIB } from '../../src/mebibytes.ts';
import { HangarError } from '../../src/errors.ts';
import { tempDir } from '../helpers/temp.ts';
import { httpStatus } from '../../src/http/error-status.ts';
import { estimateLoadBytes } from '../../src/runtime/placement.ts';

/** TinyLlama-1.1B as its GGUF header states it (Q8_0, ~1.17 GB). */
const TINYLLAMA: ModelShape = {
  format: 'gguf',
  weightsBytes: 1_169_807_360,
  layerCount: 22,
  embeddingLength: 2048,
  headCount: 32,
  headCountKv: 4,
  contextLength: 2048,
  vocabSize: 32000,
  quantization: 'Q8_0',
  feedForwardLength: 5632,
};

/** all-MiniLM-L6-v2's config.json and fp32 ONNX size. */
const MINILM_CONFIG = {
  hidden_size: 384,
  num_hidden_layers: 6,
  num_attention_heads: 12,
  intermediate_size: 1536,
  max_position_embeddings: 512,
  vocab_size: 30522,
  model_type: 'bert',
};

function demoSpec(name: string) {
  const spec = DEMO_MODELS.find((d) => d.name === name);
  assert.ok(spec, name);
  return spec;
}

test('KV cache is 2 x layers x context x KV heads x head size x 2 bytes: TinyLlama at 2048 = 46,137,344', () => {
  const estimate = estimateMemory(TINYLLAMA, { contextSize: 2048 });
  assert.equal(estimate.kv_cache_bytes, 2 * 22 * 2048 * 4 * 64 * 2);
  assert.equal(estimate.kv_cache_bytes, 46_137_344);
  assert.equal(estimate.context_size, 2048);
  assert.equal(estimate.weights_bytes, TINYLLAMA.weightsBytes);
  assert.equal(estimate.runtime_overhead_bytes, RUNNER_OVERHEAD_BYTES.gguf);
  // Batch 512: the logits (32000 + 2048 wide) outgrow the FFN stage (3 x 5632 + 4 x 2048); the f16 mask is 512 x 2048; outputs 32000 floats.
  assert.equal(estimate.compute_bytes, 512 * 4 * (32000 + 2048) + 512 * 2048 * 2 + 32000 * 4);
  assert.equal(
    estimate.total_bytes,
    estimate.weights_bytes + estimate.kv_cache_bytes + estimate.compute_bytes + estimate.runtime_overhead_bytes,
  );
  assert.match(estimate.formula, /2 x 22 layers x 2048 ctx x 4 KV heads x 64 head dim x 2 B \(f16\) = 46,137,344/);
  // The KV cache grows linearly with the context and with parallel sequences.
  assert.equal(estimateMemory(TINYLLAMA, { contextSize: 1024 }).kv_cache_bytes, 46_137_344 / 2);
  assert.equal(estimateMemory(TINYLLAMA, { contextSize: 1024, sequences: 2 }).kv_cache_bytes, 46_137_344);
  // A stated head size (attention.key_length) wins over embedding / heads.
  assert.equal(estimateMemory({ ...TINYLLAMA, headDim: 128 }, { contextSize: 2048 }).kv_cache_bytes, 2 * 46_137_344);
});

test('the default context is what the llama.cpp runner opens: min(trained, its cap); ONNX takes its longest input', async () => {
  assert.equal(estimateMemory(TINYLLAMA).context_size, 2048);
  assert.equal(estimateMemory({ ...TINYLLAMA, contextLength: 32768 }).context_size, LLAMACPP_DEFAULT_CONTEXT_CAP);
  assert.equal(estimateMemory({ ...TINYLLAMA, contextLength: null }).context_size, LLAMACPP_DEFAULT_CONTEXT_CAP);
  // The cap must stay the runner's: it is a constant there, in a module the server process never imports.
  const backend = await fsp.readFile(new URL('../../src/runtime/runners/llamacpp/llamacpp-backend.ts', import.meta.url), 'utf8');
  assert.match(backend, new RegExp(`DEFAULT_CONTEXT_CAP = ${LLAMACPP_DEFAULT_CONTEXT_CAP};`));
  assert.match(backend, /command\.contextSize \?\? Math\.min\(model\.trainContextSize, DEFAULT_CONTEXT_CAP\)/);
  assert.equal(estimateMemory(shapeFromOnnxConfig(MINILM_CONFIG, 90_387_606)).context_size, 512);
});

test('ONNX: no KV cache, activations of one full-length input, the weights once beside the runner', () => {
  const shape = shapeFromOnnxConfig(MINILM_CONFIG, 90_387_606, 'fp32');
  assert.deepEqual(
    {
      layers: shape.layerCount,
      embd: shape.embeddingLength,
      heads: shape.headCount,
      kv: shape.headCountKv,
      ctx: shape.contextLength,
      vocab: shape.vocabSize,
      ffn: shape.feedForwardLength,
      q: shape.quantization,
    },
    { layers: 6, embd: 384, heads: 12, kv: 12, ctx: 512, vocab: 30522, ffn: 1536, q: 'fp32' },
  );
  const estimate = estimateMemory(shape);
  assert.equal(estimate.kv_cache_bytes, 0);
  assert.equal(estimate.compute_bytes, 512 * 4 * (2 * 12 * 512 + 2 * 384 + 1536));
  assert.equal(estimate.runtime_overhead_bytes, RUNNER_OVERHEAD_BYTES.onnx);
  assert.equal(estimate.total_bytes, 90_387_606 + estimate.compute_bytes + RUNNER_OVERHEAD_BYTES.onnx);
  assert.equal(estimateMemory(shape, { contextSize: 128, batchSize: 4 }).compute_bytes, 4 * 128 * 4 * (2 * 12 * 128 + 2 * 384 + 1536));
});

test('config.json readers: llama-style and GPT-2-style keys', () => {
  const llama = shapeFromOnnxConfig(
    {
      hidden_size: 2048,
      num_hidden_layers: 22,
      num_attention_heads: 32,
      num_key_value_heads: 4,
      max_position_embeddings: 2048,
      vocab_size: 32000,
      intermediate_size: 5632,
    },
    1000,
  );
  assert.deepEqual(
    [llama.layerCount, llama.headCount, llama.headCountKv, llama.contextLength, llama.feedForwardLength],
    [22, 32, 4, 2048, 5632],
  );
  const gpt2 = shapeFromOnnxConfig({ n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024, vocab_size: 50257 }, 1000);
  assert.deepEqual(
    [gpt2.embeddingLength, gpt2.layerCount, gpt2.headCount, gpt2.headCountKv, gpt2.contextLength, gpt2.feedForwardLength],
    [768, 12, 12, 12, 1024, null],
  );
  const empty = shapeFromOnnxConfig({}, 5);
  assert.equal(estimateMemory(empty).total_bytes > 5, true);
});

test('GGUF header reader on the demo models: shape from the metadata, weights from the tensor table', async (t) => {
  const dir = await tempDir(t);
  for (const [name, quantization] of [
    ['demo-llama', 'F16'],
    ['demo-llama-q8', 'Q8_0'],
  ] as const) {
    const file = await generateDemoModel(demoSpec(name), dir);
    const fileBytes = fs.statSync(file).size;
    const parsed = await gguf(file, { allowLocalFile: true });
    const shape = shapeFromGgufHeader(parsed.metadata, parsed.tensorInfos, fileBytes);
    assert.deepEqual(
      {
        layers: shape.layerCount,
        embd: shape.embeddingLength,
        heads: shape.headCount,
        kv: shape.headCountKv,
        ctx: shape.contextLength,
        ffn: shape.feedForwardLength,
        q: shape.quantization,
      },
      { layers: 2, embd: 64, heads: 4, kv: 2, ctx: 512, ffn: 128, q: quantization },
    );
    assert.equal(shape.vocabSize, (parsed.metadata as Record<string, unknown>)['llama.vocab_size']);
    // The tensor data is the file after the header, less the alignment padding between tensors (32 bytes at most each).
    const dataBytes = fileBytes - Number(parsed.tensorDataOffset);
    assert.ok(
      shape.weightsBytes <= dataBytes && shape.weightsBytes > dataBytes - 32 * parsed.tensorInfos.length,
      `${shape.weightsBytes} vs ${dataBytes}`,
    );
    // 2 layers x 512 x 2 KV heads x 16 x 2 x 2 bytes.
    assert.equal(estimateMemory(shape).kv_cache_bytes, 2 * 2 * 512 * 2 * 16 * 2);
    // An unknown tensor type falls back to the file size.
    assert.equal(
      shapeFromGgufHeader(parsed.metadata, [{ ...parsed.tensorInfos[0], dtype: 99 as never }], fileBytes).weightsBytes,
      fileBytes,
    );
  }
});

test('stored-version reader: GGUF entry and ONNX folder (config.json + .onnx sizes), quantization from the version', async (t) => {
  const dir = await tempDir(t);
  const ggufFile = await generateDemoModel(demoSpec('demo-llama-q8'), dir);
  const ggufBytes = fs.statSync(ggufFile).size;
  const ggufShape = await readStoredShape(dir, {
    format: 'gguf',
    manifest: JSON.stringify({
      entry: path.basename(ggufFile),
      files: [{ path: path.basename(ggufFile), size_bytes: ggufBytes, sha256: 'x' }],
    }),
    quantization: null,
  });
  assert.equal(ggufShape.quantization, 'Q8_0');
  assert.equal(ggufShape.layerCount, 2);

  const folder = await generateDemoModel(demoSpec('demo-embed-base'), dir);
  const onnxBytes = fs.statSync(path.join(folder, 'onnx/model.onnx')).size;
  const files = [
    { path: 'config.json', size_bytes: 500, sha256: 'x' },
    { path: 'onnx/model.onnx', size_bytes: onnxBytes, sha256: 'x' },
    { path: 'tokenizer.json', size_bytes: 9000, sha256: 'x' },
  ];
  const onnxShape = await readStoredShape(folder, {
    format: 'onnx',
    manifest: JSON.stringify({ entry: 'onnx/model.onnx', files }),
    quantization: 'fp32',
  });
  assert.deepEqual(
    {
      w: onnxShape.weightsBytes,
      embd: onnxShape.embeddingLength,
      layers: onnxShape.layerCount,
      heads: onnxShape.headCount,
      ctx: onnxShape.contextLength,
      q: onnxShape.quantization,
    },
    { w: onnxBytes, embd: 64, layers: 2, heads: 4, ctx: 128, q: 'fp32' },
  );
  // External data next to the graph counts as weights too.
  const withData = [...files, { path: 'onnx/model.onnx_data', size_bytes: 1000, sha256: 'x' }];
  const external = await readStoredShape(folder, {
    format: 'onnx',
    manifest: JSON.stringify({ entry: 'onnx/model.onnx', files: withData }),
    quantization: 'fp32',
  });
  assert.equal(external.weightsBytes, onnxBytes + 1000);
});

test('fits each device whose budget holds the total; context over the trained one is a 400', () => {
  const total = estimateMemory(TINYLLAMA).total_bytes;
  const devices = [
    { device: 'cpu', budget_bytes: total, free_bytes: 10 * total },
    { device: 'gpu_0', budget_bytes: total - 1, free_bytes: null },
  ];
  assert.deepEqual(
    fitsDevices(total, devices).map((d) => [d.device, d.fits]),
    [
      ['cpu', true],
      ['gpu_0', false],
    ],
  );
  assert.throws(
    () => checkContextSize(TINYLLAMA, 4096),
    (error: unknown) => error instanceof HangarError && httpStatus(error) === 400 && error.code === 'invalid_context_size',
  );
  assert.throws(
    () => checkContextSize(TINYLLAMA, 0),
    (error: unknown) => error instanceof HangarError && httpStatus(error) === 400,
  );
  checkContextSize(TINYLLAMA, 2048);
  const reply = estimateResponse(TINYLLAMA, 1024, devices, {
    model: 'tinyllama',
    version: 1,
    source: 'local',
    measured_peak_rss_bytes: null,
  });
  assert.equal(reply.context_size, 1024);
  assert.equal(reply.quantization, 'Q8_0');
  assert.equal(reply.total_bytes, estimateMemory(TINYLLAMA, { contextSize: 1024 }).total_bytes);
  assert.deepEqual(
    reply.devices.map((d) => d.fits),
    [true, true],
  );
  assert.throws(
    () => estimateResponse(TINYLLAMA, 4096, devices, { model: 'tinyllama', version: 1, source: 'local', measured_peak_rss_bytes: null }),
    /trained context of 2048/,
  );
});

test('placement uses the estimator: the shape when read, else the file size as the weights', () => {
  const withShape = estimateLoadBytes({ backend: 'llamacpp', artifactBytes: 1_169_807_648, shape: TINYLLAMA, contextSize: 2048 });
  assert.deepEqual(withShape, { bytes: estimateMemory(TINYLLAMA, { contextSize: 2048 }).total_bytes, source: 'estimated' });
  // A bigger context asks for more: the KV cache and the mask grow with it.
  assert.ok(
    estimateLoadBytes({ backend: 'llamacpp', artifactBytes: 1, shape: { ...TINYLLAMA, contextLength: 8192 }, contextSize: 8192 }).bytes >
      withShape.bytes + 3 * 46_137_344,
  );
  const bySize = estimateLoadBytes({ backend: 'onnx', artifactBytes: 100 * MIB });
  assert.ok(
    bySize.bytes > RUNNER_OVERHEAD_BYTES.onnx + 100 * MIB && bySize.bytes < RUNNER_OVERHEAD_BYTES.onnx + 111 * MIB,
    String(bySize.bytes / MIB),
  );
  assert.deepEqual(estimateLoadBytes({ backend: 'onnx', artifactBytes: 1, shape: TINYLLAMA, measuredBytes: 77 }), {
    bytes: 77,
    source: 'measured',
  });
});

test('GGUF on the CPU: Q4_0/Q4_K/IQ4_NL matrices count twice (repacked copy), and with AMX F16/Q8_0/K-quants too; token embeddings never', () => {
  const tensor = (name: string, dtype: number, rows: number, cols: number) => ({
    name,
    n_dims: 2,
    shape: [BigInt(cols), BigInt(rows)],
    dtype,
    offset: 0n,
  });
  const meta = {
    'general.architecture': 'llama',
    'llama.block_count': 1,
    'llama.embedding_length': 256,
    'llama.attention.head_count': 4,
    'llama.context_length': 512,
  };
  const q4Tensors = [
    tensor('token_embd.weight', 2, 1000, 256),
    tensor('blk.0.attn_q.weight', 2, 256, 256),
    tensor('blk.0.ffn_up.weight', 12, 512, 256),
  ];
  const q4 = shapeFromGgufHeader(meta, q4Tensors, 0);
  // Q4_0: 32 values in 18 bytes; Q4_K: 256 values in 144 bytes (on either kind of CPU).
  const q4Copies = ((256 * 256) / 32) * 18 + ((512 * 256) / 256) * 144;
  assert.equal(q4.repackedBytes, q4Copies);
  assert.equal(repackedBytesOf(q4Tensors, 'repack'), q4Copies);
  assert.equal(repackedBytesOf(q4Tensors, 'amx'), q4Copies);
  // Q8_0 and F16 matrices: no copy where the CPU repacks, an AMX tile copy where it has AMX (rows of 32, columns aligned).
  const q8 = [tensor('blk.0.attn_q.weight', 8, 256, 256)];
  assert.equal(repackedBytesOf(q8, 'repack'), 0);
  assert.equal(repackedBytesOf(q8, 'amx'), ((256 * 256) / 32) * 34);
  const f16 = [tensor('blk.0.attn_q.weight', 1, 256, 256), tensor('output.weight', 1, 1000, 256), tensor('blk.0.odd.weight', 1, 20, 256)];
  assert.equal(repackedBytesOf(f16, 'amx'), 256 * 256 * 2, 'output (1000 rows) and 20 rows are not multiples of 32');
  assert.equal(shapeFromGgufHeader(meta, q8, 0).repackedBytes, repackedBytesOf(q8, hostCpuWeightCopy()));
  const withRepack = estimateMemory(q4, { contextSize: 512 });
  assert.equal(withRepack.runtime_overhead_bytes, RUNNER_OVERHEAD_BYTES.gguf + (q4.repackedBytes ?? 0));
  assert.match(withRepack.formula, /repacked copy/);
});
