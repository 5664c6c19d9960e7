// Schemas of the model catalog: models, versions, manifests, import and delete.
import { Type, type Static } from 'typebox';
import { ModelNameString, NextPageToken, PageQuery, Nullable } from './common.ts';
import { MODEL_FORMATS } from '../model-shape/model-shape.ts';

export const ModelFormat = Type.Enum(MODEL_FORMATS);

export const ManifestFile = Type.Object({
  path: Type.String(),
  size_bytes: Type.Integer(),
  sha256: Type.String(),
});

export const VersionManifest = Type.Object({
  entry: Type.String({ description: 'The file a runtime opens first.' }),
  files: Type.Array(ManifestFile),
});
export type VersionManifest = Static<typeof VersionManifest>;

export const VersionInfo = Type.Object({
  model: Type.String(),
  version: Type.Integer(),
  format: ModelFormat,
  size_bytes: Type.Integer(),
  architecture: Nullable(Type.String()),
  parameter_count: Nullable(Type.Integer()),
  context_length: Nullable(Type.Integer()),
  quantization: Nullable(Type.String()),
  aliases: Type.Array(Type.String()),
  manifest: VersionManifest,
  metadata: Type.Record(Type.String(), Type.Unknown()),
  source: Type.Record(Type.String(), Type.Unknown()),
  description: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  created_by: Type.String(),
  created_at: Type.String(),
  metrics: Type.Record(Type.String(), Type.Number(), { description: 'Evaluation metrics, e.g. accuracy.' }),
  parameters: Type.Record(Type.String(), Type.Unknown(), { description: 'Hyperparameters.' }),
  feature_names: Type.Array(Type.String()),
  training: Type.Record(Type.String(), Type.Unknown(), { description: 'Training facts: dataset version, duration…' }),
});
export type VersionInfo = Static<typeof VersionInfo>;

export const ModelSummary = Type.Object({
  name: Type.String(),
  description: Nullable(Type.String()),
  tags: Type.Array(Type.String()),
  version_count: Type.Integer(),
  latest_version: Nullable(Type.Integer()),
  production_version: Nullable(Type.Integer()),
  format: Nullable(ModelFormat),
  size_bytes: Nullable(Type.Integer()),
  quantization: Nullable(Type.String()),
  architecture: Nullable(Type.String()),
  parameter_count: Nullable(Type.Integer()),
  context_length: Nullable(Type.Integer()),
  embedding_length: Nullable(Type.Integer()),
  demo: Type.Boolean({ description: 'One of the tiny generated demo models.' }),
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type ModelSummary = Static<typeof ModelSummary>;

export const ModelDetail = Type.Intersect([
  ModelSummary,
  Type.Object({
    aliases: Type.Record(Type.String(), Type.Integer(), { description: 'Alias name -> version number.' }),
    versions: Type.Array(VersionInfo, { description: 'Newest first.' }),
    resolved_version: Nullable(Type.Integer({ description: 'The version `name[:ref]` resolves to.' })),
  }),
]);
export type ModelDetail = Static<typeof ModelDetail>;

export const ModelListQuery = Type.Object({
  name: Type.Optional(Type.String({ maxLength: 128, description: 'Case-insensitive substring of the name.' })),
  tag: Type.Optional(Type.String({ maxLength: 64 })),
  format: Type.Optional(ModelFormat),
  ...PageQuery,
});
export type ModelListQuery = Static<typeof ModelListQuery>;

export const ModelList = Type.Object({
  models: Type.Array(ModelSummary),
  total: Type.Integer({ description: 'Models matching the filters, over all pages.' }),
  next_page_token: NextPageToken,
});

export const ImportRequest = Type.Object(
  {
    name: ModelNameString({ minLength: 1, maxLength: 128, description: 'name or name:tag (the tag becomes an alias).' }),
    path: Type.String({ minLength: 1, maxLength: 4096, description: 'A folder or file on the server.' }),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 })),
    metadata: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'Stored with the version.' })),
  },
  { additionalProperties: false },
);
export type ImportRequest = Static<typeof ImportRequest>;

export const DeleteResult = Type.Object({
  deleted: Type.String(),
  versions_removed: Type.Integer(),
  blobs_removed: Type.Integer(),
  bytes_freed: Type.Integer(),
});
export type DeleteResult = Static<typeof DeleteResult>;

export const DeleteQuery = Type.Object({
  force: Type.Optional(
    Type.Boolean({
      default: false,
      description: 'Unload the model (or version) first when it is loaded, instead of answering 409 model_loaded.',
    }),
  ),
});
export type DeleteQuery = Static<typeof DeleteQuery>;

export const ModelNameParams = Type.Object({
  name: ModelNameString({ description: 'Model name, optionally name:ref. `/` may be sent as is or as %2F.' }),
});
