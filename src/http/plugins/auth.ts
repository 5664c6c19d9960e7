// API-key authentication, role checks and the caller's tenant scope: every route declares its role; a route without one stops start-up.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { HangarError } from '../../errors.ts';
import { roleAllows, type Role } from '../../auth/roles.ts';
import type { ApiKeyService } from '../../auth/api-keys.ts';
import type { Settings } from '../../config/settings.ts';
import { TenantScope } from '../../tenants/tenant-scope.ts';
import { ErrorResponse } from '../../schemas/common.ts';

export interface AuthOptions {
  keys: ApiKeyService;
  settings: Settings;
}

/** Routes other plugins register (Swagger UI) are public documentation. */
const DOCUMENTATION = /^\/docs(\/|$)|^\/openapi\.json$/;

/**
 * Every keyed route can answer 401 (no or bad key) and 403 (weaker role, or a tenant's key on a system route): they
 * are added to its declared responses, in the shape its other errors have (the compatible surfaces have their own).
 */
function declareRefusals(route: { schema?: { response?: unknown } }): void {
  if (!route.schema) return;
  const responses = (route.schema.response ?? {}) as Record<string, unknown>;
  const dialect = Object.entries(responses).find(([status]) => /^[45]/.test(status))?.[1] ?? ErrorResponse;
  for (const status of ['401', '403']) if (!(status in responses) && !(Number(status) in responses)) responses[status] = dialect;
  route.schema.response = responses;
}

async function authPlugin(app: FastifyInstance, options: AuthOptions): Promise<void> {
  app.decorateRequest('role', null);
  app.decorateRequest('keyId', null);
  // Every request starts with the system view; a tenant's key narrows it below.
  app.decorateRequest('scope', {
    getter() {
      return (this as unknown as { tenantScope?: TenantScope }).tenantScope ?? TenantScope.system();
    },
    setter(value: TenantScope) {
      (this as unknown as { tenantScope?: TenantScope }).tenantScope = value;
    },
  });

  app.addHook('onRoute', (route) => {
    route.config ??= {};
    const config = route.config as { role?: string };
    // Documentation, and CORS preflights (browsers send them without credentials), are public.
    if (DOCUMENTATION.test(route.url) || route.method === 'OPTIONS') config.role ??= 'public';
    if (!config.role) throw new Error(`Route ${String(route.method)} ${route.url} declares no role (config.role): every route must`);
    if (config.role !== 'public') declareRefusals(route);
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
      if (principal.tenant !== null) request.scope = TenantScope.of(principal.tenant);
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
    if (request.routeOptions.config?.system && principal.tenant !== null) {
      throw new HangarError('forbidden', `This is system-wide; key "${principal.name}" belongs to tenant "${principal.tenant}"`, {
        required: 'system key',
        tenant: principal.tenant,
      });
    }
  });
}

export default fp(authPlugin, { name: 'hangar-auth' });
