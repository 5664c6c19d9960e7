// Schemas of who is calling: the caller's identity and role (the dashboard shows only what that role allows).
import { Type, type Static } from 'typebox';
import { Nullable } from './common.ts';
import { KEY_NAME_PATTERN } from './names.ts';

export const ApiRole = Type.Union([Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin')]);

export const WhoAmI = Type.Object({
  auth_enabled: Type.Boolean({ description: 'Whether API keys are required (MANAGEMENT_AUTH_ENABLED).' }),
  actor: Type.String({ description: "The key's name, or anonymous." }),
  /** The caller's role: its key's with auth on (null without a valid key), admin with auth off. */
  role: Nullable(ApiRole),
  tenant: Nullable(Type.String({ description: "The key's tenant; null for a system key (and with auth off)." })),
});
export type WhoAmI = Static<typeof WhoAmI>;

/** An API key as the list and revoke replies show it (never its secret). */
export const KeyInfo = Type.Object({
  id: Type.String(),
  name: Type.String(),
  role: ApiRole,
  created_at: Type.String(),
  created_by: Type.String(),
  expires_at: Nullable(Type.String()),
  revoked_at: Nullable(Type.String()),
  last_used_at: Nullable(Type.String()),
  tenant: Nullable(Type.String({ description: 'The tenant the key acts in; null for a system key.' })),
  rotated_at: Nullable(Type.String()),
  previous_valid_until: Nullable(Type.String({ description: 'Until when the secret from before the last rotation still works.' })),
});
export type KeyInfo = Static<typeof KeyInfo>;

/** Tenant names in request bodies and paths (src/tenants/tenant-names.ts checks the same rule and says why). */
export const TenantNameString = (options: Parameters<typeof Type.String>[0] = {}) =>
  Type.String({ minLength: 1, maxLength: 30, pattern: '^[a-z0-9][a-z0-9-]*$', ...options });

export const CreatedKey = Type.Object({ ...KeyInfo.properties, key: Type.String({ description: 'The key itself: shown this once.' }) });

export const RotateKeyRequest = Type.Union([
  Type.Object(
    {
      grace_seconds: Type.Optional(
        Type.Integer({
          minimum: 0,
          maximum: 30 * 24 * 3600,
          description: 'How long the old secret keeps working (default 86400, one day; 0 ends it now).',
        }),
      ),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);

/** POST /api/v1/keys. */
export const CreateKeyRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 128, pattern: KEY_NAME_PATTERN }),
    role: ApiRole,
    expires_at: Type.Optional(Type.String({ format: 'date-time' })),
    tenant: Type.Optional(TenantNameString({ description: "The key's tenant; default the caller's (none for a system caller)." })),
  },
  { additionalProperties: false },
);
export type CreateKeyRequest = Static<typeof CreateKeyRequest>;

/** DELETE /api/v1/keys/{id}: a key id, or the name of an active key (ids fit the name rule). */
export const KeyIdParams = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 128, pattern: KEY_NAME_PATTERN, description: 'Key id, or the name of an active key.' }),
});
