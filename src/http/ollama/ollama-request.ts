// Ollama request fields as the application takes them: options → generation settings, format → grammar, messages, tools.
import type { ChatTurn, GenerationSettings, ResponseFormat, ToolDefinition } from '../../app/inference-types.ts';
import { UNTIL_CONTEXT_END } from '../../app/inference-types.ts';
import { InvalidInput } from '../../errors.ts';
import type { OllamaChatRequest, OllamaMessage, OllamaOptions } from '../../schemas/ollama.ts';

/** `format`: "json" is any JSON value, an object is a JSON schema (grammar-constrained either way); "" is none. */
export function responseFormat(format: string | Record<string, unknown> | undefined): ResponseFormat | undefined {
  if (format === undefined || format === '') return undefined;
  if (typeof format === 'object') return { type: 'json_schema', schema: format };
  if (format === 'json') return { type: 'json' };
  throw new InvalidInput(`invalid format ${JSON.stringify(format)}: expected "json" or a JSON schema`, { field: 'format' });
}

/** The sampling and runtime settings of a request's `options` and `format`. */
export function generationSettings(
  options: OllamaOptions | undefined,
  format: string | Record<string, unknown> | undefined,
): GenerationSettings {
  const o = options ?? {};
  const settings: GenerationSettings = {
    maxTokens: o.num_predict === undefined || o.num_predict <= 0 ? UNTIL_CONTEXT_END : o.num_predict,
    temperature: o.temperature,
    topP: o.top_p,
    topK: o.top_k,
    seed: o.seed,
    stop: typeof o.stop === 'string' ? [o.stop] : o.stop,
    repeatPenalty: o.repeat_penalty,
    presencePenalty: o.presence_penalty,
    frequencyPenalty: o.frequency_penalty,
    contextSize: o.num_ctx,
    responseFormat: responseFormat(format),
  };
  // Absent fields stay absent, so the application's defaults apply.
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as GenerationSettings;
}

/** What Ollama serves that Hangar does not (images, thinking, fill-in-the-middle): a clear 400 naming the model. */
export function refuseUnsupported(
  model: string,
  request: { think?: boolean | string; images?: string[]; suffix?: string; messages?: OllamaMessage[] },
): void {
  const refuse = (what: string) => {
    throw new InvalidInput(`${model} does not support ${what}`, { model }, 'unsupported_operation');
  };
  if (request.think !== undefined && request.think !== false) refuse('thinking');
  if (request.images?.length || request.messages?.some((m) => m.images?.length)) refuse('images');
  if (request.suffix) refuse('insert');
}

/** Refuses tools for a model whose chat template cannot call functions, as Ollama words it. */
export function refuseTools(model: string): never {
  throw new InvalidInput(`${model} does not support tools`, { model }, 'unsupported_operation');
}

export function chatTurns(messages: OllamaMessage[]): ChatTurn[] {
  return messages.map((message) => ({
    role: message.role,
    content: message.content,
    ...(message.tool_calls?.length
      ? { toolCalls: message.tool_calls.map((call) => ({ name: call.function.name, arguments: call.function.arguments })) }
      : {}),
    ...(message.tool_name ? { toolName: message.tool_name } : {}),
  }));
}

export function toolDefinitions(tools: NonNullable<OllamaChatRequest['tools']>): ToolDefinition[] {
  return tools.map(({ function: fn }) => ({
    name: fn.name,
    ...(fn.description !== undefined ? { description: fn.description } : {}),
    ...(fn.parameters !== undefined ? { parameters: fn.parameters } : {}),
  }));
}
