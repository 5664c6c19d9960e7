// Answers a generation the Ollama way: NDJSON chunks then a final `done` line with its timings, or one object; late errors as a line.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GenerationResult, StreamControl } from '../../app/inference-types.ts';
import { HangarError } from '../../errors.ts';
import { deferredStream } from '../streaming.ts';
import { nanoseconds } from './load-request.ts';

/** How one surface route words its chunks: a piece of text as it comes, and the last object (with the whole text when not streamed). */
export interface GenerationShape<Chunk, Done> {
  chunk(text: string): Chunk;
  done(result: GenerationResult, text: string, stats: GenerationStats): Done;
}

export interface GenerationStats {
  done_reason: string;
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
  eval_count: number;
  eval_duration: number;
}

/** The final chunk's counts and durations (ns): prompt evaluation is the time to the first token, evaluation the rest. */
export function generationStats(result: GenerationResult, startedAt: number): GenerationStats {
  const promptMs = Math.min(result.firstTokenMs ?? result.generationMs, result.generationMs);
  return {
    // Ollama answers a tool call with done_reason "stop" and the calls in the message.
    done_reason: result.finishReason === 'length' ? 'length' : 'stop',
    total_duration: nanoseconds(performance.now() - startedAt),
    load_duration: nanoseconds(result.loadMs),
    prompt_eval_count: result.promptTokens,
    prompt_eval_duration: nanoseconds(promptMs),
    eval_count: result.completionTokens,
    eval_duration: nanoseconds(result.generationMs - promptMs),
  };
}

/** An error line's text: Hangar's message, or a generic one (logged) for anything unexpected. */
function errorText(request: FastifyRequest, error: unknown): string {
  if (error instanceof HangarError) return error.message;
  request.log.error({ err: error }, 'ollama stream failed');
  return 'generation failed; see the server log';
}

/**
 * Runs the generation and answers it: one object, or (streamed) NDJSON lines. The stream opens with its first line,
 * so a failure before any text (unknown model, load error) is still a JSON error with its status.
 */
export async function answerGeneration<Chunk, Done>(
  request: FastifyRequest,
  reply: FastifyReply,
  streamed: boolean,
  startedAt: number,
  run: (stream: StreamControl) => Promise<GenerationResult>,
  shape: GenerationShape<Chunk, Done>,
): Promise<Done | FastifyReply> {
  if (!streamed) {
    const result = await run({});
    return shape.done(result, result.text, generationStats(result, startedAt));
  }
  const stream = deferredStream(request, reply, { format: 'ndjson' });
  try {
    const result = await run({ onToken: (text) => stream.send({ data: shape.chunk(text) }), signal: stream.signal });
    stream.send({ data: shape.done(result, '', generationStats(result, startedAt)) });
  } catch (error) {
    if (!stream.opened) throw error;
    stream.send({ data: { error: errorText(request, error) } });
  } finally {
    stream.end();
  }
  return reply;
}
