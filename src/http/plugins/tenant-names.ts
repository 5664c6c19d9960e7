// Keeps a tenant's caller inside its tenant: model names it sends are qualified with the tenant, names it reads lose the prefix.
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { MODEL_NAME_KEYWORD } from '../../schemas/common.ts';

type RequestPart = 'params' | 'querystring' | 'body';
const PARTS: RequestPart[] = ['params', 'querystring', 'body'];

interface JsonSchemaLike {
  properties?: Record<string, Record<string, unknown>>;
  anyOf?: JsonSchemaLike[];
  oneOf?: JsonSchemaLike[];
}

/** Top-level properties marked as model names, through unions (a body that may also be null). */
function markedFields(schema: JsonSchemaLike | undefined): string[] {
  if (!schema || typeof schema !== 'object') return [];
  const own = Object.entries(schema.properties ?? {})
    .filter(([, property]) => property?.[MODEL_NAME_KEYWORD] === true)
    .map(([name]) => name);
  const members = [...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].flatMap(markedFields);
  return [...new Set([...own, ...members])];
}

function qualifyFields(request: FastifyRequest, part: RequestPart, fields: string[]): void {
  const holder = (part === 'params' ? request.params : part === 'querystring' ? request.query : request.body) as Record<
    string,
    unknown
  > | null;
  if (!holder || typeof holder !== 'object') return;
  for (const field of fields) {
    const value = holder[field];
    if (typeof value === 'string') holder[field] = request.scope.qualify(value);
  }
}

async function tenantNamesPlugin(app: FastifyInstance): Promise<void> {
  app.addHook('onRoute', (route) => {
    const schema = (route.schema ?? {}) as Partial<Record<RequestPart, JsonSchemaLike>>;
    const found: Partial<Record<RequestPart, string[]>> = {};
    for (const part of PARTS) {
      const fields = markedFields(schema[part]);
      if (fields.length > 0) found[part] = fields;
    }
    if (Object.keys(found).length > 0) {
      route.config ??= {};
      (route.config as { modelNameFields?: typeof found }).modelNameFields = found;
    }
  });

  // After validation (the caller's names are checked as sent), before the handler reads them.
  app.addHook('preHandler', async (request) => {
    if (request.scope.isSystem) return;
    const fields = request.routeOptions.config?.modelNameFields;
    if (!fields) return;
    for (const part of PARTS) {
      const names = fields[part];
      if (names) qualifyFields(request, part, names);
    }
  });

  // Replies (errors included) name the caller's models as it knows them.
  app.addHook('preSerialization', async (request, _reply, payload) => request.scope.displayValue(payload));
}

export default fp(tenantNamesPlugin, { name: 'hangar-tenant-names', dependencies: ['hangar-auth'] });
