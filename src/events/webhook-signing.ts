// Webhook signatures: `x-hangar-signature: sha256=<hex HMAC-SHA256 of the exact body>` with the webhook's secret.
import { createHmac, timingSafeEqual } from 'node:crypto';

export function signPayload(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Checks an `x-hangar-signature` header against the exact body bytes, in constant time. */
export function verifySignature(secret: string, body: string | Uint8Array, header: string | null | undefined): boolean {
  const [, signatureHex] = /^sha256=([0-9a-f]{64})$/i.exec(header?.trim() ?? '') ?? [];
  if (signatureHex === undefined) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  return timingSafeEqual(expected, Buffer.from(signatureHex, 'hex'));
}
