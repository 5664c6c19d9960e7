// Benchmark models, generated once into .cache/bench (git-ignored) and reused: small ones, and real-size ones shaped like MiniLM, BGE-base and TinyLlama.
import fs from 'node:fs';
import path from 'node:path';
import { writeTinyBertModel, type TinyBertOptions } from '../scripts/lib/bert-onnx-writer.ts';
import { writeTinyLlamaGguf, type TinyLlamaOptions } from '../scripts/lib/llama-gguf-writer.ts';

export const CACHE_DIR = path.resolve(new URL('..', import.meta.url).pathname, '.cache', 'bench');

export interface BenchFixtures {
  /** MiniLM-like encoder: hidden 384, 6 layers, 12 heads, intermediate 1536, 512 positions (small synthetic vocab). */
  bertDir: string;
  /** A ~27M-parameter llama in Q8_0 (hidden 512, 8 blocks). */
  llamaFile: string;
}

export async function benchFixtures(): Promise<BenchFixtures> {
  const bertDir = path.join(CACHE_DIR, 'bert-384x6');
  const llamaFile = path.join(CACHE_DIR, 'llama-512x8-q8_0.gguf');
  await ensureDir(bertDir, (tmp) =>
    writeTinyBertModel(tmp, { hiddenSize: 384, numLayers: 6, numHeads: 12, intermediateSize: 1536, maxPositions: 512, seed: 7 }),
  );
  await ensureFile(llamaFile, (tmp) =>
    writeTinyLlamaGguf(tmp, {
      type: 'Q8_0',
      embeddingLength: 512,
      blockCount: 8,
      headCount: 8,
      headCountKv: 4,
      feedForwardLength: 1408,
      contextLength: 2048,
      seed: 7,
      name: 'bench-llama',
    }),
  );
  return { bertDir, llamaFile };
}

/** sentence-transformers/all-MiniLM-L6-v2's exact shape (22.7 M parameters, ~91 MB fp32). */
export const MINILM_SHAPE = {
  vocabSize: 30522,
  hiddenSize: 384,
  numLayers: 6,
  numHeads: 12,
  intermediateSize: 1536,
  maxPositions: 512,
  seed: 11,
} as const satisfies TinyBertOptions;
/** BAAI/bge-base-en-v1.5's exact shape (108.9 M parameters without the pooler, ~436 MB fp32). */
export const BGE_BASE_SHAPE = {
  vocabSize: 30522,
  hiddenSize: 768,
  numLayers: 12,
  numHeads: 12,
  intermediateSize: 3072,
  maxPositions: 512,
  seed: 12,
} as const satisfies TinyBertOptions;
/** TinyLlama-1.1B's exact shape (1.10 B parameters); the weight type is chosen per file. */
export const TINYLLAMA_SHAPE = {
  vocabSize: 32000,
  embeddingLength: 2048,
  blockCount: 22,
  headCount: 32,
  headCountKv: 4,
  feedForwardLength: 5632,
  contextLength: 2048,
  seed: 13,
  name: 'hangar-tinyllama-1.1b-shape',
} as const satisfies TinyLlamaOptions;

export const TINYLLAMA_TYPES = ['F16', 'Q8_0', 'Q4_0', 'Q4_K_M'] as const;
export type TinyLlamaType = (typeof TINYLLAMA_TYPES)[number];

/** Names accepted by `realFixtures({ only })` and `make-bench-fixtures --only`. */
export const REAL_FIXTURE_NAMES = ['minilm', 'bge', ...TINYLLAMA_TYPES.map((t) => `tinyllama-${t.toLowerCase()}` as const)] as const;
export type RealFixtureName = (typeof REAL_FIXTURE_NAMES)[number];

export interface RealFixtures {
  /** Hugging Face folder (config, tokenizer with 30522 word pieces, onnx/model.onnx) shaped like all-MiniLM-L6-v2. */
  minilmDir: string;
  /** The same layout shaped like bge-base-en-v1.5. */
  bgeBaseDir: string;
  /** TinyLlama-1.1B-shaped GGUF files, one per weight type. */
  tinyllama: Record<TinyLlamaType, string>;
}

/** What one fixture took to make (generated: false when it was already there). */
export interface FixtureEvent {
  name: RealFixtureName;
  path: string;
  bytes: number;
  generated: boolean;
  seconds: number;
}

// Bump when a generator's output changes, so stale caches are not reused.
const VERSION = 'v1';

/** Where each real-size fixture lives; nothing is generated. */
export function realFixturePaths(): RealFixtures & { byName: Record<RealFixtureName, string> } {
  const minilmDir = path.join(CACHE_DIR, `minilm-l6-shape-${VERSION}`);
  const bgeBaseDir = path.join(CACHE_DIR, `bge-base-shape-${VERSION}`);
  const tinyllama = Object.fromEntries(
    TINYLLAMA_TYPES.map((t) => [t, path.join(CACHE_DIR, `tinyllama-1.1b-shape-${VERSION}-${t}.gguf`)]),
  ) as Record<TinyLlamaType, string>;
  const byName = Object.fromEntries([
    ['minilm', minilmDir],
    ['bge', bgeBaseDir],
    ...TINYLLAMA_TYPES.map((t) => [`tinyllama-${t.toLowerCase()}`, tinyllama[t]]),
  ]) as Record<RealFixtureName, string>;
  return { minilmDir, bgeBaseDir, tinyllama, byName };
}

/** Writes one real-size fixture straight to `target` (a folder for ONNX, a file for GGUF). */
export async function writeRealFixture(name: RealFixtureName, target: string): Promise<void> {
  if (name === 'minilm') await writeTinyBertModel(target, MINILM_SHAPE);
  else if (name === 'bge') await writeTinyBertModel(target, BGE_BASE_SHAPE);
  else {
    const type = TINYLLAMA_TYPES.find((t) => name === `tinyllama-${t.toLowerCase()}`);
    if (!type) throw new Error(`unknown fixture ${name}`);
    await writeTinyLlamaGguf(target, { ...TINYLLAMA_SHAPE, type });
  }
}

/**
 * Returns the real-size fixtures' paths, generating the missing ones (all, or those named in `only`;
 * the others' paths are returned whether or not they exist). Each is written under a temporary name
 * and renamed into place, so an interrupted run never leaves a half-written fixture that looks finished.
 */
export async function realFixtures(options: { only?: string[]; onEvent?: (event: FixtureEvent) => void } = {}): Promise<RealFixtures> {
  const unknown = (options.only ?? []).filter((n) => !REAL_FIXTURE_NAMES.some((k) => k === n));
  if (unknown.length > 0) throw new Error(`unknown fixture ${unknown.join(', ')}; known: ${REAL_FIXTURE_NAMES.join(', ')}`);
  const paths = realFixturePaths();
  for (const name of REAL_FIXTURE_NAMES) {
    if (options.only && !options.only.includes(name)) continue;
    const target = paths.byName[name];
    const started = performance.now();
    const generated =
      name === 'minilm' || name === 'bge'
        ? await ensureDir(target, (tmp) => writeRealFixture(name, tmp))
        : await ensureFile(target, (tmp) => writeRealFixture(name, tmp));
    options.onEvent?.({ name, path: target, bytes: sizeOf(target), generated, seconds: (performance.now() - started) / 1000 });
  }
  const { byName: _byName, ...result } = paths;
  return result;
}

/** Total bytes of a file, or of the files under a folder. */
export function sizeOf(target: string): number {
  const stat = fs.statSync(target);
  if (!stat.isDirectory()) return stat.size;
  return fs.readdirSync(target).reduce((sum, entry) => sum + sizeOf(path.join(target, entry)), 0);
}

const partialName = (target: string): string => `${target}.partial-${process.pid}`;

/** Removes `<target>.partial-<pid>` leftovers whose writer process is gone. */
function removeStalePartials(target: string): void {
  const dir = path.dirname(target);
  const prefix = `${path.basename(target)}.partial-`;
  if (!fs.existsSync(dir)) return;
  for (const entry of fs.readdirSync(dir)) {
    if (!entry.startsWith(prefix)) continue;
    const pid = Number(entry.slice(prefix.length));
    if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) continue; // another process is writing it now
    fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Makes `target` (a file) with `write` unless it exists; returns whether it was generated. */
async function ensureFile(target: string, write: (tmp: string) => Promise<unknown>): Promise<boolean> {
  if (fs.existsSync(target)) return false;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  removeStalePartials(target);
  const tmp = partialName(target);
  try {
    await write(tmp);
    fs.renameSync(tmp, target);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
  return true;
}

/** Makes `target` (a folder) with `write` unless it exists; returns whether it was generated. */
async function ensureDir(target: string, write: (tmp: string) => Promise<unknown>): Promise<boolean> {
  if (fs.existsSync(target)) return false;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  removeStalePartials(target);
  const tmp = partialName(target);
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    await write(tmp);
    try {
      fs.renameSync(tmp, target);
    } catch (err) {
      // Another process finished the same fixture first: keep theirs.
      if (!fs.existsSync(target)) throw err;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return true;
}

const WORDS =
  'the model server loads weights into memory and answers requests from many clients while measuring latency throughput and tokens per second on every device it can find'.split(
    ' ',
  );

/** Deterministic sentences of 8 to 128 words. */
export function sentences(count: number, seed = 1): string[] {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  return Array.from({ length: count }, () => {
    const length = 8 + Math.floor(next() * 121);
    return Array.from({ length }, () => WORDS[Math.floor(next() * WORDS.length)]).join(' ');
  });
}
