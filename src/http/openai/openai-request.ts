// Maps OpenAI request bodies to Hangar's inference domain types, refusing with 400 what Hangar cannot honour.
import { HangarError, InvalidInput } from '../../errors.ts';
import type { ChatTurn, GenerationSettings, ResponseFormat, ToolCall, ToolDefinition } from '../../app/inference-types.ts';
import { UNTIL_CONTEXT_END } from '../../app/inference-types.ts';
import type { OpenAiChatMessage, OpenAiChatRequest, OpenAiCompletionRequest } from '../../schemas/openai.ts';

/** A 400 naming the field (OpenAI's `param`) that asks for something this server does not do. */
export function unsupported(param: string, message: string): HangarError {
  return new HangarError('unsupported_parameter', message, { field: param });
}

/** OpenAI's default sampling temperature when a request leaves it out (Hangar's own API defaults to 0.8, as Ollama). */
const OPENAI_DEFAULT_TEMPERATURE = 1;

/** `null` and absent mean the same on OpenAI's wire. */
const given = <T>(value: T | null | undefined): T | undefined => (value === null ? undefined : value);

type SamplingBody = Pick<
  OpenAiChatRequest,
  'max_tokens' | 'temperature' | 'top_p' | 'stop' | 'seed' | 'frequency_penalty' | 'presence_penalty' | 'n' | 'logit_bias'
>;

/** The sampling fields chat and completions share, as the domain takes them. */
export function samplingSettings(body: SamplingBody, maxTokens = given(body.max_tokens) ?? UNTIL_CONTEXT_END): GenerationSettings {
  if ((body.n ?? 1) > 1) throw unsupported('n', 'n > 1 is not supported: send one request per choice');
  if (body.logit_bias && Object.keys(body.logit_bias).length > 0) throw unsupported('logit_bias', 'logit_bias is not supported');
  const stop = given(body.stop);
  return {
    maxTokens,
    temperature: given(body.temperature) ?? OPENAI_DEFAULT_TEMPERATURE,
    topP: given(body.top_p),
    stop: stop === undefined ? undefined : (typeof stop === 'string' ? [stop] : stop).filter((s) => s.length > 0),
    seed: given(body.seed),
    frequencyPenalty: given(body.frequency_penalty),
    presencePenalty: given(body.presence_penalty),
  };
}

function responseFormat(format: OpenAiChatRequest['response_format']): ResponseFormat | undefined {
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json_object') return { type: 'json' };
  const schema = format.json_schema?.schema;
  if (!format.json_schema)
    throw new InvalidInput('response_format.json_schema is required with type "json_schema"', { field: 'response_format.json_schema' });
  return schema ? { type: 'json_schema', schema } : { type: 'json' };
}

/** The text of a message's content: a string, or its text (and refusal) parts joined; other parts are refused. */
function textOf(content: OpenAiChatMessage['content'], param: string): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part, i) => {
      if (part.type === 'text' && typeof part.text === 'string') return part.text;
      if (part.type === 'refusal' && typeof part.refusal === 'string') return part.refusal;
      throw unsupported(`${param}.${i}`, `Content parts of type "${part.type}" are not supported: only text`);
    })
    .join('\n');
}

function parseArguments(text: string, param: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text || '{}');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // Falls through to the refusal below.
  }
  throw new InvalidInput(`${param} is not a JSON object`, { field: param });
}

function required<T>(value: T | null | undefined, param: string, role: string): T {
  if (value === null || value === undefined) throw new InvalidInput(`${param} is required on ${role} messages`, { field: param });
  return value;
}

/** The conversation as domain turns; a tool result is named after the call (by tool_call_id) it answers. */
export function chatTurns(messages: OpenAiChatMessage[]): ChatTurn[] {
  const toolNames = new Map<string, string>();
  return messages.map((message, i): ChatTurn => {
    const param = `messages.${i}.content`;
    switch (message.role) {
      case 'system':
      case 'developer':
        return { role: 'system', content: textOf(required(message.content, param, message.role), param) };
      case 'user':
        return { role: 'user', content: textOf(required(message.content, param, message.role), param) };
      case 'assistant': {
        const calls = (given(message.tool_calls) ?? []).map((call, j): ToolCall => {
          toolNames.set(call.id, call.function.name);
          return {
            name: call.function.name,
            arguments: parseArguments(call.function.arguments, `messages.${i}.tool_calls.${j}.function.arguments`),
          };
        });
        return { role: 'assistant', content: textOf(message.content, param), ...(calls.length > 0 ? { toolCalls: calls } : {}) };
      }
      case 'function':
        return {
          role: 'tool',
          content: textOf(message.content, param),
          toolName: required(message.name, `messages.${i}.name`, message.role),
        };
      default: {
        const name = toolNames.get(required(message.tool_call_id, `messages.${i}.tool_call_id`, message.role));
        return {
          role: 'tool',
          content: textOf(required(message.content, param, message.role), param),
          ...(name ? { toolName: name } : {}),
        };
      }
    }
  });
}

/** The functions to offer the model: none with tool_choice "none"; forcing a call is refused. */
function toolDefinitions(body: OpenAiChatRequest): ToolDefinition[] | undefined {
  const tools = given(body.tools);
  const choice = given(body.tool_choice);
  if (!tools?.length || choice === 'none') return undefined;
  if (choice !== undefined && choice !== 'auto') {
    throw unsupported('tool_choice', 'tool_choice can be "auto" or "none": forcing a tool call is not supported');
  }
  return tools.map((tool, i) => {
    if (tool.type !== 'function' || !tool.function)
      throw unsupported(`tools.${i}.type`, `Tools of type "${tool.type}" are not supported: only function`);
    const { name, description, parameters } = tool.function;
    return { name, ...(description ? { description } : {}), ...(parameters ? { parameters } : {}) };
  });
}

/** Everything of a chat completion request but the model, as the domain's ChatRequest fields. */
export function chatSettings(body: OpenAiChatRequest): GenerationSettings & { messages: ChatTurn[]; tools?: ToolDefinition[] } {
  if (body.logprobs) throw unsupported('logprobs', 'logprobs are not supported');
  if ((body.top_logprobs ?? 0) > 0) throw unsupported('top_logprobs', 'top_logprobs are not supported');
  if (body.audio) throw unsupported('audio', 'Audio output is not supported');
  const tools = toolDefinitions(body);
  const format = responseFormat(given(body.response_format));
  return {
    ...samplingSettings(body, given(body.max_completion_tokens) ?? given(body.max_tokens) ?? UNTIL_CONTEXT_END),
    ...(format ? { responseFormat: format } : {}),
    messages: chatTurns(body.messages),
    ...(tools ? { tools } : {}),
  };
}

/** The prompts of a completion request (one choice each) and its settings. */
export function completionSettings(body: OpenAiCompletionRequest): { prompts: string[]; settings: GenerationSettings } {
  if (body.suffix) throw unsupported('suffix', 'suffix (insertion) is not supported');
  if ((body.best_of ?? 1) > 1) throw unsupported('best_of', 'best_of > 1 is not supported');
  if ((body.logprobs ?? 0) > 0) throw unsupported('logprobs', 'logprobs are not supported');
  return { prompts: stringList(body.prompt, 'prompt'), settings: samplingSettings(body) };
}

/** A string or a list of strings; token-id lists (numbers) are refused. */
export function stringList(value: string | unknown[], param: string): string[] {
  if (typeof value === 'string') return [value];
  return value.map((item, i) => {
    if (typeof item === 'string') return item;
    if (typeof item === 'number' || Array.isArray(item)) throw unsupported(param, `Token-id ${param}s are not supported: send text`);
    throw new InvalidInput(`${param}.${i} must be a string`, { field: `${param}.${i}` });
  });
}
