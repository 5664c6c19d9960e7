// Model names and references: `org/name` plus an optional `:ref` (a version number or an alias such as a tag).
import { InvalidInput } from '../errors.ts';
import { textBefore } from '../text-before.ts';

export const MAX_MODEL_REF_LENGTH = 128;
/** The alias whose version serves requests for a bare model name. */
export const PRODUCTION_ALIAS = 'production';
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const REF = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

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

/** Parses and validates `name[:ref]`; throws 400 `invalid_model_name` saying what is wrong. */
export function parseModelRef(value: string): ModelRef {
  if (typeof value !== 'string' || value.length === 0) throw invalid(String(value), 'it is empty');
  if (value.length > MAX_MODEL_REF_LENGTH) throw invalid(value, `it is longer than ${MAX_MODEL_REF_LENGTH} characters`);
  if (value.includes('..')) throw invalid(value, '".." is not allowed');
  const colon = value.indexOf(':');
  const name = colon === -1 ? value : value.slice(0, colon);
  const ref = colon === -1 ? undefined : value.slice(colon + 1);
  const segments = name.split('/');
  for (const segment of segments) {
    if (segment.length === 0) throw invalid(value, 'it has an empty path segment');
    if (!SEGMENT.test(segment)) {
      throw invalid(value, `segment "${segment}" must start with a letter or digit and hold only letters, digits, ".", "_" or "-"`);
    }
  }
  const firstSegment = textBefore(name, '/');
  if (RESERVED_FIRST_SEGMENTS.has(firstSegment.toLowerCase())) {
    throw invalid(value, `"${firstSegment}" is reserved by the API and cannot start a model name`);
  }
  if (ref !== undefined && !REF.test(ref)) {
    throw invalid(value, 'the part after ":" must start with a letter or digit and hold only letters, digits, ".", "_" or "-"');
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
