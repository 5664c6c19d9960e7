// CLI commands for the runtime: ps, load, unload, embed, run (streams tokens).
import { CliError, type HangarStreamClient, modelPath } from './http-client.ts';
import { formatTable } from './format.ts';
import type { ModelStatus } from '../schemas/runtime.ts';

export interface RuntimeCommandContext {
  client: HangarStreamClient;
  json: boolean;
  print: (text: string) => void;
  write: (text: string) => void;
}

function until(iso: string | null): string {
  if (!iso) return '-';
  const seconds = Math.round((Date.parse(iso) - Date.now()) / 1000);
  if (seconds <= 0) return 'now';
  return seconds >= 120 ? `${Math.round(seconds / 60)} minutes` : `${seconds} seconds`;
}

export async function ps(c: RuntimeCommandContext, all: boolean): Promise<void> {
  const result = await c.client.request<{ models: Record<string, ModelStatus> }>('GET', '/api/v1/models/status');
  if (c.json) return c.print(JSON.stringify(result, null, 2));
  const rows = Object.values(result.models)
    .filter((m) => all || m.status !== 'not_loaded')
    .map((m) => [
      m.name,
      m.version === null ? '-' : String(m.version),
      m.status,
      m.device === 'gpu' ? `gpu${m.gpu ?? ''}` : 'cpu',
      m.memory_usage_mb ? `${m.memory_usage_mb} MB` : '-',
      m.pid === null ? '-' : String(m.pid),
      String(m.in_flight),
      m.pinned ? 'pinned' : m.keep_alive === 'forever' ? 'forever' : until(m.expires_at),
      m.reason ?? '',
    ]);
  c.print(formatTable(['NAME', 'VERSION', 'STATUS', 'DEVICE', 'MEMORY', 'PID', 'IN-FLIGHT', 'UNTIL', 'REASON'], rows));
}

export interface LoadFlags {
  pin?: boolean;
  keepAlive?: string;
  device?: string;
  threads?: string;
  contextSize?: string;
  quantization?: string;
}

function integer(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value)) throw new CliError(`${flag} takes a whole number, got "${value}"`, 2);
  return Number(value);
}

export async function load(c: RuntimeCommandContext, name: string, flags: LoadFlags): Promise<void> {
  const body = {
    ...(flags.pin ? { pinned: true } : {}),
    ...(flags.keepAlive !== undefined ? { keep_alive: flags.keepAlive } : {}),
    ...(flags.device !== undefined ? { device: flags.device } : {}),
    ...(flags.threads !== undefined ? { threads: integer(flags.threads, '--threads') } : {}),
    ...(flags.contextSize !== undefined ? { context_size: integer(flags.contextSize, '--context-size') } : {}),
    ...(flags.quantization !== undefined ? { quantization: flags.quantization } : {}),
  };
  const status = await c.client.request<ModelStatus>('POST', `/api/v1/models/${modelPath(name)}/load`, body);
  if (c.json) return c.print(JSON.stringify(status, null, 2));
  c.print(
    `Loaded ${status.name} version ${status.version} on ${status.device} (pid ${status.pid}, ${status.memory_usage_mb} MB, ${status.last_load_ms} ms)${status.device_note ? `; ${status.device_note}` : ''}`,
  );
}

export async function unload(c: RuntimeCommandContext, name: string): Promise<void> {
  const status = await c.client.request<ModelStatus>('POST', `/api/v1/models/${modelPath(name)}/unload`, {});
  if (c.json) return c.print(JSON.stringify(status, null, 2));
  c.print(`Unloaded ${status.name}`);
}

export async function embed(c: RuntimeCommandContext, name: string, texts: string[]): Promise<void> {
  const result = await c.client.request<{ model: string; version: number; embeddings: number[][]; usage: { tokens: number } }>(
    'POST',
    '/api/v1/embeddings',
    { model: name, input: texts },
  );
  if (c.json) return c.print(JSON.stringify(result));
  result.embeddings.forEach((vector, i) => {
    const head = vector
      .slice(0, 6)
      .map((v) => v.toFixed(4))
      .join(' ');
    c.print(`${JSON.stringify(texts[i])} [${vector.length}] ${head}${vector.length > 6 ? ' …' : ''}`);
  });
  c.print(`${result.model} version ${result.version}, ${result.usage.tokens} tokens`);
}

export async function run(c: RuntimeCommandContext, name: string, prompt: string, maxTokens: number | undefined): Promise<void> {
  let failure: { code?: string; message?: string } | undefined;
  await c.client.stream(
    '/api/v1/generate',
    { model: name, prompt, stream: true, ...(maxTokens ? { max_tokens: maxTokens } : {}) },
    ({ event, data }) => {
      if (c.json) return c.print(JSON.stringify(data));
      if (event === 'token') c.write(String(data.text));
      else if (event === 'done') c.write('\n');
      else if (event === 'error') failure = data.error as { code?: string; message?: string };
    },
  );
  if (failure) throw new CliError(`${failure.message} (${failure.code})`);
}
