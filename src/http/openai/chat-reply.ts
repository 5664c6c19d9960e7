// A chat generation result as OpenAI's `chat.completion` object, and as the chunks that end its stream.
import { randomUUID } from 'node:crypto';
import type { GenerationResult, ToolCall } from '../../app/inference-types.ts';
import type { OpenAiChatChunk, OpenAiChatCompletion } from '../../schemas/openai.ts';
import { finishReason, usageOf } from './openai-stream.ts';

/** What every object of one reply repeats. */
export interface ReplyHeader {
  id: string;
  created: number;
  /** As the client sent it. */
  model: string;
}

type ChunkDelta = OpenAiChatChunk['choices'][number]['delta'];
type ChunkFinish = OpenAiChatChunk['choices'][number]['finish_reason'];

/** Tool calls as OpenAI sends them: an id each, arguments as a JSON string. */
export function replyToolCalls(calls: ToolCall[]) {
  return calls.map((call) => ({
    id: `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`,
    type: 'function' as const,
    function: { name: call.name, arguments: JSON.stringify(call.arguments) },
  }));
}

export function chatCompletion(header: ReplyHeader, result: GenerationResult): OpenAiChatCompletion {
  const calls = replyToolCalls(result.toolCalls);
  return {
    ...header,
    object: 'chat.completion',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          // OpenAI sends null content with tool calls when the model said nothing else.
          content: result.text === '' && calls.length > 0 ? null : result.text,
          refusal: null,
          ...(calls.length > 0 ? { tool_calls: calls } : {}),
        },
        logprobs: null,
        finish_reason: finishReason(result),
      },
    ],
    usage: usageOf([result]),
  };
}

/** One chunk; with include_usage every chunk carries `usage: null` but the last, as OpenAI sends them. */
export function chatChunk(header: ReplyHeader, includeUsage: boolean, delta: ChunkDelta, finish: ChunkFinish = null): OpenAiChatChunk {
  return {
    ...header,
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  };
}

/** The chunks after the text: the tool calls (indexed), the finish reason, and the usage when asked for. */
export function closingChunks(header: ReplyHeader, includeUsage: boolean, result: GenerationResult): OpenAiChatChunk[] {
  const calls = replyToolCalls(result.toolCalls);
  return [
    ...(calls.length > 0 ? [chatChunk(header, includeUsage, { tool_calls: calls.map((call, index) => ({ index, ...call })) })] : []),
    chatChunk(header, includeUsage, {}, finishReason(result)),
    ...(includeUsage ? [{ ...chatChunk(header, includeUsage, {}), choices: [], usage: usageOf([result]) }] : []),
  ];
}
