// P9: the Ollama- and OpenAI-compatible surfaces against Hangar's own /api/v1, same model, same requests, rounds alternating.
import { interleaved, now, type Result } from './common.ts';
import { sentences } from './fixtures.ts';
import type { HangarProcess } from './hangar-process.ts';
import { httpRequest } from './http-client.ts';

const PROMPT = 'Once upon a time';

async function post(hangar: HangarProcess, path: string, body: unknown): Promise<string> {
  const reply = await httpRequest(hangar.url, 'POST', path, body);
  if (reply.status < 200 || reply.status >= 300) throw new Error(`POST ${path}: HTTP ${reply.status} ${reply.body.slice(0, 300)}`);
  return reply.body;
}

/** Parses `data:` lines of an SSE body (skipping `[DONE]`). */
function sseData<T>(body: string): T[] {
  return body
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
    .map((line) => JSON.parse(line.slice(6)) as T);
}

/**
 * Tokens/s a streaming client sees, from sending the request to the last event. Greedy sampling (temperature 0)
 * makes every surface produce the same tokens for the same prompt, so the counts match.
 */
type StreamedGeneration = (hangar: HangarProcess, model: string, tokens: number) => Promise<number>;

const viaHangarApi: StreamedGeneration = async (hangar, model, tokens) => {
  const start = now();
  const body = await post(hangar, '/api/v1/generate', { model, prompt: PROMPT, max_tokens: tokens, temperature: 0, stream: true });
  const done = sseData<{ type: string; usage?: { completion_tokens: number } }>(body).find((e) => e.type === 'done');
  if (!done?.usage) throw new Error(`/api/v1/generate failed: ${body.slice(-300)}`);
  return done.usage.completion_tokens / ((now() - start) / 1000);
};

const viaOllamaApi: StreamedGeneration = async (hangar, model, tokens) => {
  const start = now();
  const body = await post(hangar, '/api/generate', { model, prompt: PROMPT, raw: true, options: { num_predict: tokens, temperature: 0 } });
  const lines = body
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { done?: boolean; eval_count?: number });
  const done = lines.find((line) => line.done);
  if (done?.eval_count === undefined) throw new Error(`/api/generate failed: ${body.slice(-300)}`);
  return done.eval_count / ((now() - start) / 1000);
};

const viaOpenAiApi: StreamedGeneration = async (hangar, model, tokens) => {
  const start = now();
  const body = await post(hangar, '/v1/completions', {
    model,
    prompt: PROMPT,
    max_tokens: tokens,
    temperature: 0,
    stream: true,
    stream_options: { include_usage: true },
  });
  const usage = sseData<{ usage?: { completion_tokens: number } | null }>(body).find((chunk) => chunk.usage)?.usage;
  if (!usage) throw new Error(`/v1/completions failed: ${body.slice(-300)}`);
  return usage.completion_tokens / ((now() - start) / 1000);
};

async function generation(hangar: HangarProcess, model: string, surface: 'ollama' | 'openai', tokens = 128): Promise<Result> {
  const compatible = surface === 'ollama' ? viaOllamaApi : viaOpenAiApi;
  const {
    anchor,
    hangar: ours,
    pairRatio,
  } = await interleaved(
    5,
    () => viaHangarApi(hangar, model, tokens),
    () => compatible(hangar, model, tokens),
  );
  const path = surface === 'ollama' ? '/api/generate (NDJSON)' : '/v1/completions (SSE)';
  return {
    id: `P9-${surface}-generate`,
    measure: `streaming ${tokens} tokens through ${path} vs /api/v1/generate, TinyLlama shape Q4_0 (tokens/s)`,
    hangar: ours,
    anchor,
    unit: '/s',
    ratio: pairRatio,
    goal: '>= 0.97',
    pass: pairRatio >= 0.97,
  };
}

async function embeddings(hangar: HangarProcess, model: string, surface: 'ollama' | 'openai'): Promise<Result> {
  const texts = sentences(60, 3);
  const round = (path: string, body: (text: string) => unknown) => async () => {
    const start = now();
    for (const text of texts) await post(hangar, path, body(text));
    return texts.length / ((now() - start) / 1000);
  };
  const ownApi = round('/api/v1/embeddings', (input) => ({ model, input }));
  // The official openai client asks for base64 unless told otherwise, so that is what is measured.
  const compatible =
    surface === 'ollama'
      ? round('/api/embed', (input) => ({ model, input }))
      : round('/v1/embeddings', (input) => ({ model, input, encoding_format: 'base64' }));
  const { anchor, hangar: ours, pairRatio } = await interleaved(5, ownApi, compatible);
  const path = surface === 'ollama' ? '/api/embed' : '/v1/embeddings (base64)';
  return {
    id: `P9-${surface}-embed`,
    measure: `embeddings one sentence a request through ${path} vs /api/v1/embeddings, MiniLM shape (sentences/s)`,
    hangar: ours,
    anchor,
    unit: '/s',
    ratio: pairRatio,
    goal: '>= 0.95',
    pass: pairRatio >= 0.95,
  };
}

/** P9 on a loaded generation model and a loaded embedding model. */
export async function compatibleSurfaceBenchmarks(
  hangar: HangarProcess,
  generationModel: string,
  embeddingModel: string,
): Promise<Result[]> {
  const results: Result[] = [];
  for (const surface of ['ollama', 'openai'] as const) results.push(await generation(hangar, generationModel, surface));
  for (const surface of ['ollama', 'openai'] as const) results.push(await embeddings(hangar, embeddingModel, surface));
  return results;
}
