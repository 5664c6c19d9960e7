// Sends one generated request as a principal over real HTTP and reads the whole answer (an event stream: what arrives before it goes quiet).
import type { GeneratedRequest, RawBody } from './openapi-inputs.ts';

export interface MatrixResponse {
  status: number;
  contentType: string;
  text: string;
  /** The parsed JSON body, or undefined for text, NDJSON and event streams. */
  json: unknown;
}

/** An event stream stays open: read it until nothing more arrives for this long (its replay is written at once). */
const STREAM_QUIET_MS = 300;
const STREAM_MAX_MS = 3000;
const REQUEST_TIMEOUT_MS = 120_000;

function isRaw(body: unknown): body is RawBody {
  return typeof body === 'object' && body !== null && Buffer.isBuffer((body as RawBody).raw);
}

async function readStream(response: Response): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return '';
  const decoder = new TextDecoder();
  const started = Date.now();
  let text = '';
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const quiet = new Promise<'quiet'>((resolve) => {
      timer = setTimeout(() => resolve('quiet'), STREAM_QUIET_MS);
    });
    const next = await Promise.race([reader.read(), quiet]);
    clearTimeout(timer);
    if (next === 'quiet' || next.done) break;
    text += decoder.decode(next.value, { stream: true });
    if (Date.now() - started > STREAM_MAX_MS) break;
  }
  await reader.cancel().catch(() => undefined);
  return text;
}

export async function sendRequest(baseUrl: string, request: GeneratedRequest, authorization: string | undefined): Promise<MatrixResponse> {
  const headers: Record<string, string> = { ...request.headers };
  if (authorization !== undefined) headers.authorization = authorization;
  let body: Uint8Array | string | undefined;
  if (isRaw(request.body)) {
    headers['content-type'] = request.body.contentType;
    body = new Uint8Array(request.body.raw);
  } else if (request.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(request.body);
  }
  let response: Response;
  try {
    response = await fetch(`${baseUrl}${request.url}`, {
      method: request.method,
      headers,
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    return { status: 0, contentType: '', text: `no answer: ${(error as Error).message}`, json: undefined };
  }
  const contentType = response.headers.get('content-type') ?? '';
  const text = contentType.startsWith('text/event-stream') ? await readStream(response) : await response.text();
  let json: unknown;
  if (contentType.includes('application/json')) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  return { status: response.status, contentType, text, json };
}
