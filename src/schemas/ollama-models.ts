// Request and response shapes of the Ollama-compatible model-management routes (pull, push, create, copy, delete, blobs), named as Ollama names them.
import { Type, type Static } from 'typebox';
import { ModelNameString } from './common.ts';

const NAME_LIMITS = { minLength: 1, maxLength: 160 } as const;
const MODEL_DESCRIPTION = 'An Ollama model name: `name`, `name:tag`, `org/name:tag`, `hf.co/org/repo:quant`.';
const DEPRECATED_DESCRIPTION = 'Older name of `model`; the official clients still send it for pull, push and delete.';

/** A pull names what to fetch (a hub repo, a library name), parsed before the Hangar name it makes is qualified with the tenant. */
const PullName = Type.String({ ...NAME_LIMITS, description: MODEL_DESCRIPTION });
const DeprecatedPullName = Type.String({ ...NAME_LIMITS, description: DEPRECATED_DESCRIPTION });
/** A model of the caller's tenant: a tenant key's name is qualified with its tenant before the handler reads it. */
const ModelName = ModelNameString({ ...NAME_LIMITS, description: MODEL_DESCRIPTION });
const DeprecatedName = ModelNameString({ ...NAME_LIMITS, description: DEPRECATED_DESCRIPTION });
const Stream = Type.Boolean({ description: 'NDJSON progress lines (default true); false answers one object at the end.' });

export const PullBody = Type.Object({
  model: Type.Optional(PullName),
  name: Type.Optional(DeprecatedPullName),
  insecure: Type.Optional(Type.Boolean({ description: 'Accepted and ignored: the hub endpoint is HF_ENDPOINT.' })),
  stream: Type.Optional(Stream),
});
export type PullBody = Static<typeof PullBody>;

export const PushBody = Type.Object({
  model: Type.Optional(ModelName),
  name: Type.Optional(DeprecatedName),
  insecure: Type.Optional(Type.Boolean({ description: 'Accepted and ignored: nothing is pushed.' })),
  stream: Type.Optional(Stream),
});

/** One line of a pull or create stream, and the single answer with `stream:false`. */
export const ProgressLine = Type.Object(
  {
    status: Type.String({
      description: '`pulling manifest`, `pulling <digest>`, `verifying sha256 digest`, `writing manifest`, `success`…',
    }),
    digest: Type.Optional(Type.String({ description: 'sha256:<hex> of the file the line is about.' })),
    total: Type.Optional(Type.Integer({ description: 'Bytes of that file.' })),
    completed: Type.Optional(Type.Integer({ description: 'Bytes of it stored so far.' })),
  },
  { description: 'NDJSON line (application/x-ndjson) when streaming; a failure after the first line is one more line `{"error":"…"}`.' },
);

export const DeleteBody = Type.Object({ model: Type.Optional(ModelName), name: Type.Optional(DeprecatedName) });
export type DeleteBody = Static<typeof DeleteBody>;

export const CopyBody = Type.Object({
  source: ModelName,
  destination: ModelNameString({ ...NAME_LIMITS, description: 'A new name, or `sourcename:tag` for an alias.' }),
});
export type CopyBody = Static<typeof CopyBody>;

export const CreateBody = Type.Object({
  model: ModelName,
  from: Type.Optional(
    ModelNameString({ ...NAME_LIMITS, description: 'An existing model to build on (its files are shared, not copied).' }),
  ),
  files: Type.Optional(
    Type.Record(Type.String({ minLength: 1, maxLength: 512 }), Type.String({ pattern: '^sha256:[0-9a-f]{64}$' }), {
      description: 'File name -> digest of a blob uploaded with POST /api/blobs/sha256:<digest>, e.g. {"model.gguf": "sha256:…"}.',
    }),
  ),
  adapters: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'LoRA adapters: not available (501).' })),
  template: Type.Optional(Type.String({ maxLength: 65536 })),
  license: Type.Optional(Type.Union([Type.String({ maxLength: 262144 }), Type.Array(Type.String({ maxLength: 262144 }))])),
  system: Type.Optional(Type.String({ maxLength: 65536 })),
  parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  messages: Type.Optional(Type.Array(Type.Record(Type.String(), Type.Unknown()), { maxItems: 1000 })),
  quantize: Type.Optional(
    Type.String({
      maxLength: 32,
      description: 'Quantize the source into the new version: q4_K_M, q4_0, q5_K_M, q6_K, q8_0, f16 (GGUF); fp16, q8 (ONNX).',
    }),
  ),
  stream: Type.Optional(Stream),
});
export type CreateBody = Static<typeof CreateBody>;

export const BlobParams = Type.Object({
  digest: Type.String({ pattern: '^sha256:[0-9a-f]{64}$', description: 'sha256:<64 hex digits> of the bytes.' }),
});
export type BlobParams = Static<typeof BlobParams>;

export const EmptyBody = Type.Null({ description: 'No body.' });
