// Inference routes: embeddings, generation and chat; generation streams server-sent events when asked.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import { errorResponses } from '../../schemas/common.ts';
import {
  ChatRequest,
  ChatResponse,
  EmbeddingsRequest,
  EmbeddingsResponse,
  GenerateRequest,
  GenerateResponse,
} from '../../schemas/runtime.ts';
import { HangarError } from '../../errors.ts';
import type { GenerationResult, GenerationSettings, StreamControl } from '../../app/inference-types.ts';
import { deferredStream } from '../streaming.ts';

const INFERENCE_ERRORS = errorResponses(400, 404, 409, 422, 500, 502, 503);

/** The wire's generation fields as the application takes them. */
function settingsOf(body: GenerateRequest | ChatRequest): GenerationSettings & { model: string; keepAlive?: string | number } {
  return {
    model: body.model,
    keepAlive: body.keep_alive,
    maxTokens: body.max_tokens,
    temperature: body.temperature,
    stop: body.stop === undefined ? undefined : typeof body.stop === 'string' ? [body.stop] : body.stop,
    seed: body.seed,
    ignoreEos: body.ignore_eos,
    topP: body.top_p,
    topK: body.top_k,
    repeatPenalty: body.repeat_penalty,
    frequencyPenalty: body.frequency_penalty,
    presencePenalty: body.presence_penalty,
    responseFormat: body.response_format,
  };
}

/** A generation result in this API's snake_case shape. */
function generationReply(result: GenerationResult) {
  return {
    model: result.model,
    version: result.version,
    text: result.text,
    finish_reason: result.finishReason,
    usage: {
      prompt_tokens: result.promptTokens,
      completion_tokens: result.completionTokens,
      total_tokens: result.promptTokens + result.completionTokens,
    },
    timings: { first_token_ms: result.firstTokenMs, generation_ms: result.generationMs, tokens_per_sec: result.tokensPerSecond },
  };
}

/** Runs a generation, streaming SSE `token` events and a final `done` (or `error`) event. */
async function streamGeneration(
  request: FastifyRequest,
  reply: FastifyReply,
  run: (stream: StreamControl) => Promise<GenerationResult>,
): Promise<void> {
  const stream = deferredStream(request, reply, { format: 'sse' });
  try {
    const result = await run({ onToken: (text) => stream.send({ event: 'token', data: { type: 'token', text } }), signal: stream.signal });
    stream.send({ event: 'done', data: { type: 'done', ...generationReply(result) } });
  } catch (error) {
    if (!stream.opened) throw error;
    const e =
      error instanceof HangarError
        ? { code: error.code, message: error.message }
        : { code: 'internal_error', message: 'Generation failed; see the server log' };
    if (!(error instanceof HangarError)) request.log.error({ err: error }, 'stream failed');
    stream.send({ event: 'error', data: { type: 'error', error: e } });
  } finally {
    stream.end();
  }
}

export default async function inferenceRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { inference } = ctx.app;

  r.post(
    '/api/v1/embeddings',
    {
      config: { role: 'operator', inference: true },
      schema: {
        tags: ['inference'],
        description:
          'Embeds one string or a list: mean-pooled, unit-norm vectors. Concurrent requests to one model are batched inside its runner. Loads the model first when dynamic loading is on.',
        body: EmbeddingsRequest,
        response: { 200: EmbeddingsResponse, ...INFERENCE_ERRORS },
      },
    },
    async (request) => {
      const { input, model, keep_alive } = request.body;
      const result = await inference.embed({ model, keepAlive: keep_alive, inputs: typeof input === 'string' ? [input] : input });
      return { model: result.model, version: result.version, embeddings: result.embeddings, usage: { tokens: result.tokens } };
    },
  );

  r.post(
    '/api/v1/generate',
    {
      config: { role: 'operator', inference: true },
      schema: {
        tags: ['inference'],
        description:
          'Completes a prompt. With "stream": true the answer is server-sent events: `token` events ({"text"}), then `done` with the full result, or `error`.',
        body: GenerateRequest,
        response: { 200: GenerateResponse, ...INFERENCE_ERRORS },
      },
    },
    async (request, reply) => {
      const input = { ...settingsOf(request.body), prompt: request.body.prompt };
      if (!request.body.stream) return generationReply(await inference.generate(input));
      await streamGeneration(request, reply, (stream) => inference.generate(input, stream));
      return reply;
    },
  );

  r.post(
    '/api/v1/chat',
    {
      config: { role: 'operator', inference: true },
      schema: {
        tags: ['inference'],
        description:
          'Answers a conversation ({"role","content"} messages) using the model\'s chat template. Streams like /generate when "stream" is true.',
        body: ChatRequest,
        response: { 200: ChatResponse, ...INFERENCE_ERRORS },
      },
    },
    async (request, reply) => {
      const input = { ...settingsOf(request.body), messages: request.body.messages };
      if (!request.body.stream) {
        const { text, ...rest } = generationReply(await inference.chat(input));
        return { ...rest, message: { role: 'assistant' as const, content: text } };
      }
      await streamGeneration(request, reply, (stream) => inference.chat(input, stream));
      return reply;
    },
  );
}
