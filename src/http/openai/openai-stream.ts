// OpenAI's streaming wire: `data: <json>` frames only, an error as one more `data: {"error":…}` frame, then `data: [DONE]`.
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GenerationResult } from '../../app/inference-types.ts';
import { describeError } from '../plugins/error-handler.ts';
import { deferredStream } from '../streaming.ts';
import { openAiErrorDialect } from './openai-errors.ts';

/** The end of every OpenAI stream; not JSON, so it is written as is rather than through the JSON framer. */
const DONE_FRAME = 'data: [DONE]\n\n';

export interface OpenAiStream {
  /** Aborts when the client goes away: passed to the generation so it stops. */
  readonly signal: AbortSignal;
  /** One `data:` frame; the first opens the response (a failure before it is an ordinary JSON error). */
  chunk(data: unknown): void;
  /** After the stream opened, an error frame the official clients raise as APIError; before, the error is rethrown. */
  fail(error: unknown): void;
  /** `data: [DONE]` (when the stream opened) and the end of the response. */
  finish(): void;
}

export function openAiStream(request: FastifyRequest, reply: FastifyReply): OpenAiStream {
  const stream = deferredStream(request, reply, { format: 'sse' });
  return {
    signal: stream.signal,
    chunk: (data) => stream.send({ data }),
    fail: (error) => {
      if (!stream.opened) throw error;
      const { status, body } = describeError(error instanceof Error ? error : new Error(String(error)), request);
      stream.send({ data: openAiErrorDialect.render(status, body).payload });
    },
    finish: () => {
      if (stream.opened && !stream.signal.aborted && !reply.raw.writableEnded) reply.raw.write(DONE_FRAME);
      stream.end();
    },
  };
}

/** A reply id as OpenAI shapes them: `chatcmpl-…`, `cmpl-…`. */
export function replyId(prefix: 'chatcmpl' | 'cmpl'): string {
  return `${prefix}-${randomUUID().replaceAll('-', '')}`;
}

/** Unix seconds, OpenAI's `created`. */
export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/** OpenAI has no `cancelled`: a cancelled generation's client is gone, so the mapping only keeps the type honest. */
export function finishReason(result: GenerationResult): 'stop' | 'length' | 'tool_calls' {
  return result.finishReason === 'cancelled' ? 'stop' : result.finishReason;
}

export function usageOf(results: GenerationResult[]) {
  const prompt = results.reduce((sum, r) => sum + r.promptTokens, 0);
  const completion = results.reduce((sum, r) => sum + r.completionTokens, 0);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}
