// Schemas of the registry routes: version and alias parameters, promotion and rollback, history, comparison, statistics.
import { Type, type Static } from 'typebox';
import { ModelNameString, NextPageToken, Nullable } from './common.ts';
import { VersionInfo } from './models.ts';

export const VersionParams = Type.Object({
  name: ModelNameString(),
  version: Type.String({ maxLength: 64, description: 'Version number or alias.' }),
});
export const AliasParams = Type.Object({ name: ModelNameString(), alias: Type.String({ maxLength: 64 }) });

const VersionTags = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 });

export const VersionList = Type.Object({
  model: Type.String(),
  versions: Type.Array(VersionInfo),
  total: Type.Integer(),
  next_page_token: NextPageToken,
});
export type VersionList = Static<typeof VersionList>;

/** A new version from a folder or file on the server (POST /api/v1/models/:name/versions). */
export const CreateVersionRequest = Type.Object(
  {
    path: Type.String({ minLength: 1, maxLength: 4096 }),
    description: Type.Optional(Type.String({ maxLength: 4096 })),
    tags: Type.Optional(VersionTags),
    metrics: Type.Optional(Type.Record(Type.String(), Type.Number())),
    parameters: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    feature_names: Type.Optional(Type.Array(Type.String(), { maxItems: 10_000 })),
    training: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), { description: 'e.g. {"dataset_version":"2024-06","duration_s":3600}' }),
    ),
    lineage: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { description: 'e.g. {"run_id":"…","source_uri":"…"}' })),
  },
  { additionalProperties: false },
);
export type CreateVersionRequest = Static<typeof CreateVersionRequest>;

/** The only mutable fields of a version. */
export const UpdateVersionRequest = Type.Object(
  { description: Type.Optional(Nullable(Type.String({ maxLength: 4096 }))), tags: Type.Optional(VersionTags) },
  { additionalProperties: false },
);
export type UpdateVersionRequest = Static<typeof UpdateVersionRequest>;

/** Compare-and-set with `expected_current_version`: the production version the caller believes is current (null: none). */
export const PromoteRequest = Type.Object(
  {
    user_id: Type.Optional(Type.String({ maxLength: 128 })),
    reason: Type.Optional(Type.String({ maxLength: 4096 })),
    expected_current_version: Type.Optional(Nullable(Type.Integer({ minimum: 1 }))),
  },
  { additionalProperties: false },
);
export type PromoteRequest = Static<typeof PromoteRequest>;

export const RollbackRequest = Type.Omit(PromoteRequest, ['expected_current_version'], { additionalProperties: false });
export type RollbackRequest = Static<typeof RollbackRequest>;

export const PromotionAction = Type.Union([Type.Literal('promote'), Type.Literal('rollback')]);
export type PromotionAction = Static<typeof PromotionAction>;

/** The reply to a promotion or rollback. */
export const Promotion = Type.Object({
  model: Type.String(),
  production_version: Type.Integer(),
  previous_version: Nullable(Type.Integer()),
  changed: Type.Boolean(),
  action: PromotionAction,
  swapped: Type.Boolean({ description: 'The loaded model now serves the new version.' }),
});
export type Promotion = Static<typeof Promotion>;

/** What the registry's promotion gives; whether a loaded model switched (`swapped`) is the deployment's to add. */
export const PromotionResult = Type.Omit(Promotion, ['swapped']);
export type PromotionResult = Static<typeof PromotionResult>;

export const ProductionVersion = Type.Intersect([
  VersionInfo,
  Type.Object({ promoted_at: Nullable(Type.String()), promoted_by: Nullable(Type.String()) }),
]);
export type ProductionVersion = Static<typeof ProductionVersion>;

export const SetAliasRequest = Type.Object(
  { version: Type.Union([Type.Integer({ minimum: 1 }), Type.String({ maxLength: 64 })]) },
  { additionalProperties: false },
);
export type SetAliasRequest = Static<typeof SetAliasRequest>;

export const AliasInfo = Type.Object({ model: Type.String(), alias: Type.String(), version: Type.Integer() });
export type AliasInfo = Static<typeof AliasInfo>;

export const AliasDeleted = Type.Object({ model: Type.String(), alias: Type.String(), deleted: Type.Boolean() });
export type AliasDeleted = Static<typeof AliasDeleted>;

export const CompareQuery = Type.Object({
  versions: Type.Optional(Type.String({ pattern: '^[0-9]+(,[0-9]+)*$' })),
  metric: Type.Optional(Type.String({ maxLength: 128 })),
  order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'desc' })),
});

export const VersionComparison = Type.Object({
  model: Type.String(),
  metric: Nullable(Type.String()),
  order: Type.String(),
  best: Nullable(Type.Integer()),
  versions: Type.Array(
    Type.Object({
      version: Type.Integer(),
      metrics: Type.Record(Type.String(), Type.Number()),
      value: Nullable(Type.Number()),
      created_at: Type.String(),
      quantization: Nullable(Type.String()),
      size_bytes: Type.Integer(),
    }),
  ),
});
export type VersionComparison = Static<typeof VersionComparison>;

/** One promotion, demotion, rollback or live swap. */
export const HistoryEntry = Type.Object({
  seq: Type.Integer(),
  action: Type.String(),
  from_version: Nullable(Type.Integer()),
  to_version: Nullable(Type.Integer()),
  actor: Type.String(),
  reason: Nullable(Type.String()),
  at: Type.String(),
});
export type HistoryEntry = Static<typeof HistoryEntry>;

export const DeploymentHistory = Type.Object({ model: Type.String(), events: Type.Array(HistoryEntry), next_page_token: NextPageToken });
export type DeploymentHistory = Static<typeof DeploymentHistory>;

export const RegistryStatistics = Type.Object({
  total_models: Type.Integer(),
  total_versions: Type.Integer(),
  models_in_production: Type.Integer(),
  average_versions_per_model: Type.Number(),
  average_production_metrics: Type.Record(Type.String(), Type.Number()),
  versions_by_format: Type.Record(Type.String(), Type.Integer()),
});
export type RegistryStatistics = Static<typeof RegistryStatistics>;

/** Seed 003's version check. */
export const ValidateVersionRequest = Type.Object(
  {
    model_name: Type.Optional(ModelNameString({ maxLength: 128 })),
    version: Type.Union([Type.String({ maxLength: 128 }), Type.Integer()]),
  },
  { additionalProperties: false },
);
export type ValidateVersionRequest = Static<typeof ValidateVersionRequest>;

export const VersionValidation = Type.Object({
  valid: Type.Boolean(),
  reason: Nullable(Type.String()),
  resolved_version: Nullable(Type.Integer()),
});
export type VersionValidation = Static<typeof VersionValidation>;
