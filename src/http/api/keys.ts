// API key management (admin): create (the key is shown once), list, revoke; and who the caller is (for the dashboard).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { HangarContext } from '../context.ts';
import { errorResponses } from '../../schemas/common.ts';
import { actionContext } from '../request-context.ts';
import { ApiRole, KeyInfo, WhoAmI } from '../../schemas/auth.ts';

const Role = ApiRole;

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
    }),
  );

  r.post(
    '/api/v1/keys',
    {
      config: { role: 'admin', audit: 'key.create' },
      schema: {
        tags: ['keys'],
        description:
          'Creates an API key with a name, a role (viewer: read; operator: load/unload/reload, inference, imports; admin: configuration, keys, deletes, promotion) and an optional expiry. The key is in this reply only; Hangar keeps a salted hash.',
        body: Type.Object(
          {
            name: Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9 ._@-]*$' }),
            role: Role,
            expires_at: Type.Optional(Type.String({ format: 'date-time' })),
          },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ ...KeyInfo.properties, key: Type.String() }), ...errorResponses(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.status(201).send(await ctx.keys.create(request.body, actionContext(request))),
  );

  r.get(
    '/api/v1/keys',
    {
      config: { role: 'admin' },
      schema: {
        tags: ['keys'],
        description: 'All API keys, newest first, without their secrets.',
        response: { 200: Type.Object({ keys: Type.Array(KeyInfo) }), ...errorResponses(401, 403) },
      },
    },
    async () => ({ keys: await ctx.keys.list() }),
  );

  r.delete(
    '/api/v1/keys/:id',
    {
      config: { role: 'admin', audit: 'key.revoke' },
      schema: {
        tags: ['keys'],
        description: 'Revokes a key (by id, or the active key of that name). It stops working at once.',
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }),
        response: { 200: KeyInfo, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => ctx.keys.revoke(request.params.id, actionContext(request)),
  );
}
