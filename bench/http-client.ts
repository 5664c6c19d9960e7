// The benchmarks' HTTP client: node:http over kept-alive sockets, for Hangar and its peers alike, so the client costs little.
import http from 'node:http';

/**
 * Node's global fetch (undici) spent ~1.4 ms more per request than node:http on this 2-core machine, measured against
 * Hangar's embeddings endpoint: time taken from the same cores the server and its runner use, and charged to neither
 * side of an in-process anchor. One kept-alive agent serves every benchmark request.
 */
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

export interface HttpReply {
  status: number;
  body: string;
}

/**
 * Sends a request to `base` + `path` (a JSON body when given) and reads the reply; `onChunk` sees the body as it
 * arrives (streams: the first chunk marks the first token).
 */
export function httpRequest(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  onChunk?: (text: string) => void,
): Promise<HttpReply> {
  const url = new URL(path, base);
  const data = body === undefined ? undefined : JSON.stringify(body);
  const headers: http.OutgoingHttpHeaders =
    data === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) };
  return new Promise((resolve, reject) => {
    const request = http.request(
      { host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, method, agent, headers },
      (response) => {
        response.setEncoding('utf8');
        let text = '';
        response.on('data', (chunk: string) => {
          text += chunk;
          onChunk?.(chunk);
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: text }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(data);
  });
}

/** Calls `onData` with each SSE `data:` payload of a streamed reply as it arrives (not `[DONE]`); rejects on a non-2xx. */
export async function httpEvents(base: string, path: string, body: unknown, onData: (data: string) => void): Promise<void> {
  let buffered = '';
  // A throwing `onData` must reject this call, not escape from the socket's event handler.
  let failure: unknown;
  const reply = await httpRequest(base, 'POST', path, body, (chunk) => {
    buffered += chunk;
    let end = buffered.indexOf('\n');
    while (end >= 0 && failure === undefined) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      try {
        if (line.startsWith('data: ') && line !== 'data: [DONE]') onData(line.slice(6));
      } catch (error) {
        failure = error;
      }
      end = buffered.indexOf('\n');
    }
  });
  if (reply.status < 200 || reply.status >= 300) throw new Error(`POST ${path}: HTTP ${reply.status} ${reply.body.slice(0, 300)}`);
  if (failure !== undefined) throw failure;
}
