// Hangar's generation commands in Ollama's request terms (options, format, messages, tools) and Ollama's tool calls back in Hangar's.
import type { Message, Options, Tool, ToolCall as OllamaToolCall } from 'ollama';
import type { ChatCommand, ChatMessage, GenerateCommand, ResponseFormat, ToolCall, ToolDefinition } from '../protocol.ts';

type Settings = Omit<GenerateCommand, 'type' | 'id' | 'prompt'>;

/** Hangar's sampling settings as Ollama's request options. */
export function optionsOf(command: Settings): Partial<Options> {
  return {
    num_predict: command.maxTokens,
    temperature: command.temperature,
    ...(command.stop.length ? { stop: command.stop } : {}),
    ...(command.seed !== undefined ? { seed: command.seed } : {}),
    ...(command.topP !== undefined ? { top_p: command.topP } : {}),
    ...(command.topK !== undefined ? { top_k: command.topK } : {}),
    ...(command.repeatPenalty !== undefined ? { repeat_penalty: command.repeatPenalty } : {}),
    ...(command.frequencyPenalty !== undefined ? { frequency_penalty: command.frequencyPenalty } : {}),
    ...(command.presencePenalty !== undefined ? { presence_penalty: command.presencePenalty } : {}),
  };
}

/** Ollama's `format`: "json", or the JSON schema the output must match. */
export function formatOf(responseFormat: ResponseFormat | undefined): string | object | undefined {
  if (!responseFormat) return undefined;
  return responseFormat.type === 'json' ? 'json' : responseFormat.schema;
}

export function messagesOf(messages: ChatMessage[]): Message[] {
  return messages.map((m) => ({
    role: m.role,
    content: m.content,
    ...(m.toolCalls?.length ? { tool_calls: m.toolCalls.map((c) => ({ function: { name: c.name, arguments: c.arguments } })) } : {}),
    ...(m.toolName ? { tool_name: m.toolName } : {}),
  }));
}

export function toolsOf(tools: ChatCommand['tools']): Tool[] | undefined {
  if (!tools?.length) return undefined;
  return tools.map((t: ToolDefinition) => ({
    type: 'function',
    function: {
      name: t.name,
      ...(t.description ? { description: t.description } : {}),
      ...(t.parameters ? { parameters: t.parameters } : {}),
    },
  }));
}

export function toolCallsOf(calls: OllamaToolCall[] | undefined): ToolCall[] {
  return (calls ?? []).map((c) => ({ name: c.function.name, arguments: (c.function.arguments ?? {}) as Record<string, unknown> }));
}
