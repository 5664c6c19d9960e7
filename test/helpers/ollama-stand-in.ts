// A tiny stand-in Ollama server speaking Ollama's wire format over real HTTP (tags, ps, show, generate, chat, embed, pull, delete), for backend tests.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash } from 'node:crypto';

export interface StandInModel {
  digest: string;
  size: number;
  family: string;
  parameterSize: string;
  quantization: string;
  capabilities: string[];
}

export interface OllamaStandIn {
  url: string;
  port: number;
  models: Map<string, StandInModel>;
  /** Loaded models and when they expire (ms epoch; Infinity: forever). */
  loaded: Map<string, number>;
  /** Names pull can fetch (library names with their tag). */
  library: Map<string, StandInModel>;
  /** Delay between streamed tokens. */
  tokenDelayMs: number;
  /** Streamed generations and pulls whose client went away before the last line. */
  readonly cancelled: number;
  /** Every request as received (path and body), for assertions on what Hangar sent. */
  requests: Array<{ path: string; body: Record<string, unknown> }>;
  /** Stops answering: open connections are cut, the port refuses. */
  stop(): Promise<void>;
  /** Listens again on the same port. */
  restart(): Promise<void>;
}

export function standInModel(seed: string, size = 1_000_000): StandInModel {
  return {
    digest: createHash('sha256').update(seed).digest('hex'),
    size,
    family: 'llama',
    parameterSize: '1.1B',
    quantization: 'Q4_0',
    capabilities: ['completion'],
  };
}

function keepAliveMs(value: unknown): number {
  if (typeof value === 'number') return value < 0 ? Infinity : value * 1000;
  if (typeof value === 'string') {
    const m = /^(-?[0-9.]+)(ms|s|m|h)?$/.exec(value);
    if (m) {
      const n = Number(m[1]);
      return n < 0 ? Infinity : n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000);
    }
  }
  return 300_000;
}

const tagOf = (name: string) => (name.includes(':') ? name : `${name}:latest`);

export async function startOllamaStandIn(initial: Record<string, StandInModel> = {}): Promise<OllamaStandIn> {
  const state = {
    models: new Map(Object.entries(initial)),
    loaded: new Map<string, number>(),
    library: new Map<string, StandInModel>(),
    tokenDelayMs: 5,
    cancelled: 0,
    requests: [] as Array<{ path: string; body: Record<string, unknown> }>,
  };
  const detailsOf = (m: StandInModel) => ({
    parent_model: '',
    format: 'gguf',
    family: m.family,
    families: [m.family],
    parameter_size: m.parameterSize,
    quantization_level: m.quantization,
  });
  const entry = (name: string, m: StandInModel) => ({
    name,
    model: name,
    modified_at: new Date().toISOString(),
    size: m.size,
    digest: m.digest,
    details: detailsOf(m),
  });
  const sendJson = (res: http.ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const line = (res: http.ServerResponse, body: unknown) => res.write(`${JSON.stringify(body)}\n`);
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const find = (name: unknown) => {
    const full = tagOf(String(name));
    const model = state.models.get(full);
    return model ? { full, model } : null;
  };
  const expireLoaded = () => {
    for (const [name, until] of state.loaded) if (until <= Date.now()) state.loaded.delete(name);
  };

  async function generation(res: http.ServerResponse, body: Record<string, unknown>, chat: boolean): Promise<void> {
    const found = find(body.model);
    if (!found) return sendJson(res, 404, { error: `model '${String(body.model)}' not found` });
    const ka = keepAliveMs(body.keep_alive);
    const prompt = chat
      ? ((body.messages as Array<{ content: string }> | undefined)?.map((m) => m.content).join(' ') ?? '')
      : String(body.prompt ?? '');
    const base = { model: found.full, created_at: new Date().toISOString() };
    if (prompt === '' && (!chat || !(body.messages as unknown[] | undefined)?.length)) {
      if (ka === 0) {
        state.loaded.delete(found.full);
        return sendJson(res, 200, { ...base, response: '', done: true, done_reason: 'unload' });
      }
      state.loaded.set(found.full, Date.now() + ka);
      return sendJson(res, 200, { ...base, response: '', done: true, done_reason: 'load' });
    }
    state.loaded.set(found.full, Date.now() + ka);
    const max = Number((body.options as { num_predict?: number } | undefined)?.num_predict ?? 8);
    const words = Array.from({ length: Math.min(max, 64) }, (_, i) => ` w${i}`);
    const piece = (text: string) => (chat ? { message: { role: 'assistant', content: text } } : { response: text });
    const final = {
      done: true,
      done_reason: words.length >= max ? 'length' : 'stop',
      total_duration: 9e6,
      load_duration: 1e6,
      prompt_eval_count: prompt.split(/\s+/).length,
      prompt_eval_duration: 2e6,
      eval_count: words.length,
      eval_duration: 5e6,
    };
    if (body.stream === false) return sendJson(res, 200, { ...base, ...piece(words.join('')), ...final });
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const tools = (body.tools as Array<{ function: { name: string } }> | undefined) ?? [];
    if (chat && tools.length > 0) {
      // As Ollama does: the call in a chunk of its own, then the final chunk.
      const call = { function: { name: tools[0]?.function.name ?? '', arguments: { city: 'Paris' } } };
      line(res, { ...base, message: { role: 'assistant', content: '', tool_calls: [call] }, done: false });
      line(res, { ...base, ...piece(''), ...final, eval_count: 5, done_reason: 'stop' });
      return void res.end();
    }
    let gone = false;
    res.on('close', () => {
      gone = !res.writableFinished;
    });
    for (const word of words) {
      if (gone || res.destroyed) {
        state.cancelled++;
        return;
      }
      line(res, { ...base, ...piece(word), done: false });
      await sleep(state.tokenDelayMs);
    }
    line(res, { ...base, ...piece(''), ...final });
    res.end();
  }

  async function pull(res: http.ServerResponse, body: Record<string, unknown>): Promise<void> {
    const full = tagOf(String(body.model));
    const model = state.library.get(full);
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    line(res, { status: 'pulling manifest' });
    if (!model) {
      line(res, { error: 'pull model manifest: file does not exist' });
      return void res.end();
    }
    const digest = `sha256:${model.digest}`;
    let gone = false;
    res.on('close', () => {
      gone = !res.writableFinished;
    });
    for (let done = 0; done <= model.size; done += Math.ceil(model.size / 4)) {
      if (gone) {
        state.cancelled++;
        return;
      }
      line(res, { status: `pulling ${model.digest.slice(0, 12)}`, digest, total: model.size, completed: done });
      await sleep(120);
    }
    line(res, { status: `pulling ${model.digest.slice(0, 12)}`, digest, total: model.size, completed: model.size });
    line(res, { status: 'verifying sha256 digest' });
    line(res, { status: 'writing manifest' });
    state.models.set(full, model);
    line(res, { status: 'success' });
    res.end();
  }

  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => {
      raw += chunk;
    });
    req.on('end', () => {
      const parsed = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      // Ollama takes `name` as the older spelling of `model` (the official client still sends it for pull).
      const body = parsed.model === undefined && parsed.name !== undefined ? { ...parsed, model: parsed.name } : parsed;
      const path = req.url ?? '/';
      state.requests.push({ path, body });
      expireLoaded();
      const handle = async () => {
        if (path === '/api/tags') return sendJson(res, 200, { models: [...state.models].map(([n, m]) => entry(n, m)) });
        if (path === '/api/ps') {
          return sendJson(res, 200, {
            models: [...state.loaded].flatMap(([n, until]) => {
              const m = state.models.get(n);
              const expires = until === Infinity ? '2318-01-01T00:00:00Z' : new Date(until).toISOString();
              return m ? [{ ...entry(n, m), size: m.size * 2, size_vram: 0, expires_at: expires, context_length: 2048 }] : [];
            }),
          });
        }
        if (path === '/api/version') return sendJson(res, 200, { version: '0.6.4' });
        if (path === '/api/show') {
          const found = find(body.model);
          if (!found) return sendJson(res, 404, { error: `model '${String(body.model)}' not found` });
          return sendJson(res, 200, {
            details: detailsOf(found.model),
            capabilities: found.model.capabilities,
            model_info: {},
            modified_at: new Date().toISOString(),
          });
        }
        if (path === '/api/generate') return generation(res, body, false);
        if (path === '/api/chat') return generation(res, body, true);
        if (path === '/api/embed') {
          const found = find(body.model);
          if (!found) return sendJson(res, 404, { error: `model '${String(body.model)}' not found` });
          state.loaded.set(found.full, Date.now() + keepAliveMs(body.keep_alive));
          const inputs = Array.isArray(body.input) ? (body.input as string[]) : [String(body.input)];
          return sendJson(res, 200, {
            model: found.full,
            embeddings: inputs.map((t) => [t.length, 1, 0]),
            prompt_eval_count: inputs.length,
          });
        }
        if (path === '/api/pull') return pull(res, body);
        if (path === '/api/delete') {
          const full = tagOf(String(body.model));
          if (!state.models.delete(full)) return sendJson(res, 404, { error: `model '${full}' not found` });
          state.loaded.delete(full);
          return sendJson(res, 200, {});
        }
        return sendJson(res, 404, { error: 'not found' });
      };
      handle().catch((error: unknown) => {
        if (!res.headersSent) sendJson(res, 500, { error: String(error) });
        else res.end();
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const standIn: OllamaStandIn = {
    ...state,
    url: `http://127.0.0.1:${port}`,
    port,
    get tokenDelayMs() {
      return state.tokenDelayMs;
    },
    set tokenDelayMs(ms: number) {
      state.tokenDelayMs = ms;
    },
    get cancelled() {
      return state.cancelled;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    restart: () => new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve)),
  };
  return standIn;
}
