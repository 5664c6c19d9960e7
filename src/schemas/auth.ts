// Schemas of who is calling: the caller's identity and role (the dashboard shows only what that role allows).
import { Type, type Static } from 'typebox';
import { Nullable } from './common.ts';

export const ApiRole = Type.Union([Type.Literal('viewer'), Type.Literal('operator'), Type.Literal('admin')]);

export const WhoAmI = Type.Object({
  auth_enabled: Type.Boolean({ description: 'Whether API keys are required (MANAGEMENT_AUTH_ENABLED).' }),
  actor: Type.String({ description: "The key's name, or anonymous." }),
  /** The caller's role: its key's with auth on (null without a valid key), admin with auth off. */
  role: Nullable(ApiRole),
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
});
export type KeyInfo = Static<typeof KeyInfo>;
