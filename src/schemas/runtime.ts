// Schemas of the runtime: load options, model status (seeds 000/002/003) and inference requests and replies.
import { Type, type Static } from 'typebox';
import { ModelNameString, Nullable } from './common.ts';
import { BACKEND_IDS } from '../runtime/backend-ids.ts';
import { QuantizationName } from './names.ts';

/** The backend serving a model (runtime/backends.ts lists them). */
export const BackendName = Type.Enum(BACKEND_IDS);

export const KeepAlive = Type.Union([Type.String({ maxLength: 32 }), Type.Number()], {
  description: 'Duration an idle model stays loaded: "5m", "30s", seconds; 0 unloads when idle; negative keeps it forever.',
});

export const LoadOptions = Type.Object(
  {
    device: Type.Optional(
      Type.Union([Type.Literal('cpu'), Type.Literal('gpu'), Type.Literal('auto')], {
        description: 'Default auto: a GPU when one exists and the backend can use it, else CPU.',
      }),
    ),
    gpu: Type.Optional(Type.Integer({ minimum: 0, maximum: 63, description: 'GPU index (with device gpu or auto).' })),
    context_size: Type.Optional(
      Type.Integer({ minimum: 16, maximum: 1_048_576, description: 'Context window in tokens (llama.cpp models).' }),
    ),
    threads: Type.Optional(Type.Integer({ minimum: 1, maximum: 256, description: 'CPU threads for this model (default from config).' })),
    parallel: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 64, description: 'Concurrent generation requests (default from config).' }),
    ),
    keep_alive: Type.Optional(KeepAlive),
    pinned: Type.Optional(Type.Boolean({ description: 'Never evict this model to make room for another.' })),
    quantization: Type.Optional(
      QuantizationName(
        'Load the model in this quantization (q4, q8, Q4_K_M, fp16…): a version of the model already in it, else one quantized from the version the name serves first (a quantize job), then loaded. Load only.',
      ),
    ),
  },
  { additionalProperties: false },
);
export type LoadOptions = Static<typeof LoadOptions>;

export const LoadBody = Type.Union([LoadOptions, Type.Null()]);

export const SeedLoadRequest = Type.Object(
  {
    model_name: ModelNameString({ minLength: 1, maxLength: 128 }),
    ...LoadOptions.properties,
  },
  { additionalProperties: false },
);

export const WaitQuery = Type.Object({
  wait: Type.Optional(Type.Boolean({ default: true, description: 'false: answer 202 at once while the model loads.' })),
});

export const ModelState = Type.Union([
  Type.Literal('not_loaded'),
  Type.Literal('loading'),
  Type.Literal('loaded'),
  Type.Literal('unloading'),
  Type.Literal('failed'),
]);
export type ModelState = Static<typeof ModelState>;

export const ModelStatus = Type.Object({
  name: Type.String(),
  status: ModelState,
  version: Nullable(Type.Integer()),
  backend: Nullable(BackendName),
  device: Type.Union([Type.Literal('cpu'), Type.Literal('gpu')]),
  gpu: Nullable(Type.Integer({ description: 'GPU index when on a GPU.' })),
  device_note: Nullable(Type.String({ description: 'Why the device differs from the one asked for (e.g. auto fell back to CPU).' })),
  memory_usage_mb: Type.Number({ description: 'Resident memory of the runner process, read from /proc.' }),
  vram_usage_mb: Nullable(Type.Number()),
  pid: Nullable(Type.Integer()),
  in_flight: Type.Integer(),
  queue_depth: Type.Integer(),
  last_inference: Nullable(Type.String()),
  loaded_at: Nullable(Type.String()),
  expires_at: Nullable(Type.String({ description: 'When the keep-alive runs out; null while busy or kept forever.' })),
  keep_alive: Nullable(Type.String()),
  pinned: Type.Boolean(),
  reason: Nullable(Type.String({ description: 'Why the model is failed, or (servable false) why no backend of this Hangar can load it.' })),
  servable: Type.Boolean({
    description:
      'Whether a backend of this Hangar serves the model format; false for safetensors and diffusers models, which are catalogued, downloaded, checked and sized but cannot be loaded (a load answers 409 no_backend).',
  }),
  restarts: Type.Integer({ description: 'Automatic restarts after crashes in the current window.' }),
  load_count: Type.Integer(),
  last_load_ms: Nullable(Type.Number()),
  context_size: Nullable(Type.Integer()),
  embedding_length: Nullable(Type.Integer()),
  capabilities: Type.Array(Type.String()),
});
export type ModelStatus = Static<typeof ModelStatus>;

export const StatusMap = Type.Object({ models: Type.Record(Type.String(), ModelStatus) });
export type StatusMap = Static<typeof StatusMap>;

export const SeedModelList = Type.Object({
  models: Type.Array(ModelStatus),
  total: Type.Integer(),
  loaded: Type.Integer(),
});

export const EmbeddingsRequest = Type.Object(
  {
    model: ModelNameString({ minLength: 1, maxLength: 128 }),
    input: Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1, maxItems: 2048 })]),
    keep_alive: Type.Optional(KeepAlive),
  },
  { additionalProperties: false },
);
export type EmbeddingsRequest = Static<typeof EmbeddingsRequest>;

export const EmbeddingsResponse = Type.Object({
  model: Type.String(),
  version: Type.Integer(),
  embeddings: Type.Array(Type.Array(Type.Number())),
  usage: Type.Object({ tokens: Type.Integer() }),
});

const GenerationFields = {
  model: ModelNameString({ minLength: 1, maxLength: 128 }),
  max_tokens: Type.Optional(Type.Integer({ minimum: 1, maximum: 131_072, default: 128 })),
  temperature: Type.Optional(Type.Number({ minimum: 0, maximum: 5, default: 0.8 })),
  stop: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String({ minLength: 1 }), { maxItems: 16 })])),
  stream: Type.Optional(Type.Boolean({ default: false, description: 'Server-sent events: token events, then done.' })),
  seed: Type.Optional(Type.Integer()),
  ignore_eos: Type.Optional(Type.Boolean({ description: 'Generate exactly max_tokens (benchmarks).' })),
  keep_alive: Type.Optional(KeepAlive),
  top_p: Type.Optional(Type.Number({ minimum: 0, maximum: 1, description: 'Nucleus sampling (1 = off).' })),
  top_k: Type.Optional(Type.Integer({ minimum: 0, description: 'Sample from the k likeliest tokens (0 = off).' })),
  repeat_penalty: Type.Optional(Type.Number({ exclusiveMinimum: 0, description: 'Penalty for the last 64 tokens (1 = off).' })),
  frequency_penalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
  presence_penalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
  response_format: Type.Optional(
    Type.Union(
      [
        Type.Object({ type: Type.Literal('json') }, { additionalProperties: false }),
        Type.Object(
          { type: Type.Literal('json_schema'), schema: Type.Record(Type.String(), Type.Unknown()) },
          { additionalProperties: false },
        ),
      ],
      { description: 'Grammar-constrained output: any JSON, or JSON matching `schema`.' },
    ),
  ),
};

export const GenerateRequest = Type.Object(
  { prompt: Type.String({ maxLength: 1_000_000 }), ...GenerationFields },
  { additionalProperties: false },
);
export type GenerateRequest = Static<typeof GenerateRequest>;

export const ChatRequest = Type.Object(
  {
    messages: Type.Array(
      Type.Object(
        { role: Type.Union([Type.Literal('system'), Type.Literal('user'), Type.Literal('assistant')]), content: Type.String() },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 1000 },
    ),
    ...GenerationFields,
  },
  { additionalProperties: false },
);
export type ChatRequest = Static<typeof ChatRequest>;

const Usage = Type.Object({ prompt_tokens: Type.Integer(), completion_tokens: Type.Integer(), total_tokens: Type.Integer() });
const FinishReason = Type.Union([Type.Literal('stop'), Type.Literal('length'), Type.Literal('cancelled'), Type.Literal('tool_calls')]);
const Timings = Type.Object({
  first_token_ms: Nullable(Type.Number()),
  generation_ms: Type.Number(),
  tokens_per_sec: Nullable(Type.Number()),
});

export const GenerateResponse = Type.Object({
  model: Type.String(),
  version: Type.Integer(),
  text: Type.String(),
  finish_reason: FinishReason,
  usage: Usage,
  timings: Timings,
});

export const ChatResponse = Type.Object({
  model: Type.String(),
  version: Type.Integer(),
  message: Type.Object({ role: Type.Literal('assistant'), content: Type.String() }),
  finish_reason: FinishReason,
  usage: Usage,
  timings: Timings,
});
