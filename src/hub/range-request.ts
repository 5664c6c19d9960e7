// One byte-range GET over node:http(s), following redirects (the hub sends LFS files to a CDN); a plain stream, faster than fetch's web streams.
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';

export interface RangeResponse {
  status: number;
  header(name: string): string | null;
  body: IncomingMessage;
}

const MAX_REDIRECTS = 5;

/** GETs `url` with `headers`; `signal` aborts the request and its body. Authorization is not sent to another host. */
export async function rangeRequest(url: string, headers: Record<string, string>, signal: AbortSignal): Promise<RangeResponse> {
  let current = new URL(url);
  const origin = current.host;
  for (let hop = 0; ; hop++) {
    const sent =
      current.host === origin ? headers : Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = (current.protocol === 'https:' ? https : http).get(current, { headers: sent, signal }, resolve);
      request.on('error', reject);
    });
    const status = response.statusCode ?? 0;
    const location = response.headers.location;
    if ([301, 302, 303, 307, 308].includes(status) && location && hop < MAX_REDIRECTS) {
      response.resume();
      current = new URL(location, current);
      continue;
    }
    return {
      status,
      header: (name) => {
        const value = response.headers[name.toLowerCase()];
        return Array.isArray(value) ? value.join(', ') : (value ?? null);
      },
      body: response,
    };
  }
}
