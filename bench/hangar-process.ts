// Runs a real Hangar server as a child process for benchmarks, on a free port with a temp home.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { httpRequest } from './http-client.ts';

export interface HangarProcess {
  url: string;
  pid: number;
  home: string;
  /** Milliseconds from spawning the server to /health/ready answering 200. */
  startToReadyMs: number;
  request: <T>(method: string, urlPath: string, body?: unknown) => Promise<T>;
  stop: () => Promise<void>;
}

/** The server settings every benchmark runs Hangar with: runner threads, no GPU probe, no rate limit, models stay loaded. */
export function benchHangarEnv(threads: number): Record<string, string> {
  return {
    HANGAR_RUNTIME_THREADS: String(threads),
    HANGAR_NVIDIA_SMI: '/nonexistent',
    API_RATE_LIMIT: '1000000',
    HANGAR_RUNTIME_KEEP_ALIVE: '-1',
  };
}

/** A free loopback port (the benchmarks' servers and peers each take one). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Polls `healthUrl` every 10 ms until it answers 2xx; throws `failure` when the process exits or `attempts` run out. */
export async function waitUntilReady(healthUrl: string, child: ChildProcess, failure: string, attempts: number): Promise<void> {
  for (let i = 0; ; i++) {
    const ready = await fetch(healthUrl).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return;
    if (i > attempts || child.exitCode !== null) throw new Error(child.exitCode === null ? failure : `${failure} (exit ${child.exitCode})`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function startHangar(
  env: Record<string, string>,
  options: { home?: string; keepHome?: boolean } = {},
): Promise<HangarProcess> {
  const home = options.home ?? fs.mkdtempSync(path.join(os.tmpdir(), 'hangar-bench-'));
  const started = performance.now();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const root = path.resolve(new URL('..', import.meta.url).pathname);
  const child: ChildProcess = spawn(process.execPath, ['bin/hangar.js', 'serve'], {
    cwd: root,
    env: { ...process.env, HANGAR_HOME: home, MODEL_MANAGEMENT_PORT: String(port), HANGAR_DEMO_MODELS: 'false', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const request = async <T>(method: string, urlPath: string, body?: unknown): Promise<T> => {
    const reply = await httpRequest(url, method, urlPath, body);
    if (reply.status < 200 || reply.status >= 300) throw new Error(`${method} ${urlPath}: HTTP ${reply.status} ${reply.body}`);
    return JSON.parse(reply.body) as T;
  };
  await waitUntilReady(`${url}/health/ready`, child, 'Hangar did not start', 2000);
  const startToReadyMs = performance.now() - started;
  const stop = async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    if (!options.keepHome) fs.rmSync(home, { recursive: true, force: true });
  };
  return { url, pid: child.pid as number, home, startToReadyMs, request, stop };
}
