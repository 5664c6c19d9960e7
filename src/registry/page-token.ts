// Opaque page tokens for keyset pagination: clients pass back what the previous page returned.
import { InvalidInput } from '../errors.ts';

/** Encodes the sort key of the last row of a page. */
export function encodePageToken(key: Record<string, string | number>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Decodes a token, checking it carries the fields this listing sorts by. */
export function decodePageToken<K extends string>(token: string, fields: readonly K[]): Record<K, string | number> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const ok =
    parsed !== null &&
    typeof parsed === 'object' &&
    fields.every((f) => ['string', 'number'].includes(typeof (parsed as Record<string, unknown>)[f]));
  if (!ok) throw new InvalidInput('page_token is not a token this listing returned', { field: 'page_token' }, 'invalid_page_token');
  return parsed as Record<K, string | number>;
}
