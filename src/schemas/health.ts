// Schemas of the health endpoints (seed 000's /health shape plus liveness and readiness).
import { Type, type Static } from 'typebox';

export const HealthStatus = Type.Union([Type.Literal('healthy'), Type.Literal('degraded')]);

export const HealthResponse = Type.Object({
  status: HealthStatus,
  management_api_version: Type.Optional(Type.String()),
  uptime: Type.Optional(Type.String({ description: 'Human form, e.g. "2h 15m".' })),
  uptime_seconds: Type.Optional(Type.Integer()),
  models_managed: Type.Optional(Type.Integer()),
  version: Type.Optional(Type.String({ description: 'Hangar build version.' })),
  database: Type.Optional(Type.Object({ dialect: Type.String(), ok: Type.Boolean(), schema_version: Type.String() })),
  reasons: Type.Optional(Type.Array(Type.String(), { description: 'Why status is degraded.' })),
  warnings: Type.Optional(Type.Array(Type.String(), { description: 'Unsafe settings, e.g. listening beyond localhost with auth off.' })),
});
export type HealthResponse = Static<typeof HealthResponse>;

export const ProbeResponse = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  reasons: Type.Optional(Type.Array(Type.String())),
});
