// Wire schemas of the OpenAI-compatible surface (/v1): bodies as OpenAI's clients send them (unknown fields accepted), replies as OpenAI's.
import { Type, type Static, type TSchema } from 'typebox';
import { ModelNameString, Nullable } from './common.ts';

/** Optional, and `null` allowed: clients built on OpenAI's spec send `null` for fields they leave unset. */
const Maybe = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

// A model of the caller's tenant: a tenant key's name is qualified with its tenant before the handler reads it.
const ModelName = ModelNameString({
  minLength: 1,
  maxLength: 256,
  description: 'A name from GET /v1/models (`name:latest`, `name:<alias>`, `name:<version>`).',
});

// ---------------------------------------------------------------- models

export const OpenAiModel = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('model'),
    created: Type.Integer({ description: 'Unix seconds: when the version this name serves was created.' }),
    owned_by: Type.String(),
  },
  { $id: 'OpenAiModel' },
);

export const OpenAiModelList = Type.Object({ object: Type.Literal('list'), data: Type.Array(OpenAiModel) });

export const OpenAiModelParams = Type.Object({ model: ModelNameString({ minLength: 1, maxLength: 1024 }) });

// ---------------------------------------------------------------- shared generation fields

const Stop = Maybe(Type.Union([Type.String(), Type.Array(Type.String(), { maxItems: 16 })]));

const StreamOptions = Maybe(
  Type.Object({
    include_usage: Maybe(Type.Boolean({ description: 'Adds a last chunk with `choices: []` and `usage` before `[DONE]`.' })),
  }),
);

/** Fields chat and legacy completions share, as OpenAI names them. */
const SamplingFields = {
  model: ModelName,
  max_tokens: Maybe(Type.Integer({ minimum: 1, maximum: 131_072 })),
  temperature: Maybe(Type.Number({ minimum: 0, maximum: 2 })),
  top_p: Maybe(Type.Number({ minimum: 0, maximum: 1 })),
  stop: Stop,
  seed: Maybe(Type.Integer()),
  frequency_penalty: Maybe(Type.Number({ minimum: -2, maximum: 2 })),
  presence_penalty: Maybe(Type.Number({ minimum: -2, maximum: 2 })),
  n: Maybe(Type.Integer({ minimum: 1, maximum: 128, description: 'Only 1 is supported (400 otherwise).' })),
  stream: Maybe(Type.Boolean({ description: 'Server-sent events: `data: <chunk>` lines, then `data: [DONE]`.' })),
  stream_options: StreamOptions,
  logit_bias: Maybe(Type.Record(Type.String(), Type.Number(), { description: 'Not supported: only an empty object is accepted.' })),
  user: Maybe(Type.String()),
  /** Hangar's keep-alive for the model, as on its own API. */
  keep_alive: Type.Optional(
    Type.Union([Type.String(), Type.Number()], { description: 'Hangar\'s keep-alive for the model ("5m", seconds, -1).' }),
  ),
};

const FinishReason = Type.Union([Type.Literal('stop'), Type.Literal('length'), Type.Literal('tool_calls')]);

export const OpenAiUsage = Type.Object({ prompt_tokens: Type.Integer(), completion_tokens: Type.Integer(), total_tokens: Type.Integer() });

// ---------------------------------------------------------------- chat completions

/** A content part: text is used, other kinds (images, audio, files) are refused with 400. */
const ContentPart = Type.Object({ type: Type.String(), text: Type.Optional(Type.String()), refusal: Type.Optional(Type.String()) });
const Content = Type.Union([Type.String(), Type.Array(ContentPart)]);

const MessageToolCall = Type.Object({
  id: Type.String(),
  type: Type.Optional(Type.Literal('function')),
  function: Type.Object({ name: Type.String(), arguments: Type.String({ description: 'The arguments as a JSON string.' }) }),
});

/** One message; which fields a role needs (tool_call_id on tool messages, content on user ones) is checked when it is read. */
const ChatMessage = Type.Object({
  role: Type.Enum(['system', 'developer', 'user', 'assistant', 'tool', 'function'], {
    description: '`developer` is read as system; `function` (deprecated) as a tool result named by `name`.',
  }),
  content: Maybe(Content),
  name: Maybe(Type.String()),
  tool_calls: Maybe(Type.Array(MessageToolCall, { description: 'On assistant messages: the calls it made.' })),
  tool_call_id: Maybe(Type.String({ description: 'On tool messages: the call this is the result of.' })),
  refusal: Maybe(Type.String()),
});
export type OpenAiChatMessage = Static<typeof ChatMessage>;

const Tool = Type.Object({
  type: Type.String({ description: 'Only `function` is supported.' }),
  function: Type.Optional(
    Type.Object({
      name: Type.String({ minLength: 1, maxLength: 64 }),
      description: Maybe(Type.String()),
      parameters: Maybe(Type.Record(Type.String(), Type.Unknown())),
      strict: Maybe(Type.Boolean()),
    }),
  ),
});

const ResponseFormat = Type.Object({
  type: Type.Union([Type.Literal('text'), Type.Literal('json_object'), Type.Literal('json_schema')]),
  json_schema: Type.Optional(
    Type.Object({
      name: Type.String(),
      description: Maybe(Type.String()),
      schema: Maybe(Type.Record(Type.String(), Type.Unknown())),
      strict: Maybe(Type.Boolean()),
    }),
  ),
});

export const OpenAiChatRequest = Type.Object(
  {
    ...SamplingFields,
    messages: Type.Array(ChatMessage, { minItems: 1, maxItems: 10_000 }),
    max_completion_tokens: Maybe(Type.Integer({ minimum: 1, maximum: 131_072, description: 'Preferred over max_tokens.' })),
    response_format: Maybe(ResponseFormat),
    tools: Maybe(Type.Array(Tool, { maxItems: 128 })),
    tool_choice: Maybe(
      Type.Union([Type.String(), Type.Object({ type: Type.String() })], {
        description: '`auto` or `none`; forcing a function is not supported.',
      }),
    ),
    logprobs: Maybe(Type.Boolean({ description: 'Not supported (400 when true).' })),
    top_logprobs: Maybe(Type.Integer({ minimum: 0, maximum: 20 })),
    audio: Maybe(Type.Record(Type.String(), Type.Unknown(), { description: 'Not supported.' })),
  },
  { description: 'OpenAI chat completion request; fields OpenAI accepts that do not apply here (metadata, store…) are ignored.' },
);
export type OpenAiChatRequest = Static<typeof OpenAiChatRequest>;

const ReplyToolCall = Type.Object({
  id: Type.String(),
  type: Type.Literal('function'),
  function: Type.Object({ name: Type.String(), arguments: Type.String() }),
});

export const OpenAiChatCompletion = Type.Object({
  id: Type.String(),
  object: Type.Literal('chat.completion'),
  created: Type.Integer(),
  model: Type.String(),
  choices: Type.Array(
    Type.Object({
      index: Type.Integer(),
      message: Type.Object({
        role: Type.Literal('assistant'),
        content: Nullable(Type.String()),
        refusal: Type.Null(),
        tool_calls: Type.Optional(Type.Array(ReplyToolCall)),
      }),
      logprobs: Type.Null(),
      finish_reason: FinishReason,
    }),
  ),
  usage: OpenAiUsage,
});
export type OpenAiChatCompletion = Static<typeof OpenAiChatCompletion>;

export const OpenAiChatChunk = Type.Object(
  {
    id: Type.String(),
    object: Type.Literal('chat.completion.chunk'),
    created: Type.Integer(),
    model: Type.String(),
    choices: Type.Array(
      Type.Object({
        index: Type.Integer(),
        delta: Type.Object({
          role: Type.Optional(Type.Literal('assistant')),
          content: Type.Optional(Type.String()),
          tool_calls: Type.Optional(Type.Array(Type.Object({ index: Type.Integer(), ...ReplyToolCall.properties }))),
        }),
        logprobs: Type.Null(),
        finish_reason: Nullable(FinishReason),
      }),
    ),
    usage: Type.Optional(Nullable(OpenAiUsage)),
  },
  { description: 'One `data:` frame of a streamed chat completion.' },
);
export type OpenAiChatChunk = Static<typeof OpenAiChatChunk>;

// ---------------------------------------------------------------- legacy completions

export const OpenAiCompletionRequest = Type.Object(
  {
    ...SamplingFields,
    prompt: Type.Union([Type.String(), Type.Array(Type.Unknown(), { minItems: 1, maxItems: 64 })], {
      description: 'A string or a list of strings (one choice each); token-id prompts are not supported.',
    }),
    echo: Maybe(Type.Boolean({ description: 'Start the text with the prompt.' })),
    suffix: Maybe(Type.String({ description: 'Not supported (400 when not empty).' })),
    best_of: Maybe(Type.Integer({ minimum: 1, maximum: 20, description: 'Only 1 is supported.' })),
    logprobs: Maybe(Type.Integer({ minimum: 0, maximum: 5, description: 'Not supported (400 when above 0).' })),
  },
  { description: 'OpenAI legacy completion request.' },
);
export type OpenAiCompletionRequest = Static<typeof OpenAiCompletionRequest>;

const CompletionChoice = Type.Object({
  text: Type.String(),
  index: Type.Integer(),
  logprobs: Type.Null(),
  finish_reason: Nullable(FinishReason),
});

export const OpenAiCompletion = Type.Object({
  id: Type.String(),
  object: Type.Literal('text_completion'),
  created: Type.Integer(),
  model: Type.String(),
  choices: Type.Array(CompletionChoice),
  usage: Type.Optional(Nullable(OpenAiUsage)),
});
export type OpenAiCompletion = Static<typeof OpenAiCompletion>;

// ---------------------------------------------------------------- embeddings

export const OpenAiEmbeddingsRequest = Type.Object(
  {
    model: ModelName,
    input: Type.Union([Type.String(), Type.Array(Type.Unknown(), { minItems: 1, maxItems: 2048 })], {
      description: 'A string or a list of strings; token-id inputs are not supported.',
    }),
    encoding_format: Maybe(
      Type.Union([Type.Literal('float'), Type.Literal('base64')], {
        description: '`float` (default) or `base64`: little-endian float32 bytes (what the official clients ask for).',
      }),
    ),
    dimensions: Maybe(Type.Integer({ minimum: 1, description: 'Keep the first `dimensions` values, re-normalised.' })),
    user: Maybe(Type.String()),
    keep_alive: SamplingFields.keep_alive,
  },
  { description: 'OpenAI embeddings request.' },
);
export type OpenAiEmbeddingsRequest = Static<typeof OpenAiEmbeddingsRequest>;

export const OpenAiEmbeddingsResponse = Type.Object({
  object: Type.Literal('list'),
  data: Type.Array(
    Type.Object({
      object: Type.Literal('embedding'),
      index: Type.Integer(),
      embedding: Type.Union([Type.Array(Type.Number()), Type.String({ description: 'base64 of little-endian float32' })]),
    }),
  ),
  model: Type.String(),
  usage: Type.Object({ prompt_tokens: Type.Integer(), total_tokens: Type.Integer() }),
});
export type OpenAiEmbeddingsResponse = Static<typeof OpenAiEmbeddingsResponse>;
