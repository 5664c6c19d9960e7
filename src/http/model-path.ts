// Lets model names with `/` (e.g. sentence-transformers/all-MiniLM-L6-v2) travel unencoded in URL paths.
import { RESERVED_FIRST_SEGMENTS } from '../registry/model-name.ts';

const MODEL_PREFIXES = ['/api/v1/models/', '/models/', '/v1/models/'];

/** Words that follow a model name in a path: `/models/{name}/load`, `/models/{name}/versions/3`… */
const ACTION_SEGMENTS = new Set([
  'load',
  'unload',
  'reload',
  'status',
  'metrics',
  'versions',
  'promote',
  'production',
  'compare',
  'deployment-history',
  'rollback',
  'aliases',
  'validate',
  'events',
  'integrity',
  'quantize',
]);

/** Collection routes whose remainder is a single name: `/api/v1/models/status/{name}`, `/validate/{name}`, `/info/{repo}`. */
const NAME_AFTER_COLLECTION = new Set(['status', 'validate', 'info']);

/**
 * Rewrites `/api/v1/models/org/name/load` to `/api/v1/models/org%2Fname/load` so the router sees one
 * path parameter. The name runs up to the first action word; a name containing an action word as a
 * segment can still be sent with `%2F`.
 */
export function rewriteModelPath(url: string): string {
  const prefix = MODEL_PREFIXES.find((p) => url.startsWith(p));
  if (!prefix) return url;
  const queryAt = url.indexOf('?');
  const pathPart = queryAt === -1 ? url : url.slice(0, queryAt);
  const query = queryAt === -1 ? '' : url.slice(queryAt);
  const segments = pathPart.slice(prefix.length).split('/');
  const [firstSegment] = segments;
  if (firstSegment === undefined || segments.length < 2) return url;
  const first = firstSegment.toLowerCase();
  if (RESERVED_FIRST_SEGMENTS.has(first)) {
    if (NAME_AFTER_COLLECTION.has(first) && segments.length > 2) {
      return `${prefix}${firstSegment}/${segments.slice(1).join('%2F')}${query}`;
    }
    return url;
  }
  let end = segments.findIndex((segment, i) => i > 0 && ACTION_SEGMENTS.has(segment));
  if (end === -1) end = segments.length;
  if (end === 1) return url;
  return `${prefix}${segments.slice(0, end).join('%2F')}${end < segments.length ? '/' : ''}${segments.slice(end).join('/')}${query}`;
}
