// POST /v1/chat/completions: a conversation through the model's chat template, one object or OpenAI's chunk stream.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import { toHangarRef } from '../../app/compatible-names.ts';
import { OpenAiChatCompletion, OpenAiChatRequest } from '../../schemas/openai.ts';
import { OPENAI_INFERENCE_ERRORS } from './openai-errors.ts';
import { chatSettings } from './openai-request.ts';
import { openAiStream, replyId, unixNow } from './openai-stream.ts';
import { chatChunk, chatCompletion, closingChunks } from './chat-reply.ts';

export default async function chatRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { inference } = ctx.app;

  r.post(
    '/v1/chat/completions',
    {
      config: { role: 'operator', inference: true },
      schema: {
        tags: ['openai'],
        description:
          'OpenAI chat completions. `stream: true` answers text/event-stream: `data: <chat.completion.chunk>` frames (the first with delta.role, ' +
          'content deltas, one with finish_reason; with stream_options.include_usage a last one with `choices: []` and usage), then `data: [DONE]`. ' +
          'response_format json_object/json_schema constrain the output by grammar; tools (type function) with tool_choice auto or none.',
        body: OpenAiChatRequest,
        response: { 200: OpenAiChatCompletion, ...OPENAI_INFERENCE_ERRORS },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const input = { model: toHangarRef(body.model), keepAlive: body.keep_alive, ...chatSettings(body) };
      const header = { id: replyId('chatcmpl'), created: unixNow(), model: body.model };
      const stream = openAiStream(request, reply);
      if (!body.stream) {
        try {
          return chatCompletion(header, await inference.chat(input, { signal: stream.signal }));
        } finally {
          stream.finish();
        }
      }

      const includeUsage = body.stream_options?.include_usage === true;
      let started = false;
      // The role chunk goes with the first token, so a failure before it (unknown model) is still a JSON error status.
      const start = () => {
        if (started) return;
        started = true;
        stream.chunk(chatChunk(header, includeUsage, { role: 'assistant', content: '' }));
      };
      try {
        const result = await inference.chat(input, {
          signal: stream.signal,
          onToken: (text) => {
            start();
            if (text) stream.chunk(chatChunk(header, includeUsage, { content: text }));
          },
        });
        // A cancelled generation's client is gone: there is no one to finish the stream for.
        if (result.finishReason !== 'cancelled') {
          start();
          for (const chunk of closingChunks(header, includeUsage, result)) stream.chunk(chunk);
        }
      } catch (error) {
        stream.fail(error);
      } finally {
        stream.finish();
      }
      return reply;
    },
  );
}
