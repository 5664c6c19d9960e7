// Schemas of the audit log listing.
import { TenantNameString } from './auth.ts';
import { Type } from 'typebox';
import { NextPageToken, PageQuery } from './common.ts';

export const AuditEventSchema = Type.Object({
  id: Type.String(),
  at: Type.String(),
  actor: Type.String(),
  action: Type.String(),
  target: Type.String(),
  outcome: Type.Union([Type.Literal('success'), Type.Literal('failure')]),
  request_id: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  tenant: Type.String({ description: "The tenant whose log holds it: the tenant of the model it names, else the caller's." }),
});

export const AuditQuerySchema = Type.Object({
  actor: Type.Optional(Type.String({ maxLength: 128 })),
  action: Type.Optional(Type.String({ maxLength: 64, description: 'e.g. model.import, model.delete' })),
  target: Type.Optional(Type.String({ maxLength: 256 })),
  outcome: Type.Optional(Type.Union([Type.Literal('success'), Type.Literal('failure')])),
  tenant: Type.Optional(TenantNameString({ description: "Only this tenant's events (a tenant key sees its own tenant's only)." })),
  since: Type.Optional(Type.String({ format: 'date-time' })),
  until: Type.Optional(Type.String({ format: 'date-time' })),
  ...PageQuery,
});

export const AuditList = Type.Object({ events: Type.Array(AuditEventSchema), next_page_token: NextPageToken });
