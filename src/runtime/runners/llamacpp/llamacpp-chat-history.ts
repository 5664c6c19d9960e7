// Chat turns and tools to node-llama-cpp's shapes and back: history items (function calls with their results), functions, tool calls.
import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelFunctions, ChatModelResponse } from 'node-llama-cpp';
import type { ChatMessage, ToolCall, ToolDefinition } from '../../protocol.ts';
import { toGrammarSchema } from './llamacpp-grammar.ts';

/**
 * The conversation as node-llama-cpp's history. It keeps a function call and its result in one item inside the
 * model's response, so an assistant turn's toolCalls take their results from the tool turns that follow (by tool
 * name, else in order), and the assistant's next text continues that same response, as the template renders it.
 * A tool turn with no call to answer becomes a user turn (its content is still what the model should see).
 */
export function toChatHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  /** Calls of the latest assistant turn still waiting for their tool turn. */
  let awaiting: ChatModelFunctionCall[] = [];
  /** The model response the next assistant text joins (set right after tool calls). */
  let continuing: ChatModelResponse | null = null;
  for (const message of messages) {
    if (message.role === 'tool') {
      const index = awaiting.findIndex((call) => call.name === message.toolName);
      const call = awaiting.splice(Math.max(index, 0), 1)[0];
      if (call) call.result = message.content;
      else history.push({ type: 'user', text: message.content });
      continue;
    }
    if (message.role === 'assistant') {
      const calls = (message.toolCalls ?? []).map(toFunctionCall);
      const response: ChatModelResponse['response'] = [...(message.content === '' ? [] : [message.content]), ...calls];
      if (continuing && awaiting.length === 0) continuing.response.push(...response);
      else {
        continuing = { type: 'model', response };
        history.push(continuing);
      }
      awaiting = calls;
      if (calls.length === 0) continuing = null;
      continue;
    }
    continuing = null;
    awaiting = [];
    history.push({ type: message.role, text: message.content });
  }
  return history;
}

function toFunctionCall(call: ToolCall): ChatModelFunctionCall {
  // A call whose result never came is shown to the model with an empty result.
  return { type: 'functionCall', name: call.name, params: call.arguments, result: '' };
}

/** The request's tools as node-llama-cpp's functions (their parameter schemas in the dialect its grammars take). */
export function toChatFunctions(tools: readonly ToolDefinition[]): ChatModelFunctions {
  const functions: Record<string, ChatModelFunctions[string]> = {};
  for (const tool of tools) {
    functions[tool.name] = {
      ...(tool.description === undefined ? {} : { description: tool.description }),
      ...(tool.parameters === undefined ? {} : { params: toGrammarSchema(tool.parameters) }),
    };
  }
  return functions;
}

/** What node-llama-cpp reports for a function call the model generated. */
export interface GeneratedFunctionCall {
  functionName: string;
  params: unknown;
}

/** The model's function calls as tool calls: arguments are always an object (a call without parameters has none). */
export function toToolCalls(functionCalls: readonly GeneratedFunctionCall[] | undefined): ToolCall[] {
  return (functionCalls ?? []).map((call) => ({
    name: call.functionName,
    arguments: typeof call.params === 'object' && call.params !== null && !Array.isArray(call.params) ? { ...call.params } : {},
  }));
}
