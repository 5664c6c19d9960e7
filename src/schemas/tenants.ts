// Schemas of the tenants API: a tenant with its quotas and current use, and the bodies that create and change one.
import { Type, type Static } from 'typebox';
import { Nullable } from './common.ts';
import { TenantNameString } from './auth.ts';

const limit = (description: string) => Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });

/** Every quota is optional: a missing one is unlimited. */
const quotaFields = {
  models: limit('Models the tenant may hold.'),
  stored_bytes: limit('Bytes of the distinct files its versions reference (files shared with other tenants count for each).'),
  loaded_models: limit('Models loaded at once.'),
  ram_mb: limit('MiB of RAM its loaded models may hold (estimated before a load, measured after).'),
  vram_mb: limit('MiB of GPU memory its loaded models may hold.'),
  requests_per_minute: limit('API requests per minute, all its keys together.'),
  inference_per_minute: limit('Inference requests per minute, all its keys together.'),
  concurrent_downloads: limit('Hub downloads queued or running at once.'),
};

export const TenantQuotas = Type.Object(
  Object.fromEntries(Object.entries(quotaFields).map(([name, schema]) => [name, Type.Optional(schema)])) as {
    [K in keyof typeof quotaFields]: ReturnType<typeof Type.Optional<(typeof quotaFields)[K]>>;
  },
  { additionalProperties: false },
);

/** In a change, `null` removes a quota. */
export const TenantQuotaChange = Type.Object(
  Object.fromEntries(Object.entries(quotaFields).map(([name, schema]) => [name, Type.Optional(Nullable(schema))])) as {
    [K in keyof typeof quotaFields]: ReturnType<typeof Type.Optional<ReturnType<typeof Nullable<(typeof quotaFields)[K]>>>>;
  },
  { additionalProperties: false },
);

export const TenantUsage = Type.Object({
  models: Type.Integer(),
  stored_bytes: Type.Integer(),
  loaded_models: Type.Integer(),
  ram_mb: Type.Number(),
  vram_mb: Type.Number(),
  concurrent_downloads: Type.Integer(),
});

export const TenantInfo = Type.Object({
  name: Type.String(),
  description: Nullable(Type.String()),
  quotas: TenantQuotas,
  usage: TenantUsage,
  created_at: Type.String(),
  updated_at: Type.String(),
});
export type TenantInfo = Static<typeof TenantInfo>;

export const CreateTenantRequest = Type.Object(
  {
    name: TenantNameString({ description: 'Lower-case letters, digits and "-", at most 30 characters.' }),
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    quotas: Type.Optional(TenantQuotas),
  },
  { additionalProperties: false },
);

export const UpdateTenantRequest = Type.Object(
  { description: Type.Optional(Nullable(Type.String({ maxLength: 1024 }))), quotas: Type.Optional(TenantQuotaChange) },
  { additionalProperties: false },
);

export const TenantParams = Type.Object({ tenant: TenantNameString() });
