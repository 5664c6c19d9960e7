// Benchmarks: Hangar over HTTP vs the raw runtime in-process, measured in the same run; prints ratios against goals.
// Usage: npm run bench [-- --only E1,G1] [--json FILE]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import { getLlama, type LlamaModel } from 'node-llama-cpp';
import { benchFixtures, sentences, type BenchFixtures } from './fixtures.ts';
import { startHangar, type HangarProcess } from './hangar-process.ts';

interface Result {
  id: string;
  measure: string;
  hangar: number;
  anchor: number;
  unit: string;
  ratio: number;
  goal: string;
  pass: boolean;
}

const THREADS = 1;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const now = () => performance.now();

async function rawExtractor(dir: string): Promise<FeatureExtractionPipeline> {
  env.allowRemoteModels = false;
  env.useFSCache = false;
  env.localModelPath = path.dirname(dir);
  return pipeline('feature-extraction', path.basename(dir), { dtype: 'fp32', session_options: { intraOpNumThreads: THREADS, interOpNumThreads: 1 } });
}

async function embeddingOneClient(hangar: HangarProcess, raw: FeatureExtractionPipeline, texts: string[]): Promise<Result> {
  for (const text of texts.slice(0, 10)) {
    await raw(text, { pooling: 'mean', normalize: true });
    await hangar.request('POST', '/api/v1/embeddings', { model: 'bench-embed', input: text });
  }
  let start = now();
  for (const text of texts) await raw(text, { pooling: 'mean', normalize: true });
  const rawRate = texts.length / ((now() - start) / 1000);
  start = now();
  for (const text of texts) await hangar.request('POST', '/api/v1/embeddings', { model: 'bench-embed', input: text });
  const hangarRate = texts.length / ((now() - start) / 1000);
  return { id: 'E1', measure: 'embeddings, 1 client (sentences/s)', hangar: hangarRate, anchor: rawRate, unit: '/s', ratio: hangarRate / rawRate, goal: '>= 0.90', pass: hangarRate / rawRate >= 0.9 };
}

async function embeddingConcurrent(hangar: HangarProcess, raw: FeatureExtractionPipeline, texts: string[], clients: number): Promise<Result> {
  let start = now();
  for (let i = 0; i < texts.length; i += clients) await raw(texts.slice(i, i + clients), { pooling: 'mean', normalize: true });
  const rawRate = texts.length / ((now() - start) / 1000);
  let next = 0;
  start = now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < texts.length) {
        const text = texts[next++];
        await hangar.request('POST', '/api/v1/embeddings', { model: 'bench-embed', input: text });
      }
    }),
  );
  const hangarRate = texts.length / ((now() - start) / 1000);
  return { id: 'E32', measure: `embeddings, ${clients} clients vs raw batches of ${clients} (sentences/s)`, hangar: hangarRate, anchor: rawRate, unit: '/s', ratio: hangarRate / rawRate, goal: '>= 0.90', pass: hangarRate / rawRate >= 0.9 };
}

/** Raw node-llama-cpp in this process, same threads, same prompt, EOS ignored: tokens/s of one run. */
async function rawGeneration(model: LlamaModel, tokens: number): Promise<number> {
  const context = await model.createContext({ contextSize: 512, threads: THREADS });
  const sequence = context.getSequence();
  const start = now();
  let count = 0;
  for await (const token of sequence.evaluate(model.tokenize('Once upon a time'), { temperature: 0 })) {
    void token;
    if (++count >= tokens) break;
  }
  const rate = count / ((now() - start) / 1000);
  await context.dispose();
  return rate;
}

/** Hangar streaming over HTTP: tokens/s seen by the client, from sending the request to the done event. */
async function hangarGeneration(hangar: HangarProcess, tokens: number): Promise<number> {
  const start = now();
  const response = await fetch(`${hangar.url}/api/v1/generate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'bench-llama', prompt: 'Once upon a time', max_tokens: tokens, ignore_eos: true, temperature: 0, stream: true }),
  });
  const body = await response.text();
  const done = body.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as { type: string; usage?: { completion_tokens: number } }).find((e) => e.type === 'done');
  if (!done?.usage) throw new Error(`generation failed: ${body.slice(-300)}`);
  return done.usage.completion_tokens / ((now() - start) / 1000);
}

/**
 * Alternates raw and Hangar rounds (after one warm-up each). This machine's speed drifts between
 * seconds, so each Hangar round is compared with the raw round next to it: the ratio is the median
 * of those pairs; the medians of each side are reported alongside.
 */
async function interleaved(rounds: number, raw: () => Promise<number>, hangar: () => Promise<number>): Promise<{ raw: number; hangar: number; pairRatio: number }> {
  await raw();
  await hangar();
  const r: number[] = [];
  const h: number[] = [];
  for (let i = 0; i < rounds; i++) {
    r.push(await raw());
    h.push(await hangar());
  }
  return { raw: median(r), hangar: median(h), pairRatio: median(h.map((value, i) => value / r[i])) };
}

async function loadToReady(hangar: HangarProcess, model: string, rawLoadMs: () => Promise<number>, id: string, label: string): Promise<Result> {
  const hangarLoad = async () => {
    await hangar.request('POST', `/api/v1/models/${model}/unload`);
    await new Promise((r) => setTimeout(r, 2500)); // let the replacement spare finish starting
    const start = now();
    await hangar.request('POST', `/api/v1/models/${model}/load`, { threads: THREADS });
    return now() - start;
  };
  const { raw: r, hangar: h, pairRatio } = await interleaved(5, rawLoadMs, hangarLoad);
  return { id, measure: `load-to-ready, ${label} (ms)`, hangar: h, anchor: r, unit: 'ms', ratio: pairRatio, goal: '<= raw + 30 ms', pass: h <= r + 30 };
}

function printTable(results: Result[]): void {
  const rows = results.map((r) => [r.id, r.measure, r.hangar.toFixed(1), r.anchor.toFixed(1), r.ratio.toFixed(3), r.goal, r.pass ? 'yes' : 'NO']);
  const headers = ['id', 'measure', 'hangar', 'raw', 'ratio', 'goal', 'pass'];
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  for (const row of [headers, ...rows]) process.stdout.write(`${row.map((c, i) => c.padEnd(widths[i])).join('  ')}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, json: { type: 'string' } } });
  const only = values.only ? new Set(values.only.split(',')) : undefined;
  const wanted = (id: string) => !only || only.has(id);
  const fixtures: BenchFixtures = await benchFixtures();
  const hangar = await startHangar({ HANGAR_RUNTIME_THREADS: String(THREADS), HANGAR_NVIDIA_SMI: '/nonexistent', API_RATE_LIMIT: '1000000' });
  const results: Result[] = [];
  try {
    await hangar.request('POST', '/api/v1/models/import', { name: 'bench-embed', path: fixtures.bertDir });
    await hangar.request('POST', '/api/v1/models/import', { name: 'bench-llama', path: fixtures.llamaFile });
    await hangar.request('POST', '/api/v1/models/bench-embed/load', { threads: THREADS, keep_alive: -1 });
    await hangar.request('POST', '/api/v1/models/bench-llama/load', { threads: THREADS, keep_alive: -1, context_size: 512 });
    const raw = await rawExtractor(fixtures.bertDir);
    if (wanted('E1')) results.push(await embeddingOneClient(hangar, raw, sentences(150, 1)));
    if (wanted('E32')) results.push(await embeddingConcurrent(hangar, raw, sentences(320, 2), 32));
    if (wanted('M1')) {
      // Metrics on vs off (switched live through the config API), same sentences, rounds alternating.
      const texts = sentences(40, 4);
      const round = (enabled: boolean) => async () => {
        await hangar.request('PATCH', '/config', { model_metrics_enabled: enabled });
        const start = now();
        for (const text of texts) await hangar.request('POST', '/api/v1/embeddings', { model: 'bench-embed', input: text });
        return texts.length / ((now() - start) / 1000);
      };
      const { raw: off, hangar: on, pairRatio } = await interleaved(5, round(false), round(true));
      results.push({ id: 'M1', measure: 'embeddings with metrics on vs off (sentences/s)', hangar: on, anchor: off, unit: '/s', ratio: pairRatio, goal: '>= 0.98', pass: pairRatio >= 0.98 });
      await hangar.request('PATCH', '/config', { model_metrics_enabled: true });
    }
    const llama = await getLlama({ gpu: false });
    if (wanted('G1')) {
      const model = await llama.loadModel({ modelPath: fixtures.llamaFile });
      const { raw: rawRate, hangar: hangarRate, pairRatio } = await interleaved(9, () => rawGeneration(model, 128), () => hangarGeneration(hangar, 128));
      await model.dispose();
      results.push({ id: 'G1', measure: 'generation, 128 tokens streamed (tokens/s)', hangar: hangarRate, anchor: rawRate, unit: '/s', ratio: pairRatio, goal: '>= 0.97', pass: pairRatio >= 0.97 });
    }
    if (wanted('L1')) {
      results.push(await loadToReady(hangar, 'bench-embed', async () => {
        const start = now();
        const extractor = await rawExtractor(fixtures.bertDir);
        const ms = now() - start;
        await extractor.dispose();
        return ms;
      }, 'L1', 'onnx embedding model'));
    }
    if (wanted('L2')) {
      results.push(await loadToReady(hangar, 'bench-llama', async () => {
        const start = now();
        const model = await llama.loadModel({ modelPath: fixtures.llamaFile });
        const context = await model.createContext({ contextSize: 2048, threads: THREADS });
        const ms = now() - start;
        await context.dispose();
        await model.dispose();
        return ms;
      }, 'L2', 'llama.cpp model'));
    }
    await raw.dispose();
  } finally {
    await hangar.stop();
  }
  printTable(results);
  if (values.json) {
    const machine = { cpu: os.cpus()[0]?.model, cores: os.availableParallelism(), ram_gb: Math.round(os.totalmem() / 2 ** 30), node: process.version, threads_per_runner: THREADS };
    fs.writeFileSync(values.json, `${JSON.stringify({ machine, results }, null, 2)}\n`);
  }
}

await main();
