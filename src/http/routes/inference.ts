// Inference routes: embeddings, generation and chat; generation streams server-sent events when asked.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import { errorResponses } from '../../schemas/common.ts';
import { ChatRequest, ChatResponse, EmbeddingsRequest, EmbeddingsResponse, GenerateRequest, GenerateResponse } from '../../schemas/runtime.ts';
import { HangarError } from '../../errors.ts';
import type { GenerationResult } from '../../runtime/inference.ts';

const INFERENCE_ERRORS = errorResponses(400, 404, 409, 422, 500, 502, 503);

/**
 * Runs a generation, streaming SSE `token` events and a final `done` (or `error`) event. The stream
 * opens with the first token, so failures before it (unknown model, load error) still get a JSON error status.
 */
async function streamGeneration(request: FastifyRequest, reply: FastifyReply, run: (onToken: (text: string) => void, signal: AbortSignal) => Promise<GenerationResult>): Promise<void> {
  const abort = new AbortController();
  let open = false;
  let finished = false;
  const openStream = () => {
    if (open) return;
    open = true;
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-request-id': String(request.id) });
  };
  const send = (event: string, data: unknown) => reply.raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  request.raw.on('close', () => {
    if (!finished) abort.abort();
  });
  try {
    const result = await run((text) => {
      openStream();
      send('token', { type: 'token', text });
    }, abort.signal);
    openStream();
    send('done', { type: 'done', ...result });
  } catch (error) {
    if (!open) throw error;
    const e = error instanceof HangarError ? { code: error.code, message: error.message } : { code: 'internal_error', message: 'Generation failed; see the server log' };
    if (!(error instanceof HangarError)) request.log.error({ err: error }, 'stream failed');
    send('error', { type: 'error', error: e });
  } finally {
    finished = true;
    if (open) reply.raw.end();
  }
}

export default async function inferenceRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.post('/api/v1/embeddings', {
    config: { role: 'operator', inference: true },
    schema: {
      tags: ['inference'],
      description: 'Embeds one string or a list: mean-pooled, unit-norm vectors. Concurrent requests to one model are batched inside its runner. Loads the model first when dynamic loading is on.',
      body: EmbeddingsRequest,
      response: { 200: EmbeddingsResponse, ...INFERENCE_ERRORS },
    },
  }, async (request) => ctx.inference.embed(request.body));

  r.post('/api/v1/generate', {
    config: { role: 'operator', inference: true },
    schema: {
      tags: ['inference'],
      description: 'Completes a prompt. With "stream": true the answer is server-sent events: `token` events ({"text"}), then `done` with the full result, or `error`.',
      body: GenerateRequest,
      response: { 200: GenerateResponse, ...INFERENCE_ERRORS },
    },
  }, async (request, reply) => {
    if (!request.body.stream) return ctx.inference.generate(request.body);
    await streamGeneration(request, reply, (onToken, signal) => ctx.inference.generate(request.body, onToken, signal));
    return reply;
  });

  r.post('/api/v1/chat', {
    config: { role: 'operator', inference: true },
    schema: {
      tags: ['inference'],
      description: 'Answers a conversation ({"role","content"} messages) using the model\'s chat template. Streams like /generate when "stream" is true.',
      body: ChatRequest,
      response: { 200: ChatResponse, ...INFERENCE_ERRORS },
    },
  }, async (request, reply) => {
    if (!request.body.stream) {
      const result = await ctx.inference.chat(request.body);
      const { text, ...rest } = result;
      return { ...rest, message: { role: 'assistant' as const, content: text } };
    }
    await streamGeneration(request, reply, (onToken, signal) => ctx.inference.chat(request.body, onToken, signal));
    return reply;
  });
}
