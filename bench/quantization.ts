// Q: quantization through Hangar's API on the real-size fixtures, measured in one run: throughput vs the engine called directly, runner memory, quality and speed vs full precision.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { quantizeGguf, type GgufQuantType } from '../src/quantize/gguf/gguf-quantizer.ts';
import { quantizeOnnx, type OnnxQuantDtype } from '../src/quantize/onnx/index.ts';
import { median, now, type Result } from './common.ts';
import { realFixtures, sentences, TINYLLAMA_SHAPE } from './fixtures.ts';
import { hangarGeneration } from './generation.ts';
import { benchHangarEnv, startHangar, type HangarProcess } from './hangar-process.ts';
import { compareDistributions, meanCosine, nextTokenDistributions, QUALITY_PROMPTS } from './quantization-quality.ts';

const GGUF_TYPES = ['Q8_0', 'Q4_K_M', 'Q4_0'] as const satisfies readonly GgufQuantType[];
const ONNX_TYPES = ['q8', 'fp16'] as const satisfies readonly OnnxQuantDtype[];
const LLM = 'tinyllama';
const ENCODER = 'minilm';
const ONNX_ENTRY = 'onnx/model.onnx';
const CONTEXT = 512;
const MB = 1e6;
const MIB = 1024 * 1024;
// One GGUF quantization takes seconds to a minute here, so one round each; the ONNX ones take about a second, so a few
// alternating rounds (direct, Hangar) with the median of adjacent pairs, as the other benchmarks do.
const ROUNDS = { gguf: 1, onnx: 3 } as const;
const POLL_MS = 50;

type Kind = 'gguf' | 'onnx';

interface JobResult {
  version: number;
  size_bytes: number;
  sha256: string;
}

interface Job {
  status: string;
  started_at: string | null;
  finished_at: string | null;
  result: JobResult | null;
  error: { code: string; message: string } | null;
}

interface Quantized {
  type: string;
  version: number;
  sizeBytes: number;
  sha256: string;
  /** POST → the poll that saw the job completed. */
  hangarMs: number;
  /** The job's own started_at → finished_at. */
  jobMs: number;
  /** metadata.quantized_in_ms of the new version: the engine's time inside the job. */
  engineMs: number;
}

interface Estimate {
  total_bytes: number;
  quantization_options: Array<{ type: string; total_bytes: number }>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const log = (line: string) => process.stderr.write(`Q: ${line}\n`);
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Quantizes version 1 of `model` through the API and follows the job until it has finished. */
async function quantizeThroughHangar(hangar: HangarProcess, model: string, type: string): Promise<Quantized> {
  const start = now();
  const { job_id } = await hangar.request<{ job_id: string }>('POST', `/api/v1/models/${model}/quantize`, { type, version: 1 });
  let job: Job;
  for (;;) {
    job = await hangar.request<Job>('GET', `/api/v1/jobs/${job_id}`);
    if (job.status === 'completed') break;
    if (job.status === 'failed' || job.status === 'cancelled')
      throw new Error(`quantize ${model} → ${type} ${job.status}: ${job.error?.message}`);
    await sleep(POLL_MS);
  }
  const hangarMs = now() - start;
  const result = job.result;
  if (!result) throw new Error(`quantize ${model} → ${type}: completed without a result`);
  const detail = await hangar.request<{ versions: Array<{ version: number; metadata: Record<string, unknown> }> }>(
    'GET',
    `/api/v1/models/${model}`,
  );
  const engineMs = Number(detail.versions.find((v) => v.version === result.version)?.metadata.quantized_in_ms);
  const jobMs = Date.parse(job.finished_at ?? '') - Date.parse(job.started_at ?? '');
  return { type, version: result.version, sizeBytes: result.size_bytes, sha256: result.sha256, hangarMs, jobMs, engineMs };
}

/** The same engine called in this process on the fixture itself, into a temp file deleted at once. */
async function quantizeDirectly(
  kind: Kind,
  input: string,
  type: string,
  threads: number,
  tmp: string,
): Promise<{ ms: number; sizeBytes: number }> {
  const output = path.join(tmp, `direct-${type}.${kind === 'gguf' ? 'gguf' : 'onnx'}`);
  const start = now();
  if (kind === 'gguf') await quantizeGguf({ input, output, type: type as GgufQuantType, threads, nice: 0 });
  else await quantizeOnnx({ modelDir: input, entry: ONNX_ENTRY, dtype: type as OnnxQuantDtype, output });
  const ms = now() - start;
  const sizeBytes = fs.statSync(output).size;
  fs.rmSync(output, { force: true });
  return { ms, sizeBytes };
}

async function throughput(
  hangar: HangarProcess,
  kind: Kind,
  type: string,
  input: { model: string; path: string; bytes: number; label: string },
  threads: number,
  tmp: string,
): Promise<{ row: Result; last: Quantized }> {
  const direct: Array<{ ms: number; sizeBytes: number }> = [];
  const ours: Quantized[] = [];
  for (let i = 0; i < ROUNDS[kind]; i++) {
    direct.push(await quantizeDirectly(kind, input.path, type, threads, tmp));
    ours.push(await quantizeThroughHangar(hangar, input.model, type));
    log(`${input.model} → ${type}: direct ${seconds(direct[i].ms)}, Hangar ${seconds(ours[i].hangarMs)}`);
  }
  const rate = (ms: number) => input.bytes / MB / (ms / 1000);
  const ratio = median(ours.map((q, i) => rate(q.hangarMs) / rate(direct[i].ms)));
  const last = ours[ours.length - 1];
  const engine = kind === 'gguf' ? `quantizeGguf, ${threads} threads` : 'quantizeOnnx';
  return {
    last,
    row: {
      id: `Q-tp-${type}`,
      measure: `quantize ${input.label} → ${type}: POST → job completed vs ${engine} in-process (MB/s of input)`,
      hangar: rate(median(ours.map((q) => q.hangarMs))),
      anchor: rate(median(direct.map((d) => d.ms))),
      unit: 'MB/s',
      ratio,
      goal: '>= 0.90',
      pass: ratio >= 0.9,
      note:
        `${(input.bytes / MB).toFixed(0)} MB → ${(last.sizeBytes / MB).toFixed(0)} MB (direct ${(direct[0].sizeBytes / MB).toFixed(0)} MB); ` +
        `Hangar ${seconds(last.hangarMs)} (job ${seconds(last.jobMs)}, engine ${seconds(last.engineMs)}), direct ${seconds(direct[direct.length - 1].ms)}` +
        (ROUNDS[kind] > 1 ? `; median of ${ROUNDS[kind]} alternating rounds` : ''),
    },
  };
}

/** Loads `ref`, sends one request and returns the runner's RSS (MiB): the highest of a few readings, as P8 does. */
async function loadAndMeasure(hangar: HangarProcess, ref: string, kind: Kind, threads: number): Promise<number> {
  await hangar.request('POST', `/api/v1/models/${ref}/load`, { threads, ...(kind === 'gguf' ? { context_size: CONTEXT } : {}) });
  if (kind === 'gguf')
    await hangar.request('POST', '/api/v1/generate', { model: ref, prompt: 'Once upon a time', max_tokens: 8, temperature: 0 });
  else
    await hangar.request('POST', '/api/v1/embeddings', {
      model: ref,
      input: 'the model server loads weights into memory and answers requests from many clients',
    });
  const name = ref.split(':')[0];
  let highest = 0;
  for (let i = 0; i < 4; i++) {
    await sleep(250);
    highest = Math.max(
      highest,
      (await hangar.request<{ memory_usage_mb: number | null }>('GET', `/api/v1/models/status/${name}`)).memory_usage_mb ?? 0,
    );
  }
  return highest;
}

async function embed(hangar: HangarProcess, ref: string, input: string[]): Promise<number[][]> {
  const reply = await hangar.request<{ version: number; embeddings: number[][] }>('POST', '/api/v1/embeddings', { model: ref, input });
  if (String(reply.version) !== ref.split(':')[1]) throw new Error(`${ref} answered from version ${reply.version}`);
  return reply.embeddings;
}

interface Measured {
  label: string;
  rssMiB: number;
  /** tokens/s (GGUF) or sentences/s (ONNX). */
  speed: number;
  estimateMiB: number;
  vectors?: number[][];
  vectorsAgain?: number[][];
}

const QUALITY_SENTENCES = sentences(16, 5);
const SPEED_BATCH = sentences(16, 6);

/** Each version in turn: load, memory after one request, (ONNX) quality vectors, speed; then unload. */
async function measureVersions(
  hangar: HangarProcess,
  kind: Kind,
  model: string,
  versions: Array<{ label: string; version: number }>,
  estimate: Estimate,
  threads: number,
): Promise<Measured[]> {
  const measured: Measured[] = [];
  for (const [i, { label, version }] of versions.entries()) {
    const ref = `${model}:${version}`;
    const rssMiB = await loadAndMeasure(hangar, ref, kind, threads);
    const option = estimate.quantization_options.find((o) => o.type.toLowerCase() === label.toLowerCase());
    const estimateMiB = (i === 0 ? estimate.total_bytes : (option?.total_bytes ?? Number.NaN)) / MIB;
    const m: Measured = { label, rssMiB, speed: 0, estimateMiB };
    const rounds: number[] = [];
    if (kind === 'gguf') {
      for (let r = 0; r < 3; r++) rounds.push(await hangarGeneration(hangar, ref, 32));
    } else {
      m.vectors = await embed(hangar, ref, QUALITY_SENTENCES);
      if (i === 0) m.vectorsAgain = await embed(hangar, ref, QUALITY_SENTENCES);
      for (let r = 0; r < 3; r++) {
        const start = now();
        for (let b = 0; b < 4; b++) await embed(hangar, ref, SPEED_BATCH);
        rounds.push((4 * SPEED_BATCH.length) / ((now() - start) / 1000));
      }
    }
    m.speed = median(rounds);
    await hangar.request('POST', `/api/v1/models/${model}/unload`);
    log(`${ref} (${label}): RSS ${rssMiB.toFixed(0)} MiB, ${m.speed.toFixed(1)} /s`);
    measured.push(m);
  }
  return measured;
}

function memoryRows(kind: Kind, what: string, measured: Measured[]): Result[] {
  const [original, ...quantized] = measured;
  const estimateNote = (m: Measured) =>
    `estimate ${m.estimateMiB.toFixed(0)} MiB (estimate/measured ${(m.estimateMiB / m.rssMiB).toFixed(3)})`;
  return quantized.map((q) => ({
    id: `Q-mem-${q.label}`,
    measure: `runner RSS after one request, ${what} ${q.label} vs ${original.label}${kind === 'gguf' ? `, ctx ${CONTEXT}` : ''} (MiB)`,
    hangar: q.rssMiB,
    anchor: original.rssMiB,
    unit: 'MiB',
    ratio: q.rssMiB / original.rssMiB,
    goal: '< 1',
    pass: q.rssMiB < original.rssMiB,
    note: `${q.label} ${estimateNote(q)}; ${original.label} ${estimateNote(original)}`,
  }));
}

function speedRows(kind: Kind, what: string, measured: Measured[]): Result[] {
  const [original, ...quantized] = measured;
  const how =
    kind === 'gguf'
      ? '32 tokens streamed through /api/v1/generate, temperature 0, median of 3 (tokens/s)'
      : `batches of ${SPEED_BATCH.length} sentences through /api/v1/embeddings, median of 3 rounds of 4 (sentences/s)`;
  return quantized.map((q) => ({
    id: `Q-speed-${q.label}`,
    measure: `${kind === 'gguf' ? 'generation' : 'embeddings'}, ${what} ${q.label} vs ${original.label}, ${how}`,
    hangar: q.speed,
    anchor: original.speed,
    unit: '/s',
    ratio: q.speed / original.speed,
    goal: 'report',
    pass: true,
  }));
}

function embeddingQualityRows(measured: Measured[]): Result[] {
  const [original, ...quantized] = measured;
  const self = meanCosine(original.vectors ?? [], original.vectorsAgain ?? []);
  return quantized.map((q) => {
    const cosine = meanCosine(original.vectors ?? [], q.vectors ?? []);
    return {
      id: `Q-quality-${q.label}`,
      measure: `mean cosine of embeddings vs ${original.label}, ${QUALITY_SENTENCES.length} sentences through /api/v1/embeddings (anchor: ${original.label} again)`,
      hangar: cosine,
      anchor: self,
      unit: 'cos',
      ratio: cosine / self,
      goal: '>= 0.99',
      pass: cosine >= 0.99,
    };
  });
}

/** Argmax agreement and KL of each quantized version's stored file against the F16 fixture, in node-llama-cpp in this process. */
async function generationQualityRows(f16: string, files: Array<{ type: string; file: string }>, threads: number): Promise<Result[]> {
  const vocabulary = TINYLLAMA_SHAPE.vocabSize;
  const reference = await nextTokenDistributions(f16, threads, vocabulary);
  const again = await nextTokenDistributions(f16, threads, vocabulary);
  const self = compareDistributions(reference.distributions, again.distributions);
  const positions = reference.distributions.length;
  log(`F16 vs itself over ${positions} positions: agreement ${self.agreement}, KL ${self.meanKl}`);
  const rows: Result[] = [];
  for (const { type, file } of files) {
    const evaluated = await nextTokenDistributions(file, threads, vocabulary);
    const { agreement, meanKl } = compareDistributions(reference.distributions, evaluated.distributions);
    const full = reference.fullVocabulary && evaluated.fullVocabulary;
    log(`${type}: agreement ${agreement.toFixed(3)}, mean KL ${meanKl.toFixed(4)}`);
    rows.push({
      id: `Q-quality-${type}`,
      measure: `next-token argmax agreement with F16, ${positions} positions of ${QUALITY_PROMPTS.length} prompts, node-llama-cpp (fraction; anchor: F16 again)`,
      hangar: agreement,
      anchor: self.agreement,
      unit: '',
      ratio: agreement / self.agreement,
      goal: type === 'Q8_0' ? '>= 0.95' : 'report',
      pass: type === 'Q8_0' ? agreement >= 0.95 : true,
      note:
        `mean KL(F16 || ${type}) ${meanKl.toFixed(4)} nats (F16 vs itself ${self.meanKl.toFixed(4)}); ` +
        (full ? `full ${vocabulary}-token distributions` : `top-k only: KL over the union, missing probabilities floored at 1e-10`),
    });
  }
  return rows;
}

export async function quantizationBenchmark(threads: number): Promise<Result[]> {
  const fx = await realFixtures({ only: ['minilm', 'tinyllama-f16'] });
  const f16 = fx.tinyllama.F16;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-q-'));
  const hangar = await startHangar(benchHangarEnv(threads), { keepHome: true });
  const throughputRows: Result[] = [];
  const rows: Result[] = [];
  try {
    await hangar.request('POST', '/api/v1/models/import', { name: LLM, path: f16 });
    await hangar.request('POST', '/api/v1/models/import', { name: ENCODER, path: fx.minilmDir });
    log('imported; quantizing');

    const gguf: Quantized[] = [];
    const llmInput = { model: LLM, path: f16, bytes: fs.statSync(f16).size, label: 'TinyLlama shape F16' };
    for (const type of GGUF_TYPES) {
      const { row, last } = await throughput(hangar, 'gguf', type, llmInput, threads, tmp);
      throughputRows.push(row);
      gguf.push(last);
    }
    const onnx: Quantized[] = [];
    const encoderInput = {
      model: ENCODER,
      path: fx.minilmDir,
      bytes: fs.statSync(path.join(fx.minilmDir, ONNX_ENTRY)).size,
      label: 'MiniLM shape fp32',
    };
    for (const type of ONNX_TYPES) {
      const { row, last } = await throughput(hangar, 'onnx', type, encoderInput, threads, tmp);
      throughputRows.push(row);
      onnx.push(last);
    }

    const llmEstimate = await hangar.request<Estimate>('GET', `/api/v1/models/estimate-memory?model=${LLM}:1&context_size=${CONTEXT}`);
    const llm = await measureVersions(
      hangar,
      'gguf',
      LLM,
      [{ label: 'F16', version: 1 }, ...gguf.map((q) => ({ label: q.type, version: q.version }))],
      llmEstimate,
      threads,
    );
    const encoderEstimate = await hangar.request<Estimate>('GET', `/api/v1/models/estimate-memory?model=${ENCODER}:1`);
    const encoder = await measureVersions(
      hangar,
      'onnx',
      ENCODER,
      [{ label: 'fp32', version: 1 }, ...onnx.map((q) => ({ label: q.type, version: q.version }))],
      encoderEstimate,
      threads,
    );
    rows.push(...memoryRows('gguf', 'TinyLlama shape', llm), ...memoryRows('onnx', 'MiniLM shape', encoder));

    // Quality reads the files Hangar stored (its content-addressed blobs), with Hangar idle.
    const files = gguf.map((q) => ({ type: q.type, file: path.join(hangar.home, 'store', 'blobs', 'sha256', q.sha256) }));
    for (const { file } of files) if (!fs.existsSync(file)) throw new Error(`stored blob ${file} not found`);
    rows.push(...(await generationQualityRows(f16, files, threads)), ...embeddingQualityRows(encoder));
    rows.push(...speedRows('gguf', 'TinyLlama shape', llm), ...speedRows('onnx', 'MiniLM shape', encoder));
  } finally {
    await hangar.stop();
    fs.rmSync(hangar.home, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return [...throughputRows, ...rows];
}
