// POST /v1/completions: OpenAI's legacy text completion (the prompt as is, no chat template), one object or a chunk stream.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { HangarContext } from '../context.ts';
import { toHangarRef } from '../../app/compatible-names.ts';
import type { GenerationResult } from '../../app/inference-types.ts';
import { OpenAiCompletion, OpenAiCompletionRequest } from '../../schemas/openai.ts';
import { OPENAI_INFERENCE_ERRORS } from './openai-errors.ts';
import { completionSettings } from './openai-request.ts';
import { finishReason, openAiStream, replyId, unixNow, usageOf } from './openai-stream.ts';

type Choice = OpenAiCompletion['choices'][number];

export default async function completionRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();
  const { inference } = ctx.app;

  r.post(
    '/v1/completions',
    {
      config: { role: 'operator', inference: true },
      schema: {
        tags: ['openai'],
        description:
          'OpenAI legacy completions: the prompt is completed as is (no chat template); a list of prompts gives one choice each. ' +
          '`stream: true` answers `data: <text_completion>` frames (the last of each choice with finish_reason; with ' +
          'stream_options.include_usage a last one with `choices: []` and usage), then `data: [DONE]`.',
        body: OpenAiCompletionRequest,
        response: { 200: OpenAiCompletion, ...OPENAI_INFERENCE_ERRORS },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const { prompts, settings } = completionSettings(body);
      const base = { model: toHangarRef(body.model), keepAlive: body.keep_alive, ...settings };
      const echo = body.echo === true;
      const id = replyId('cmpl');
      const created = unixNow();
      const stream = openAiStream(request, reply);

      if (!body.stream) {
        // A failed prompt stops the others: their answers would be thrown away with the error.
        const stopOthers = new AbortController();
        stream.signal.addEventListener('abort', () => stopOthers.abort(), { once: true });
        const { signal } = stopOthers;
        try {
          const results = await Promise.all(
            prompts
              .map((prompt) => inference.generate({ ...base, prompt }, { signal }))
              .map((run) =>
                run.catch((error: unknown) => {
                  stopOthers.abort();
                  throw error;
                }),
              ),
          );
          const choices = results.map(
            (result, index): Choice => ({
              text: echo ? prompts[index] + result.text : result.text,
              index,
              logprobs: null,
              finish_reason: finishReason(result),
            }),
          );
          return { id, object: 'text_completion' as const, created, model: body.model, choices, usage: usageOf(results) };
        } finally {
          stream.finish();
        }
      }

      const includeUsage = body.stream_options?.include_usage === true;
      const chunk = (choice: Choice) => ({
        id,
        object: 'text_completion' as const,
        created,
        model: body.model,
        choices: [choice],
        ...(includeUsage ? { usage: null } : {}),
      });
      const results: GenerationResult[] = [];
      try {
        // One prompt after the other, so each choice's frames arrive together and in order.
        for (const [index, prompt] of prompts.entries()) {
          // The echoed prompt goes with the first token, so an unknown model still answers 404 rather than a stream.
          let lead = echo ? prompt : '';
          const emit = (text: string) => {
            const sent = lead + text;
            lead = '';
            if (sent) stream.chunk(chunk({ text: sent, index, logprobs: null, finish_reason: null }));
          };
          const result = await inference.generate({ ...base, prompt }, { signal: stream.signal, onToken: emit });
          if (result.finishReason === 'cancelled') return reply;
          emit('');
          results.push(result);
          stream.chunk(chunk({ text: '', index, logprobs: null, finish_reason: finishReason(result) }));
        }
        if (includeUsage)
          stream.chunk({ ...chunk({ text: '', index: 0, logprobs: null, finish_reason: null }), choices: [], usage: usageOf(results) });
      } catch (error) {
        stream.fail(error);
      } finally {
        stream.finish();
      }
      return reply;
    },
  );
}
