// Reads request bodies as Ollama's Go server does: JSON whatever the content type, and `null` fields as absent.
import type { FastifyInstance } from 'fastify';

/** Plain JSON objects only: a route that takes the raw body stream (blob uploads) keeps its stream. */
const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

/** The object without its null fields (Go decodes `null` into the zero value, i.e. "not given"), `options` included. */
function withoutNulls(body: Record<string, unknown>): Record<string, unknown> {
  const kept = Object.entries(body).filter(([, value]) => value !== null);
  return Object.fromEntries(kept.map(([key, value]) => [key, key === 'options' && isRecord(value) ? withoutNulls(value) : value]));
}

/**
 * For the routes of `app` only (Hangar's own API keeps answering 415 to non-JSON bodies and 400 to nulls): Ollama's docs
 * use `curl -d` (a form content type), fetch without headers sends text/plain, Python's requests with data= sends none.
 * A route here that takes another kind of body (blob uploads) registers its own parser for that type in its own plugin.
 */
export function readBodiesAsOllamaDoes(app: FastifyInstance): void {
  app.addContentTypeParser('*', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
  app.addHook('preValidation', async (request) => {
    if (isRecord(request.body)) request.body = withoutNulls(request.body);
  });
}
