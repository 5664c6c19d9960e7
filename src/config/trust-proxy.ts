// HANGAR_TRUST_PROXY: which hops' X-Forwarded-For Fastify believes, so rate limits and the audit see the real client address.
import net from 'node:net';

/** Fastify's `trustProxy`: off, every hop, the addresses/CIDRs of the proxies (comma-separated), or which hops to trust. */
export type TrustProxy = boolean | string | ((address: string, hop: number) => boolean);

/** proxy-addr's names for address ranges. */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/** Why an address/CIDR entry is not usable, or undefined when it is. */
function entryProblem(entry: string): string | undefined {
  if (RANGE_NAMES.has(entry)) return undefined;
  const [address = '', bits, extra] = entry.split('/');
  const family = net.isIP(address);
  if (family === 0 || extra !== undefined) return `"${entry}" is not an IP address or CIDR`;
  if (bits === undefined) return undefined;
  const max = family === 4 ? 32 : 128;
  return /^[0-9]{1,3}$/.test(bits) && Number(bits) <= max ? undefined : `"${entry}" has a prefix length outside 0-${max}`;
}

/** Why the setting is not usable, or undefined when it is; the message says what is accepted. */
export function trustProxyProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'expected false, true, a hop count or a comma-separated list of addresses/CIDRs';
  const text = value.trim();
  if (text === 'false' || text === 'true' || /^[0-9]{1,3}$/.test(text)) return undefined;
  const entries = text.split(',').map((e) => e.trim());
  const problems = entries.map((entry) => (entry === '' ? 'an empty entry' : entryProblem(entry))).filter(Boolean);
  if (problems.length === 0) return undefined;
  return `expected false, true, a hop count, or a comma-separated list of addresses/CIDRs (or loopback, linklocal, uniquelocal): ${problems.join('; ')}`;
}

/** The setting as Fastify's `trustProxy` option; call after trustProxyProblem passed (validation does). */
export function parseTrustProxy(value: string): TrustProxy {
  const text = value.trim();
  if (text === 'false') return false;
  if (text === 'true') return true;
  if (/^[0-9]{1,3}$/.test(text)) {
    // A hop count as the function Fastify makes of one (its option types take no number): the first n hops are proxies.
    const hops = Number(text);
    return (_address, hop) => hop < hops;
  }
  return text
    .split(',')
    .map((e) => e.trim())
    .join(',');
}
