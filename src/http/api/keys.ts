// API key management (admin): create (the key is shown once), list, revoke; and who the caller is (for the dashboard).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { HangarContext } from '../context.ts';
import { errorResponses } from '../../schemas/common.ts';
import { actionContext } from '../request-context.ts';
import { CreateKeyRequest, CreatedKey, KeyIdParams, KeyInfo, RotateKeyRequest, WhoAmI } from '../../schemas/auth.ts';
import { DEFAULT_ROTATION_GRACE_SECONDS } from '../../auth/api-keys.ts';

export default async function keyRoutes(app: FastifyInstance, ctx: HangarContext): Promise<void> {
  const r = app.withTypeProvider<TypeBoxTypeProvider>();

  r.get(
    '/api/v1/auth/whoami',
    {
      config: { role: 'public' },
      schema: {
        tags: ['keys'],
        description: 'Who the caller is and what its key may do, so a client (the dashboard) shows only what that role allows.',
        response: { 200: WhoAmI },
      },
    },
    async (request) => ({
      auth_enabled: ctx.settings.current.management_auth_enabled,
      actor: request.actor,
      role: request.role,
      tenant: request.scope.tenant,
    }),
  );

  r.post(
    '/api/v1/keys',
    {
      config: { role: 'admin', audit: 'key.create' },
      schema: {
        tags: ['keys'],
        description:
          'Creates an API key with a name, a role (viewer: read; operator: load/unload/reload, inference, imports; admin: configuration, keys, deletes, promotion), a tenant and an optional expiry. A tenant admin makes keys of its own tenant only; a system admin names `tenant` (or leaves it out for a system key). The key is in this reply only; Hangar keeps a salted hash.',
        body: CreateKeyRequest,
        response: { 201: CreatedKey, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request, reply) => reply.status(201).send(await ctx.keys.create(request.body, actionContext(request), request.scope)),
  );

  r.get(
    '/api/v1/keys',
    {
      config: { role: 'admin' },
      schema: {
        tags: ['keys'],
        description: "All API keys (a tenant admin: its tenant's), newest first, without their secrets.",
        response: { 200: Type.Object({ keys: Type.Array(KeyInfo) }), ...errorResponses(401, 403) },
      },
    },
    async (request) => ({ keys: await ctx.keys.list(request.scope) }),
  );

  r.delete(
    '/api/v1/keys/:id',
    {
      config: { role: 'admin', audit: 'key.revoke' },
      schema: {
        tags: ['keys'],
        description: 'Revokes a key (by id, or the active key of that name). It stops working at once.',
        params: KeyIdParams,
        response: { 200: KeyInfo, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => ctx.keys.revoke(request.params.id, actionContext(request), request.scope),
  );

  r.post(
    '/api/v1/keys/:id/rotate',
    {
      config: { role: 'admin', audit: 'key.rotate' },
      schema: {
        tags: ['keys'],
        description:
          'Gives a key a new secret (same id, name, role and tenant). The old secret keeps working for `grace_seconds` (default one day) so clients can switch without an outage. The new key is in this reply only.',
        params: KeyIdParams,
        body: Type.Optional(RotateKeyRequest),
        response: { 200: CreatedKey, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      ctx.keys.rotate(
        request.params.id,
        request.body?.grace_seconds ?? DEFAULT_ROTATION_GRACE_SECONDS,
        actionContext(request),
        request.scope,
      ),
  );
}
