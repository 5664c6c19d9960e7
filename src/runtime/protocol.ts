// The runner protocol: typed messages between the server (supervisor) and a runner process, validated on arrival.
import { Type, type Static, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { BackendName } from '../schemas/runtime.ts';
import { CAPABILITIES } from './backend-ids.ts';

export const Backend = BackendName;
export type Backend = Static<typeof Backend>;

export const Capability = Type.Enum(CAPABILITIES);

/** A call the model made to one of the request's tools (arguments parsed from its JSON). */
export const ToolCall = Type.Object({ name: Type.String(), arguments: Type.Record(Type.String(), Type.Unknown()) });
export type ToolCall = Static<typeof ToolCall>;

export const ChatMessage = Type.Object({
  role: Type.Union([Type.Literal('system'), Type.Literal('user'), Type.Literal('assistant'), Type.Literal('tool')]),
  content: Type.String(),
  /** Assistant turns: the tools the model called earlier in the conversation. */
  toolCalls: Type.Optional(Type.Array(ToolCall)),
  /** Tool turns: the tool whose result `content` is. */
  toolName: Type.Optional(Type.String()),
});
export type ChatMessage = Static<typeof ChatMessage>;

/** A function the model may call: its name, what it does, and the JSON schema of its arguments object. */
export const ToolDefinition = Type.Object({
  name: Type.String({ minLength: 1 }),
  description: Type.Optional(Type.String()),
  parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type ToolDefinition = Static<typeof ToolDefinition>;

/** Grammar-constrained output: any JSON value, or JSON matching a schema. */
export const ResponseFormat = Type.Union([
  Type.Object({ type: Type.Literal('json') }),
  Type.Object({ type: Type.Literal('json_schema'), schema: Type.Record(Type.String(), Type.Unknown()) }),
]);
export type ResponseFormat = Static<typeof ResponseFormat>;

// ---------- server -> runner ----------

export const LoadCommand = Type.Object({
  type: Type.Literal('load'),
  backend: Backend,
  /** Folder laid out as the runtime expects (Hugging Face layout for onnx; the folder holding the .gguf for llamacpp). */
  modelDir: Type.String(),
  /** File inside modelDir a runtime opens: `onnx/model.onnx` or `model.gguf`. */
  entry: Type.String(),
  /** CPU threads the runtime may use. */
  threads: Type.Integer({ minimum: 1 }),
  /** 'cpu' or 'gpu'; the server decides before spawning (it refuses gpu where none exists). */
  device: Type.Union([Type.Literal('cpu'), Type.Literal('gpu')]),
  /** GPU index when device is gpu. */
  gpuIndex: Type.Optional(Type.Integer({ minimum: 0 })),
  /** llamacpp: context window in tokens (default: the model's trained context, capped at 4096). */
  contextSize: Type.Optional(Type.Integer({ minimum: 16 })),
  /** Concurrent generation slots (llamacpp context sequences). */
  parallel: Type.Integer({ minimum: 1 }),
  /** Embedding micro-batching: the most inputs run together, and how long the first waits for company. */
  maxBatchSize: Type.Integer({ minimum: 1 }),
  maxBatchWaitMs: Type.Number({ minimum: 0 }),
  /** onnx: transformers.js dtype (fp32, fp16, q8, …) of the entry file. */
  dtype: Type.Optional(Type.String()),
});
export type LoadCommand = Static<typeof LoadCommand>;

export const EmbedCommand = Type.Object({
  type: Type.Literal('embed'),
  id: Type.String(),
  inputs: Type.Array(Type.String()),
  /** false: an input longer than the model takes is refused (context_overflow) instead of cut to fit (the default). */
  truncate: Type.Optional(Type.Boolean()),
});
export type EmbedCommand = Static<typeof EmbedCommand>;

const GenerationOptions = {
  id: Type.String(),
  maxTokens: Type.Integer({ minimum: 1 }),
  temperature: Type.Number({ minimum: 0 }),
  stop: Type.Array(Type.String()),
  /** Send `token` messages as text is produced (else only `done`). */
  stream: Type.Boolean(),
  /** Keep generating past end-of-sequence (benchmarks that need a fixed token count). */
  ignoreEos: Type.Optional(Type.Boolean()),
  seed: Type.Optional(Type.Integer()),
  // Sampling: the ranges are the ones llama.cpp's samplers take without producing garbage (validated by the use case too).
  topP: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  topK: Type.Optional(Type.Integer({ minimum: 0 })),
  repeatPenalty: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
  frequencyPenalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
  presencePenalty: Type.Optional(Type.Number({ minimum: -2, maximum: 2 })),
  responseFormat: Type.Optional(ResponseFormat),
};

export const GenerateCommand = Type.Object({ type: Type.Literal('generate'), prompt: Type.String(), ...GenerationOptions });
export type GenerateCommand = Static<typeof GenerateCommand>;

export const ChatCommand = Type.Object({
  type: Type.Literal('chat'),
  messages: Type.Array(ChatMessage, { minItems: 1 }),
  /** Functions the model may call instead of answering (refused where the chat template has no tool calling). */
  tools: Type.Optional(Type.Array(ToolDefinition)),
  ...GenerationOptions,
});
export type ChatCommand = Static<typeof ChatCommand>;

export const CancelCommand = Type.Object({ type: Type.Literal('cancel'), id: Type.String() });
export const PingCommand = Type.Object({ type: Type.Literal('ping'), id: Type.String() });
export const ShutdownCommand = Type.Object({ type: Type.Literal('shutdown') });

export const ServerToRunner = Type.Union([
  LoadCommand,
  EmbedCommand,
  GenerateCommand,
  ChatCommand,
  CancelCommand,
  PingCommand,
  ShutdownCommand,
]);
export type ServerToRunner = Static<typeof ServerToRunner>;

// ---------- runner -> server ----------

export const MemoryReport = Type.Object({
  rssBytes: Type.Integer({ minimum: 0 }),
  /** VRAM the runtime reports it holds (node-llama-cpp), when on a GPU. */
  vramBytes: Type.Optional(Type.Integer({ minimum: 0 })),
});
export type MemoryReport = Static<typeof MemoryReport>;

export const ReadyMessage = Type.Object({
  type: Type.Literal('ready'),
  backend: Backend,
  device: Type.Union([Type.Literal('cpu'), Type.Literal('gpu')]),
  /** e.g. 'cpu', 'cuda', 'vulkan', 'metal' for llamacpp. */
  accelerator: Type.String(),
  loadMs: Type.Number(),
  /** Length of an embedding vector, when the model embeds. */
  embeddingLength: Type.Union([Type.Integer(), Type.Null()]),
  /** Context window actually allocated (llamacpp), else null. */
  contextSize: Type.Union([Type.Integer(), Type.Null()]),
  capabilities: Type.Array(Capability),
  /** Runtime library and version, e.g. "onnxruntime-node 1.30.0". */
  runtime: Type.String(),
  memory: MemoryReport,
});
export type ReadyMessage = Static<typeof ReadyMessage>;

export const LoadFailedMessage = Type.Object({ type: Type.Literal('load_failed'), message: Type.String() });

export const EmbedResult = Type.Object({
  type: Type.Literal('embed_result'),
  id: Type.String(),
  /** One unit-norm vector per input, mean-pooled. */
  embeddings: Type.Array(Type.Array(Type.Number())),
  tokens: Type.Integer({ minimum: 0 }),
  /** How many inputs (over all requests) ran in the batch this request joined. */
  batchSize: Type.Integer({ minimum: 1 }),
});
export type EmbedResult = Static<typeof EmbedResult>;

export const TokenMessage = Type.Object({ type: Type.Literal('token'), id: Type.String(), text: Type.String() });

export const GenerationDone = Type.Object({
  type: Type.Literal('done'),
  id: Type.String(),
  text: Type.String(),
  promptTokens: Type.Integer({ minimum: 0 }),
  completionTokens: Type.Integer({ minimum: 0 }),
  finishReason: Type.Union([Type.Literal('stop'), Type.Literal('length'), Type.Literal('cancelled'), Type.Literal('tool_calls')]),
  /** The tools the model called (finishReason tool_calls); absent or empty otherwise. */
  toolCalls: Type.Optional(Type.Array(ToolCall)),
  /** Time to first token and generation time, measured inside the runner. */
  firstTokenMs: Type.Union([Type.Number(), Type.Null()]),
  generationMs: Type.Number(),
});
export type GenerationDone = Static<typeof GenerationDone>;

export const RequestError = Type.Object({
  type: Type.Literal('error'),
  id: Type.String(),
  /** e.g. unsupported_operation, context_overflow, invalid_input, runtime_error */
  code: Type.String(),
  message: Type.String(),
});
export type RequestError = Static<typeof RequestError>;

export const Heartbeat = Type.Object({ type: Type.Literal('heartbeat'), memory: MemoryReport, busy: Type.Integer({ minimum: 0 }) });
export const Pong = Type.Object({ type: Type.Literal('pong'), id: Type.String() });

export const RunnerToServer = Type.Union([
  ReadyMessage,
  LoadFailedMessage,
  EmbedResult,
  TokenMessage,
  GenerationDone,
  RequestError,
  Heartbeat,
  Pong,
]);
export type RunnerToServer = Static<typeof RunnerToServer>;

function checker<T extends TSchema>(schema: T): (value: unknown) => value is Static<T> {
  const compiled = Compile(schema);
  return (value: unknown): value is Static<T> => compiled.Check(value);
}

/** Validates a message from a runner; anything else is a protocol violation. */
export const isRunnerMessage = checker(RunnerToServer);
/** Validates a command arriving at a runner. */
export const isServerCommand = checker(ServerToRunner);

/** How often a runner reports memory and proves it is alive. */
export const HEARTBEAT_INTERVAL_MS = 2000;
