// P2-peer, P2-par and P12: Hangar against llama.cpp's own llama-server on the same GGUF, threads and context per sequence, rounds alternating.
import { spawn } from 'node:child_process';
import { interleaved, median, now, type Result } from './common.ts';
import { freePort, waitUntilReady, type HangarProcess } from './hangar-process.ts';
import { httpEvents } from './http-client.ts';
import { bundledLlamaTag, findLlamaServer } from './llama-server-build.ts';

const PROMPT = 'Once upon a time';
/**
 * The fixtures' byte tokens (<0x00>..<0xFF>, ids 3-258). Random weights emit lone continuation bytes, which this
 * llama-server's output parser refuses ("does not match the expected Content-only format"); a real model's bytes form
 * characters. Banning them changes which token wins a step, not what a step costs.
 */
const BYTE_TOKENS_BANNED = Array.from({ length: 256 }, (_, byte) => [3 + byte, false]);

interface PeerServer {
  url: string;
  stop: () => Promise<void>;
}

/** Starts llama-server on a free loopback port; resolves once /health answers 200. */
async function startLlamaServer(
  binary: string,
  file: string,
  options: { threads: number; contextPerSequence: number; parallel: number },
): Promise<PeerServer> {
  const port = await freePort();
  const args = ['-m', file, '--host', '127.0.0.1', '--port', String(port), '--no-webui'];
  args.push('-t', String(options.threads), '-tb', String(options.threads));
  // llama-server splits -c between its slots; node-llama-cpp gives each sequence its own context_size.
  args.push('-c', String(options.contextPerSequence * options.parallel), '-np', String(options.parallel));
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const url = `http://127.0.0.1:${port}`;
  await waitUntilReady(`${url}/health`, child, 'llama-server did not become ready in 30 s', 3000);
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** One streamed llama-server completion: tokens generated and ms to the first one. */
async function peerStream(peer: PeerServer, tokens: number): Promise<{ tokens: number; firstTokenMs: number; ms: number }> {
  const start = now();
  let firstTokenMs = 0;
  let generated = 0;
  const request = {
    prompt: PROMPT,
    n_predict: tokens,
    ignore_eos: true,
    temperature: 0,
    stream: true,
    cache_prompt: false,
    logit_bias: BYTE_TOKENS_BANNED,
  };
  await httpEvents(peer.url, '/completion', request, (data) => {
    const event = JSON.parse(data) as { stop?: boolean; tokens_predicted?: number; error?: { message: string } };
    if (event.error) throw new Error(`llama-server: ${event.error.message}`);
    if (firstTokenMs === 0) firstTokenMs = now() - start;
    if (event.tokens_predicted !== undefined) generated = event.tokens_predicted;
  });
  return { tokens: generated, firstTokenMs, ms: now() - start };
}

/** One streamed generation through Hangar's OpenAI-compatible /v1/completions (usage in the last chunk). */
async function hangarStream(
  hangar: HangarProcess,
  model: string,
  tokens: number,
): Promise<{ tokens: number; firstTokenMs: number; ms: number }> {
  const start = now();
  let firstTokenMs = 0;
  let generated = 0;
  const request = { model, prompt: PROMPT, max_tokens: tokens, temperature: 0, stream: true, stream_options: { include_usage: true } };
  await httpEvents(hangar.url, '/v1/completions', request, (data) => {
    const chunk = JSON.parse(data) as { usage?: { completion_tokens: number } | null; error?: { message: string } };
    if (chunk.error) throw new Error(`Hangar: ${chunk.error.message}`);
    if (firstTokenMs === 0) firstTokenMs = now() - start;
    if (chunk.usage) generated = chunk.usage.completion_tokens;
  });
  return { tokens: generated, firstTokenMs, ms: now() - start };
}

/** Aggregate tokens/s of `streams` concurrent generations. */
async function aggregateRate(streams: number, one: () => Promise<{ tokens: number }>): Promise<number> {
  const start = now();
  const results = await Promise.all(Array.from({ length: streams }, one));
  return results.reduce((sum, r) => sum + r.tokens, 0) / ((now() - start) / 1000);
}

/** Rows that say there is no peer to compare with (never a silent pass). */
function missingPeerRows(why: string): Result[] {
  return ['P2-peer', 'P2-par', 'P12'].map((id) => ({
    id,
    measure: 'vs llama-server',
    hangar: Number.NaN,
    anchor: Number.NaN,
    unit: '',
    ratio: Number.NaN,
    goal: 'needs llama-server',
    pass: false,
    note: why,
  }));
}

export interface PeerSetup {
  hangar: HangarProcess;
  /** A GGUF model imported into `hangar` (not loaded) and its file. */
  model: string;
  file: string;
  threads: number;
  contextSize: number;
  tokens?: number;
}

export async function llamaServerBenchmarks(setup: PeerSetup): Promise<Result[]> {
  const binary = findLlamaServer();
  if (!binary) {
    return missingPeerRows(
      `no llama-server: run \`npm run bench:llama-server\` (builds llama.cpp ${bundledLlamaTag()} into .cache/bench) or set HANGAR_BENCH_LLAMA_SERVER`,
    );
  }
  const { hangar, model, file, threads, contextSize } = setup;
  const tokens = setup.tokens ?? 128;
  const results: Result[] = [];
  const load = (parallel: number) =>
    hangar.request('POST', `/api/v1/models/${model}/load`, { threads, context_size: contextSize, parallel });
  const unload = () => hangar.request('POST', `/api/v1/models/${model}/unload`);

  // P2-peer (one stream at a time) and P2-par (four at once: Hangar parallel 4 vs llama-server -np 4).
  const streamed = [
    {
      id: 'P2-peer',
      streams: 1,
      rounds: 5,
      measure: `generation through /v1/completions vs llama-server /completion, same Q4_0 GGUF, ${tokens} tokens streamed, ${threads} threads (tokens/s)`,
    },
    {
      id: 'P2-par',
      streams: 4,
      rounds: 3,
      measure: `4 concurrent streams, aggregate, Hangar parallel 4 vs llama-server -np 4, ${tokens} tokens each (tokens/s)`,
    },
  ];
  for (const { id, streams, rounds, measure } of streamed) {
    const peer = await startLlamaServer(binary, file, { threads, contextPerSequence: contextSize, parallel: streams });
    await load(streams);
    try {
      const rate = await interleaved(
        rounds,
        () => aggregateRate(streams, () => peerStream(peer, tokens)),
        () => aggregateRate(streams, () => hangarStream(hangar, model, tokens)),
      );
      const { hangar: ours, anchor, pairRatio } = rate;
      results.push({ id, measure, hangar: ours, anchor, unit: '/s', ratio: pairRatio, goal: '>= 1.00', pass: pairRatio >= 1 });
    } finally {
      await peer.stop();
      await unload();
    }
  }

  // P12: a cold request. Hangar: the model is not loaded and the request loads it (JIT); peer: process start + first token.
  const peerCold: number[] = [];
  const hangarCold: number[] = [];
  for (let round = 0; round < 3; round++) {
    const started = now();
    const cold = await startLlamaServer(binary, file, { threads, contextPerSequence: contextSize, parallel: 1 });
    try {
      const r = await peerStream(cold, 1);
      peerCold.push(now() - started - r.ms + r.firstTokenMs);
    } finally {
      await cold.stop();
    }
    const r = await hangarStream(hangar, model, 1);
    hangarCold.push(r.firstTokenMs);
    await unload();
    // The replacement warm spare finishes starting, as it would on an idle server.
    await new Promise((resolve) => setTimeout(resolve, 2500));
  }
  const hangarMs = median(hangarCold);
  const peerMs = median(peerCold);
  results.push({
    id: 'P12',
    measure: 'cold request: first token of a generation on a model not loaded (Hangar loads it) vs llama-server start + first token (ms)',
    hangar: hangarMs,
    anchor: peerMs,
    unit: 'ms',
    ratio: hangarMs / peerMs,
    goal: '<= 1.0x',
    pass: hangarMs <= peerMs,
  });
  return results;
}
