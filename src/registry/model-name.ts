// Model names and references: `org/name` plus an optional `:ref` (a version number or an alias such as a tag).
import { InvalidInput } from '../errors.ts';
import { textBefore } from '../text-before.ts';
import { DEFAULT_TENANT, MAX_TENANT_NAME_LENGTH, parseTenantName, TENANT_MARK } from '../tenants/tenant-names.ts';

export const MAX_MODEL_REF_LENGTH = 128;
/** The alias whose version serves requests for a bare model name. */
export const PRODUCTION_ALIAS = 'production';
// ASCII only (no look-alikes), and no trailing dot: `tiny.` reads as `tiny` (and is the same file name on Windows); the hub refuses it too.
const SEGMENT = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?$/;
const REF = /^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?$/;

/**
 * First path segments that name collections under `/models/…` and `/api/v1/models/…`;
 * a model whose name starts with one could not be addressed in a URL, so such names are refused.
 */
export const RESERVED_FIRST_SEGMENTS = new Set([
  'status',
  'list',
  'load',
  'metrics',
  'import',
  'validate',
  'validate-version',
  'statistics',
  'download',
  'info',
  'summary',
  'resources',
  'estimate-memory',
  'search',
]);

export interface ModelRef {
  /** The model's name without a ref, e.g. `sentence-transformers/all-MiniLM-L6-v2`. */
  name: string;
  /** A version number (`3`) or an alias (`production`, `latest`, `q8`), when given. */
  ref?: string;
}

function invalid(value: string, reason: string): InvalidInput {
  return new InvalidInput(`Invalid model name "${value}": ${reason}`, { name: value, reason }, 'invalid_model_name');
}

/**
 * Parses and validates `name[:ref]`; throws 400 `invalid_model_name` saying what is wrong. A qualified name of
 * another tenant's model (`~tenant/name`, src/tenants/tenant-names.ts) parses too: its name keeps the prefix.
 */
export function parseModelRef(value: string): ModelRef {
  if (typeof value !== 'string' || value.length === 0) throw invalid(String(value), 'it is empty');
  if (value.startsWith(TENANT_MARK)) {
    const slash = value.indexOf('/');
    const tenant = value.slice(1, slash === -1 ? undefined : slash);
    if (slash === -1 || tenant.length > MAX_TENANT_NAME_LENGTH) throw invalid(value, '"~" starts a tenant prefix: ~tenant/name');
    try {
      parseTenantName(tenant);
    } catch {
      throw invalid(value, `"${tenant}" is not a tenant name`);
    }
    // One prefix, of a tenant other than the default (whose names carry none): one spelling per model.
    if (tenant === DEFAULT_TENANT) throw invalid(value, "the default tenant's models are named without a prefix");
    if (value.slice(slash + 1).startsWith(TENANT_MARK)) throw invalid(value, 'a name carries at most one tenant prefix');
    const inner = parseModelRef(value.slice(slash + 1));
    const prefix = value.slice(0, slash + 1);
    return inner.ref === undefined ? { name: prefix + inner.name } : { name: prefix + inner.name, ref: inner.ref };
  }
  if (value.length > MAX_MODEL_REF_LENGTH) throw invalid(value, `it is longer than ${MAX_MODEL_REF_LENGTH} characters`);
  if (value.includes('..')) throw invalid(value, '".." is not allowed');
  const colon = value.indexOf(':');
  const name = colon === -1 ? value : value.slice(0, colon);
  const ref = colon === -1 ? undefined : value.slice(colon + 1);
  const segments = name.split('/');
  for (const segment of segments) {
    if (segment.length === 0) throw invalid(value, 'it has an empty path segment');
    if (!SEGMENT.test(segment)) {
      throw invalid(
        value,
        `segment "${segment}" must start with a letter or digit, hold only letters, digits, ".", "_" or "-", and not end with "."`,
      );
    }
  }
  const firstSegment = textBefore(name, '/');
  if (RESERVED_FIRST_SEGMENTS.has(firstSegment.toLowerCase())) {
    throw invalid(value, `"${firstSegment}" is reserved by the API and cannot start a model name`);
  }
  if (ref !== undefined && !REF.test(ref)) {
    throw invalid(
      value,
      'the part after ":" must start with a letter or digit, hold only letters, digits, ".", "_" or "-", and not end with "."',
    );
  }
  return ref === undefined ? { name } : { name, ref };
}

/** Parses a name that must not carry a `:ref`. */
export function parseModelName(value: string): string {
  const parsed = parseModelRef(value);
  if (parsed.ref !== undefined) throw invalid(value, 'a version or tag is not allowed here');
  return parsed.name;
}

/** True when a ref is a version number rather than an alias. */
export function isVersionNumber(ref: string): boolean {
  return /^[0-9]+$/.test(ref);
}
