// P1 embeddings (1 and 32 clients) on the MiniLM shape vs raw transformers.js in-process; metrics on vs off.
import path from 'node:path';
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import { interleaved, now, type Result } from './common.ts';
import { sentences } from './fixtures.ts';
import type { HangarProcess } from './hangar-process.ts';

export async function rawExtractor(dir: string, threads: number): Promise<FeatureExtractionPipeline> {
  env.allowRemoteModels = false;
  env.useFSCache = false;
  env.localModelPath = path.dirname(dir);
  return pipeline('feature-extraction', path.basename(dir), {
    dtype: 'fp32',
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
}

const embed = (hangar: HangarProcess, model: string, input: string | string[]) =>
  hangar.request('POST', '/api/v1/embeddings', { model, input });

async function oneClient(hangar: HangarProcess, model: string, raw: FeatureExtractionPipeline): Promise<Result> {
  const texts = sentences(60, 1);
  const rawRound = async () => {
    const start = now();
    for (const text of texts) await raw(text, { pooling: 'mean', normalize: true });
    return texts.length / ((now() - start) / 1000);
  };
  const hangarRound = async () => {
    const start = now();
    for (const text of texts) await embed(hangar, model, text);
    return texts.length / ((now() - start) / 1000);
  };
  const { anchor, hangar: ours, pairRatio } = await interleaved(5, rawRound, hangarRound);
  return {
    id: 'P1-1',
    measure: 'embeddings, MiniLM shape, 1 client, 8-128 words (sentences/s)',
    hangar: ours,
    anchor,
    unit: '/s',
    ratio: pairRatio,
    goal: '>= 0.95',
    pass: pairRatio >= 0.95,
  };
}

async function concurrent(hangar: HangarProcess, model: string, raw: FeatureExtractionPipeline, clients: number): Promise<Result> {
  const texts = sentences(192, 2);
  // The anchor is the better raw strategy on these texts: batching padded sentences can lose to none on a CPU.
  const rawRound = async () => {
    let start = now();
    for (let i = 0; i < texts.length; i += clients) await raw(texts.slice(i, i + clients), { pooling: 'mean', normalize: true });
    const batched = texts.length / ((now() - start) / 1000);
    start = now();
    for (const text of texts) await raw(text, { pooling: 'mean', normalize: true });
    const oneAtATime = texts.length / ((now() - start) / 1000);
    return Math.max(batched, oneAtATime);
  };
  const hangarRound = async () => {
    let next = 0;
    const start = now();
    await Promise.all(
      Array.from({ length: clients }, async () => {
        while (next < texts.length) await embed(hangar, model, texts[next++]);
      }),
    );
    return texts.length / ((now() - start) / 1000);
  };
  const { anchor, hangar: ours, pairRatio } = await interleaved(3, rawRound, hangarRound);
  return {
    id: `P1-${clients}`,
    measure: `embeddings, MiniLM shape, ${clients} clients vs the faster of raw one at a time and raw batches of ${clients} (sentences/s)`,
    hangar: ours,
    anchor,
    unit: '/s',
    ratio: pairRatio,
    goal: '>= 1.05',
    pass: pairRatio >= 1.05,
  };
}

/** Metrics on vs off, switched live through the config API, same sentences, rounds alternating. */
async function metricsOverhead(hangar: HangarProcess, model: string): Promise<Result> {
  const texts = sentences(40, 4);
  const round = (enabled: boolean) => async () => {
    await hangar.request('PATCH', '/config', { model_metrics_enabled: enabled });
    const start = now();
    for (const text of texts) await embed(hangar, model, text);
    return texts.length / ((now() - start) / 1000);
  };
  const { anchor: off, hangar: on, pairRatio } = await interleaved(5, round(false), round(true));
  await hangar.request('PATCH', '/config', { model_metrics_enabled: true });
  return {
    id: 'M',
    measure: 'embeddings with metrics on vs off (sentences/s)',
    hangar: on,
    anchor: off,
    unit: '/s',
    ratio: pairRatio,
    goal: 'within 2%',
    pass: Math.abs(1 - pairRatio) <= 0.02,
  };
}

/** P1 and the metrics overhead: `model` is the MiniLM-shaped version loaded in `hangar`. */
export async function embeddingBenchmarks(
  hangar: HangarProcess,
  model: string,
  dir: string,
  threads: number,
  wanted: (id: string) => boolean,
): Promise<Result[]> {
  const results: Result[] = [];
  const raw = await rawExtractor(dir, threads);
  try {
    for (const text of sentences(8, 9)) {
      await raw(text, { pooling: 'mean', normalize: true });
      await embed(hangar, model, text);
    }
    if (wanted('P1')) {
      results.push(await oneClient(hangar, model, raw));
      results.push(await concurrent(hangar, model, raw, 32));
    }
    if (wanted('M')) results.push(await metricsOverhead(hangar, model));
  } finally {
    await raw.dispose();
  }
  return results;
}
