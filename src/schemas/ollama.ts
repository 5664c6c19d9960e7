// Schemas of the Ollama-compatible surface: bodies and replies as Ollama's docs/api.md and its official clients spell them.
import { Type, type Static } from 'typebox';
import { KeepAlive } from './runtime.ts';
import { ModelNameString } from './common.ts';

// Ollama's server ignores fields it does not know (clients send newer ones, e.g. `think`), so bodies stay open.
const OPEN = { additionalProperties: true } as const;

// A model of the caller's tenant: a tenant key's name is qualified with its tenant before the handler reads it.
const ModelName = ModelNameString({
  minLength: 1,
  maxLength: 256,
  description: 'Ollama-style `name:tag`: `name`/`name:latest` is the served version.',
});

export const OllamaOptions = Type.Object(
  {
    temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 5 })),
    top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    top_k: Type.Optional(Type.Integer({ minimum: 0 })),
    seed: Type.Optional(Type.Integer()),
    num_predict: Type.Optional(Type.Integer({ description: 'Tokens to generate; -1 or -2 (the default): up to the end of the context.' })),
    num_ctx: Type.Optional(
      Type.Integer({ minimum: 16, maximum: 1_048_576, description: 'Context window when this request loads the model.' }),
    ),
    stop: Type.Optional(Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { maxItems: 16 })])),
    repeat_penalty: Type.Optional(Type.Number({ minimum: 0 })),
    presence_penalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
    frequency_penalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
  },
  { ...OPEN, description: 'Sampling and runtime options; other Ollama options are accepted and ignored.' },
);
export type OllamaOptions = Static<typeof OllamaOptions>;

const Format = Type.Union([Type.String({ maxLength: 16 }), Type.Record(Type.String(), Type.Unknown())], {
  description: '"json" for any JSON value, or a JSON schema the output must match.',
});

const Images = Type.Array(Type.String(), { description: 'Not supported: a non-empty list is refused.' });

const RequestBase = {
  model: ModelName,
  stream: Type.Optional(Type.Boolean({ default: true, description: 'NDJSON chunks (default); false: one object.' })),
  keep_alive: Type.Optional(KeepAlive),
  options: Type.Optional(OllamaOptions),
  format: Type.Optional(Format),
  think: Type.Optional(Type.Union([Type.Boolean(), Type.String()], { description: 'Not supported: true is refused.' })),
};

export const OllamaGenerateRequest = Type.Object(
  {
    ...RequestBase,
    prompt: Type.Optional(Type.String({ maxLength: 1_000_000, description: 'Empty or absent: load the model (keep_alive 0: unload it).' })),
    system: Type.Optional(Type.String({ maxLength: 1_000_000 })),
    raw: Type.Optional(Type.Boolean({ description: 'Complete the prompt as is, without the chat template.' })),
    suffix: Type.Optional(Type.String({ description: 'Not supported: a non-empty suffix is refused.' })),
    images: Type.Optional(Images),
    template: Type.Optional(Type.String({ description: 'Ignored: the model’s own chat template is used.' })),
    context: Type.Optional(Type.Array(Type.Integer(), { description: 'Ignored (deprecated in Ollama).' })),
  },
  OPEN,
);
export type OllamaGenerateRequest = Static<typeof OllamaGenerateRequest>;

const ToolCall = Type.Object(
  { function: Type.Object({ name: Type.String(), arguments: Type.Record(Type.String(), Type.Unknown()) }, OPEN) },
  OPEN,
);

export const OllamaMessage = Type.Object(
  {
    role: Type.Union([Type.Literal('system'), Type.Literal('user'), Type.Literal('assistant'), Type.Literal('tool')]),
    content: Type.String({ maxLength: 1_000_000 }),
    images: Type.Optional(Images),
    tool_calls: Type.Optional(Type.Array(ToolCall)),
    tool_name: Type.Optional(Type.String()),
    thinking: Type.Optional(Type.String()),
  },
  OPEN,
);
export type OllamaMessage = Static<typeof OllamaMessage>;

const Tool = Type.Object(
  {
    type: Type.Optional(Type.String()),
    function: Type.Object(
      {
        name: Type.String({ minLength: 1, maxLength: 256 }),
        description: Type.Optional(Type.String()),
        parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
      },
      OPEN,
    ),
  },
  OPEN,
);

export const OllamaChatRequest = Type.Object(
  {
    ...RequestBase,
    messages: Type.Optional(
      Type.Array(OllamaMessage, { maxItems: 10_000, description: 'Empty or absent: load the model (keep_alive 0: unload it).' }),
    ),
    tools: Type.Optional(Type.Array(Tool, { maxItems: 128 })),
  },
  OPEN,
);
export type OllamaChatRequest = Static<typeof OllamaChatRequest>;

const Stats = {
  done_reason: Type.Optional(Type.String({ description: 'stop, length, load or unload.' })),
  total_duration: Type.Optional(Type.Integer({ description: 'Nanoseconds, as every duration here.' })),
  load_duration: Type.Optional(Type.Integer()),
  prompt_eval_count: Type.Optional(Type.Integer()),
  prompt_eval_duration: Type.Optional(Type.Integer()),
  eval_count: Type.Optional(Type.Integer()),
  eval_duration: Type.Optional(Type.Integer()),
};

export const OllamaGenerateResponse = Type.Object({
  model: Type.String(),
  created_at: Type.String(),
  response: Type.String(),
  done: Type.Boolean(),
  ...Stats,
});

const ReplyMessage = Type.Object({
  role: Type.Literal('assistant'),
  content: Type.String(),
  tool_calls: Type.Optional(Type.Array(ToolCall)),
});

export const OllamaChatResponse = Type.Object({
  model: Type.String(),
  created_at: Type.String(),
  message: ReplyMessage,
  done: Type.Boolean(),
  ...Stats,
});

export const OllamaEmbedRequest = Type.Object(
  {
    model: ModelName,
    input: Type.Union([Type.String({ maxLength: 1_000_000 }), Type.Array(Type.String({ maxLength: 1_000_000 }), { maxItems: 2048 })]),
    truncate: Type.Optional(Type.Boolean({ default: true, description: 'Cut inputs to the context; false refuses longer ones.' })),
    dimensions: Type.Optional(Type.Integer({ minimum: 1 })),
    keep_alive: Type.Optional(KeepAlive),
    options: Type.Optional(OllamaOptions),
  },
  OPEN,
);
export type OllamaEmbedRequest = Static<typeof OllamaEmbedRequest>;

export const OllamaEmbedResponse = Type.Object({
  model: Type.String(),
  embeddings: Type.Array(Type.Array(Type.Number())),
  total_duration: Type.Integer(),
  load_duration: Type.Integer(),
  prompt_eval_count: Type.Integer(),
});

export const OllamaEmbeddingsRequest = Type.Object(
  {
    model: ModelName,
    prompt: Type.String({ maxLength: 1_000_000 }),
    keep_alive: Type.Optional(KeepAlive),
    options: Type.Optional(OllamaOptions),
  },
  OPEN,
);
export type OllamaEmbeddingsRequest = Static<typeof OllamaEmbeddingsRequest>;

export const OllamaEmbeddingsResponse = Type.Object({ embedding: Type.Array(Type.Number()) });

export const OllamaModelDetails = Type.Object({
  parent_model: Type.String(),
  format: Type.String(),
  family: Type.String(),
  families: Type.Array(Type.String()),
  parameter_size: Type.String({ description: 'As Ollama writes it: "1.1B", "137M", "22.7K".' }),
  quantization_level: Type.String(),
});
export type OllamaModelDetails = Static<typeof OllamaModelDetails>;

const ListedModel = {
  name: Type.String(),
  model: Type.String(),
  size: Type.Integer({ description: 'Bytes.' }),
  digest: Type.String({ description: 'sha256 (hex) of the version’s weights file.' }),
  details: OllamaModelDetails,
};

export const OllamaTagsResponse = Type.Object({
  models: Type.Array(Type.Object({ ...ListedModel, modified_at: Type.String() })),
});

export const OllamaPsResponse = Type.Object({
  models: Type.Array(
    Type.Object({
      ...ListedModel,
      size: Type.Integer({ description: 'Memory the loaded model holds, in bytes.' }),
      size_vram: Type.Integer({ description: 'Of that, bytes in GPU memory.' }),
      expires_at: Type.String(),
      context_length: Type.Integer(),
    }),
  ),
});

export const OllamaShowRequest = Type.Object(
  {
    model: Type.Optional(ModelName),
    name: Type.Optional(ModelNameString({ minLength: 1, maxLength: 256, description: 'Older clients’ spelling of model.' })),
    verbose: Type.Optional(Type.Boolean()),
  },
  OPEN,
);
export type OllamaShowRequest = Static<typeof OllamaShowRequest>;

export const OllamaShowResponse = Type.Object({
  license: Type.String(),
  modelfile: Type.String(),
  parameters: Type.String(),
  template: Type.String(),
  system: Type.String(),
  details: OllamaModelDetails,
  model_info: Type.Record(Type.String(), Type.Unknown(), { description: 'GGUF-style keys: general.architecture, <arch>.context_length…' }),
  capabilities: Type.Array(Type.String(), { description: 'completion, embedding, tools.' }),
  modified_at: Type.String(),
});

export const OllamaVersionResponse = Type.Object({
  version: Type.String({ description: 'Numeric dotted, as Ollama’s clients parse it.' }),
});
