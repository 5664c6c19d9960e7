// Starts the real Hangar server on an ephemeral port with a temp HANGAR_HOME, and a small HTTP client for it.
import pino from 'pino';
import type { TestContext } from 'node:test';
import { loadConfig } from '../../src/config/load-config.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { removeDir } from './temp.ts';

export interface TestServerOptions {
  env?: Record<string, string>;
  databaseUrl?: string;
  demoModels?: boolean;
  /** Keep API_RATE_LIMIT at its default (100/min) instead of the test servers' very high limit. */
  defaultRateLimit?: boolean;
}

export interface TestServer extends RunningServer {
  home: string;
  request: <T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ) => Promise<HttpResult<T>>;
}

export interface HttpResult<T> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function startTestServer(t: Pick<TestContext, 'after'>, options: TestServerOptions = {}): Promise<TestServer> {
  // The home goes after the server has stopped (after-hooks run in the order they were added).
  const home = await fsp.mkdtemp(path.join(os.tmpdir(), 'hangar-home-'));
  const env: Record<string, string> = {
    HANGAR_HOME: home,
    MODEL_MANAGEMENT_PORT: '0',
    HANGAR_HOST: '127.0.0.1',
    HANGAR_DEMO_MODELS: String(options.demoModels ?? false),
    DATABASE_URL: options.databaseUrl ?? '',
    // Spare runners cost a process each; tests that measure them turn them on.
    HANGAR_RUNTIME_WARM_SPARES: 'false',
    // Tests import fixtures from temp folders with tenant keys too; tenant-import-roots.test.ts checks the default.
    HANGAR_TENANT_IMPORT_ROOTS: os.tmpdir(),
    // Load tests send thousands of requests a minute; rate-limit tests keep the default.
    ...(options.defaultRateLimit ? {} : { API_RATE_LIMIT: '1000000' }),
    ...options.env,
  };
  const loaded = loadConfig({ env, cwd: home });
  const server = await startServer({ loaded, logger: pino({ level: 'silent' }) }).catch(async (error: unknown) => {
    await removeDir(home);
    throw error;
  });
  t.after(async () => {
    await server.close();
    await removeDir(home);
  });
  await server.ready;
  const request = async <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<HttpResult<T>> => {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    // An event stream never ends: answer with its status and headers only.
    if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
      await response.body?.cancel();
      return { status: response.status, headers: response.headers, body: undefined as T, text: '' };
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  };
  return { ...server, home, request };
}
