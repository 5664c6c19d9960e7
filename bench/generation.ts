// P2 generation on the TinyLlama shape (Hangar streaming over HTTP vs raw node-llama-cpp, same threads) and P4 status latency under load.
import { getLlama, type Llama, type LlamaModel } from 'node-llama-cpp';
import { interleaved, now, percentile, type Result } from './common.ts';
import type { HangarProcess } from './hangar-process.ts';
import { httpRequest } from './http-client.ts';

const PROMPT = 'Once upon a time';

/** Raw node-llama-cpp in this process: tokens/s of one run of `tokens` tokens (evaluate never stops at EOS). */
async function rawGeneration(model: LlamaModel, tokens: number, threads: number): Promise<number> {
  const context = await model.createContext({ contextSize: 512, threads });
  const sequence = context.getSequence();
  const start = now();
  let count = 0;
  for await (const token of sequence.evaluate(model.tokenize(PROMPT), { temperature: 0 })) {
    void token;
    if (++count >= tokens) break;
  }
  const rate = count / ((now() - start) / 1000);
  await context.dispose();
  return rate;
}

/** Hangar streaming over HTTP: tokens/s seen by the client, from sending the request to the done event. */
export async function hangarGeneration(hangar: HangarProcess, model: string, tokens: number): Promise<number> {
  const start = now();
  const { body } = await httpRequest(hangar.url, 'POST', '/api/v1/generate', {
    model,
    prompt: PROMPT,
    max_tokens: tokens,
    ignore_eos: true,
    temperature: 0,
    stream: true,
  });
  const done = body
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)) as { type: string; usage?: { completion_tokens: number } })
    .find((e) => e.type === 'done');
  if (!done?.usage) throw new Error(`generation failed: ${body.slice(-300)}`);
  return done.usage.completion_tokens / ((now() - start) / 1000);
}

let llamaPromise: Promise<Llama> | undefined;
export const benchLlama = (): Promise<Llama> => (llamaPromise ??= getLlama({ gpu: false }));

/** P2 for one quantization: `model` is that file loaded in `hangar` with `threads`, `file` the same GGUF for the raw side. */
export async function generationBenchmark(
  hangar: HangarProcess,
  model: string,
  file: string,
  quant: string,
  threads: number,
  tokens = 128,
): Promise<Result> {
  const llama = await benchLlama();
  const raw = await llama.loadModel({ modelPath: file });
  try {
    const {
      anchor,
      hangar: ours,
      pairRatio,
    } = await interleaved(
      5,
      () => rawGeneration(raw, tokens, threads),
      () => hangarGeneration(hangar, model, tokens),
    );
    return {
      id: `P2-${quant}`,
      measure: `generation, TinyLlama shape ${quant}, ${tokens} tokens streamed, ${threads} threads (tokens/s)`,
      hangar: ours,
      anchor,
      unit: '/s',
      ratio: pairRatio,
      goal: '>= 0.98',
      pass: pairRatio >= 0.98,
    };
  } finally {
    await raw.dispose();
  }
}

/** P4: p99 of GET /models/status while two generation streams keep both cores busy (anchor: the same with the server idle). */
export async function statusUnderLoad(hangar: HangarProcess, models: [string, string]): Promise<Result> {
  const sample = async (count: number) => {
    const latencies: number[] = [];
    for (let i = 0; i < count; i++) {
      const start = now();
      await hangar.request('GET', '/models/status');
      latencies.push(now() - start);
    }
    return latencies;
  };
  await sample(20);
  const idle = percentile(await sample(300), 99);
  let busy = true;
  const streams = models.map(async (model) => {
    while (busy) await hangarGeneration(hangar, model, 64);
  });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const loaded = percentile(await sample(300), 99);
  busy = false;
  await Promise.all(streams);
  return {
    id: 'P4',
    measure: 'p99 of GET /models/status while two generation streams run (ms; anchor: idle server)',
    hangar: loaded,
    anchor: idle,
    unit: 'ms',
    ratio: loaded / idle,
    goal: '<= 5 ms',
    pass: loaded <= 5,
  };
}
