// CLI: generates the real-size benchmark fixtures into .cache/bench, printing sizes, times and peak memory; --measure also loads and runs each.
// Usage: tsx scripts/make-bench-fixtures.ts [--only minilm,bge,tinyllama-f16,tinyllama-q8_0,tinyllama-q4_0,tinyllama-q4_k_m] [--measure] [--threads 1,2] [--ctx 512] [--tokens 64]
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { REAL_FIXTURE_NAMES, realFixturePaths, realFixtures, sizeOf, type FixtureEvent, type RealFixtureName } from '../bench/fixtures.ts';

const SELF = fileURLToPath(import.meta.url);
const MiB = 1024 * 1024;
const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

/** Runs this script again in a fresh process (so its memory is measured alone) and parses the JSON line it prints. */
function child<T>(args: string[]): T {
  const run = spawnSync(process.execPath, [...process.execArgv, SELF, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * MiB,
  });
  if (run.status !== 0) throw new Error(`${args.join(' ')} exited with ${run.status ?? run.signal}`);
  const line = run.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as T;
}

/** Child: generate one fixture and report it with this process's peak RSS. */
async function make(name: RealFixtureName): Promise<void> {
  let event: FixtureEvent | undefined;
  await realFixtures({ only: [name], onEvent: (e) => (event = e) });
  console.log(JSON.stringify({ ...event, peakRssBytes: peakRss() }));
}

interface Probe {
  name: string;
  threads?: number;
  loadSeconds: number;
  rssBytes: number;
  peakRssBytes: number;
  [key: string]: number | string | undefined;
}

/** Child: load an ONNX fixture in transformers.js, embed one 128-token sentence, report load time and RSS. */
async function probeOnnx(name: RealFixtureName, dir: string, threads: number): Promise<Probe> {
  const { env, pipeline } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.useFSCache = false;
  env.localModelPath = path.dirname(dir);
  let started = performance.now();
  const extractor = await pipeline('feature-extraction', path.basename(dir), {
    dtype: 'fp32',
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
  const loadSeconds = (performance.now() - started) / 1000;
  // Grow a sentence until it is exactly 128 tokens with [CLS] and [SEP] (words that add two pieces are skipped near the end).
  const words = 'the model server loads weights into memory and answers requests from many clients while measuring latency'.split(' ');
  const parts: string[] = [];
  for (let i = 0, length = 2; length < 128; i++) {
    const next = [...parts, words[i % words.length]];
    const nextLength = extractor.tokenizer.encode(next.join(' ')).length;
    if (nextLength <= 128) {
      parts.push(words[i % words.length]);
      length = nextLength;
    }
    if (i > 10_000) throw new Error('could not build a 128-token sentence');
  }
  const text = parts.join(' ');
  started = performance.now();
  const output = await extractor(text, { pooling: 'mean', normalize: true });
  const firstEmbedSeconds = (performance.now() - started) / 1000;
  started = performance.now();
  await extractor(text, { pooling: 'mean', normalize: true });
  const embedSeconds = (performance.now() - started) / 1000;
  const rssBytes = process.memoryUsage().rss;
  const dims = output.dims.join('x');
  await extractor.dispose();
  return {
    name,
    threads,
    loadSeconds,
    firstEmbedSeconds,
    embedSeconds,
    tokens: extractor.tokenizer.encode(text).length,
    dims,
    rssBytes,
    peakRssBytes: peakRss(),
  };
}

/** Child: load a GGUF fixture in node-llama-cpp (CPU), generate `tokens` tokens greedily, report load time, tokens/s and RSS. */
async function probeGguf(name: RealFixtureName, file: string, threads: number, contextSize: number, tokens: number): Promise<Probe> {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, logLevel: LlamaLogLevel.error });
  let started = performance.now();
  const model = await llama.loadModel({ modelPath: file });
  const loadSeconds = (performance.now() - started) / 1000;
  // Threads must be explicit: node-llama-cpp's default of 4 on a 2-core machine is tens of times slower.
  const context = await model.createContext({ contextSize, threads });
  const text = model.tokenize('The model server loads weights into memory and answers requests');
  const bos = model.tokens.bos;
  const prompt = bos === null ? text : [bos, ...text];
  const times: number[] = [];
  started = performance.now();
  // evaluate() does not stop at end-of-text, so random weights always give `tokens` tokens.
  for await (const _token of context.getSequence().evaluate(prompt, { temperature: 0 })) {
    times.push(performance.now());
    if (times.length >= tokens) break;
  }
  const firstTokenSeconds = (times[0] - started) / 1000;
  const tokensPerSecond = (times.length - 1) / ((times[times.length - 1] - times[0]) / 1000);
  const rssBytes = process.memoryUsage().rss;
  await context.dispose();
  await model.dispose();
  await llama.dispose();
  return {
    name,
    threads,
    contextSize,
    promptTokens: prompt.length,
    loadSeconds,
    firstTokenSeconds,
    tokensPerSecond,
    rssBytes,
    peakRssBytes: peakRss(),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      measure: { type: 'boolean' },
      threads: { type: 'string' },
      ctx: { type: 'string' },
      tokens: { type: 'string' },
      'child-make': { type: 'string' },
      'child-probe': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.error(
      `usage: tsx scripts/make-bench-fixtures.ts [--only ${REAL_FIXTURE_NAMES.join(',')}] [--measure] [--threads 1,2] [--ctx 512] [--tokens 64]`,
    );
    return;
  }
  const threadCounts = (values.threads ?? '1,2').split(',').map(Number);
  const contextSize = Number(values.ctx ?? 512);
  const tokens = Number(values.tokens ?? 64);
  const paths = realFixturePaths().byName;
  const known = (n: string): n is RealFixtureName => REAL_FIXTURE_NAMES.some((k) => k === n);

  if (values['child-make']) {
    const name = values['child-make'];
    if (!known(name)) throw new Error(`unknown fixture ${name}`);
    return make(name);
  }
  if (values['child-probe']) {
    const name = values['child-probe'];
    if (!known(name)) throw new Error(`unknown fixture ${name}`);
    const threads = threadCounts[0];
    const probe = name.startsWith('tinyllama')
      ? await probeGguf(name, paths[name], threads, contextSize, tokens)
      : await probeOnnx(name, paths[name], threads);
    console.log(JSON.stringify(probe));
    return;
  }

  const only = values.only
    ? values.only
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [...REAL_FIXTURE_NAMES];
  const unknown = only.filter((n) => !known(n));
  if (unknown.length > 0) throw new Error(`unknown fixture ${unknown.join(', ')}; known: ${REAL_FIXTURE_NAMES.join(', ')}`);
  for (const name of only.filter(known)) {
    const made = child<FixtureEvent & { peakRssBytes: number }>(['--child-make', name]);
    const how = made.generated ? `written in ${made.seconds.toFixed(1)} s, writer peak RSS ${mib(made.peakRssBytes)}` : 'already there';
    console.log(`${name.padEnd(15)} ${mib(sizeOf(made.path)).padStart(12)}  ${how}  ${made.path}`);
  }
  if (!values.measure) return;
  for (const name of only.filter(known)) {
    for (const threads of threadCounts) {
      const p = child<Probe>([
        '--child-probe',
        name,
        '--threads',
        String(threads),
        '--ctx',
        String(contextSize),
        '--tokens',
        String(tokens),
      ]);
      const speed =
        typeof p.tokensPerSecond === 'number'
          ? `${p.tokensPerSecond.toFixed(2)} tokens/s (first token ${Number(p.firstTokenSeconds).toFixed(2)} s, ctx ${p.contextSize})`
          : `${p.tokens}-token embedding ${Number(p.firstEmbedSeconds).toFixed(3)} s first, ${Number(p.embedSeconds).toFixed(3)} s again (${p.dims})`;
      console.log(
        `${name.padEnd(15)} threads ${threads}: load ${p.loadSeconds.toFixed(2)} s, ${speed}, RSS ${mib(p.rssBytes)} (peak ${mib(p.peakRssBytes)})`,
      );
    }
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
});
