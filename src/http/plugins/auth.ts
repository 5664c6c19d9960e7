// API-key authentication and role checks: every route declares its role; a route without one stops start-up.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { HangarError } from '../../errors.ts';
import { roleAllows, type Role } from '../../auth/roles.ts';
import type { ApiKeyService } from '../../auth/api-keys.ts';
import type { Settings } from '../../config/settings.ts';

export interface AuthOptions {
  keys: ApiKeyService;
  settings: Settings;
}

/** Routes other plugins register (Swagger UI) are public documentation. */
const DOCUMENTATION = /^\/docs(\/|$)|^\/openapi\.json$/;

async function authPlugin(app: FastifyInstance, options: AuthOptions): Promise<void> {
  app.decorateRequest('role', null);
  app.decorateRequest('keyId', null);

  app.addHook('onRoute', (route) => {
    route.config ??= {};
    const config = route.config as { role?: string };
    // Documentation, and CORS preflights (browsers send them without credentials), are public.
    if (DOCUMENTATION.test(route.url) || route.method === 'OPTIONS') config.role ??= 'public';
    if (!config.role) throw new Error(`Route ${String(route.method)} ${route.url} declares no role (config.role): every route must`);
  });

  app.addHook('onRequest', async (request) => {
    const access = request.routeOptions.config?.role;
    if (!access) return; // unknown route: the 404 handler answers
    if (!options.settings.current.management_auth_enabled) {
      request.role = 'admin';
      return;
    }
    const header = request.headers.authorization;
    const token = typeof header === 'string' && /^Bearer /i.test(header) ? header.slice(7).trim() : undefined;
    const principal = token ? await options.keys.verify(token) : null;
    if (principal) {
      request.actor = principal.name;
      request.role = principal.role;
      request.keyId = principal.keyId;
    }
    if (access === 'public') return;
    if (!header) throw new HangarError('unauthorized', 'An API key is required: send Authorization: Bearer <key>');
    if (!principal) throw new HangarError('unauthorized', 'The API key is invalid, expired or revoked');
    if (!roleAllows(principal.role as Role, access)) {
      throw new HangarError('forbidden', `This needs the ${access} role; key "${principal.name}" has ${principal.role}`, {
        required_role: access,
        role: principal.role,
      });
    }
  });
}

export default fp(authPlugin, { name: 'hangar-auth' });
