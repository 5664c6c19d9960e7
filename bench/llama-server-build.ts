// Builds llama.cpp's own `llama-server` (the peer of P2-peer, P2-par and P12) from the exact source node-llama-cpp ships, once, into the bench cache.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CACHE_DIR } from './fixtures.ts';

const LLAMA_DIR = path.resolve(fileURLToPath(new URL('../node_modules/node-llama-cpp/llama', import.meta.url)));

/** The llama.cpp release node-llama-cpp was built from (the tag in its llama.cpp.info.json). */
export function bundledLlamaTag(): string {
  const info = JSON.parse(fs.readFileSync(path.join(LLAMA_DIR, 'llama.cpp.info.json'), 'utf8')) as { tag: string };
  return info.tag;
}

/** Where the built binary lives for the bundled tag (one build per tag). */
export function cachedLlamaServerPath(): string {
  return path.join(CACHE_DIR, `llama-server-${bundledLlamaTag()}`, 'build', 'bin', 'llama-server');
}

/** HANGAR_BENCH_LLAMA_SERVER, else the cached build; null when neither exists (the peer rows then say so). */
export function findLlamaServer(): string | null {
  const named = process.env.HANGAR_BENCH_LLAMA_SERVER;
  if (named) return fs.existsSync(named) ? named : null;
  const cached = cachedLlamaServerPath();
  return fs.existsSync(cached) ? cached : null;
}

/** Clones the git bundle and builds llama-server (CPU only, native, Release) with every core. */
export function buildLlamaServer(): string {
  const existing = findLlamaServer();
  if (existing) return existing;
  const tag = bundledLlamaTag();
  const root = path.join(CACHE_DIR, `llama-server-${tag}`);
  const source = path.join(root, 'src');
  fs.rmSync(root, { recursive: true, force: true });
  fs.mkdirSync(root, { recursive: true });
  const run = (command: string, args: string[], cwd?: string) => execFileSync(command, args, { cwd, stdio: 'inherit' });
  // The bundle holds one commit, the release itself (its tag is node-llama-cpp's name for it, not a ref in the bundle).
  run('git', ['-c', 'advice.detachedHead=false', 'clone', '--quiet', path.join(LLAMA_DIR, 'gitRelease.bundle'), source]);
  const build = path.join(root, 'build');
  run('cmake', [
    '-S',
    source,
    '-B',
    build,
    '-DCMAKE_BUILD_TYPE=Release',
    '-DLLAMA_CURL=OFF',
    '-DGGML_NATIVE=ON',
    '-DLLAMA_BUILD_TESTS=OFF',
    '-DLLAMA_BUILD_EXAMPLES=OFF',
    '-DLLAMA_BUILD_SERVER=ON',
  ]);
  run('cmake', ['--build', build, '--config', 'Release', '--target', 'llama-server', '-j', String(os.availableParallelism())]);
  const binary = cachedLlamaServerPath();
  if (!fs.existsSync(binary)) throw new Error(`the build finished without ${binary}`);
  return binary;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const binary = buildLlamaServer();
  process.stdout.write(`llama-server (${bundledLlamaTag()}): ${binary} (${Math.round((Date.now() - started) / 1000)} s)\n`);
}
