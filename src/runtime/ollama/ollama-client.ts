// Clients of the Ollama servers in OLLAMA_BASE_URL (the official `ollama` package), with a timeout or abort on every call and errors that name the server.
import { Ollama } from 'ollama';
import { HangarError } from '../../errors.ts';

/** Listing calls (/api/tags, /api/ps, /api/delete, /api/show) answer in this long or the server counts as failing. */
export const QUICK_CALL_TIMEOUT_MS = 5000;

/** The servers of OLLAMA_BASE_URL: comma-separated, trimmed, without a trailing slash, each once. */
export function ollamaServerUrls(baseUrl: string): string[] {
  const urls = baseUrl
    .split(',')
    .map((url) => url.trim().replace(/\/+$/, ''))
    .filter((url) => url.length > 0);
  return [...new Set(urls)];
}

/**
 * A client of `server` whose every request ends after `timeoutMs` (null: no limit, for streams) or when `signal`
 * aborts (a client that went away). One client per call is cheap: it is only a base URL and a fetch.
 */
export function ollamaClient(server: string, options: { timeoutMs: number | null; signal?: AbortSignal }): Ollama {
  const limit = options.timeoutMs;
  const outer = options.signal;
  const timedFetch: typeof fetch = (input, init) => {
    const signals = [init?.signal, outer, limit === null ? undefined : AbortSignal.timeout(limit)].filter(
      (s): s is AbortSignal => s !== undefined && s !== null,
    );
    return fetch(input, { ...init, signal: signals.length ? AbortSignal.any(signals) : undefined });
  };
  return new Ollama({ host: server, fetch: timedFetch });
}

/** The network failure behind a fetch error (`ECONNREFUSED`, a socket closed mid-response, a timeout), in words. */
function networkCause(error: Error): string | null {
  if (error.name === 'TimeoutError') return 'it did not answer in time';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.code === 'ECONNRESET' || cause?.code === 'UND_ERR_SOCKET' || error.message === 'terminated')
    return 'the connection was cut mid-response';
  if (cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN') return 'its host name does not resolve';
  if (error.name === 'TypeError' && /fetch failed/i.test(error.message)) return cause?.message ?? 'the request failed';
  return null;
}

/** True for the abort a caller asked for (client gone), as opposed to a server failure. */
export function isCallerAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true && error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

/**
 * Hangar's error for a failed call to `server`: 502 `ollama_unreachable` when it cannot be reached,
 * 502 `ollama_error` when it answered with an error (its message kept), both naming the server.
 */
export function upstreamError(server: string, error: unknown, what: string): HangarError {
  if (error instanceof HangarError) return error;
  const err = error instanceof Error ? error : new Error(String(error));
  const cause = networkCause(err);
  if (cause !== null) {
    return new HangarError('ollama_unreachable', `The Ollama server ${server} is unreachable (${what}): ${cause}`, { server });
  }
  const status = (err as { status_code?: number }).status_code;
  return new HangarError('ollama_error', `The Ollama server ${server} refused ${what}: ${err.message}`, {
    server,
    ...(status !== undefined ? { upstream_status: status } : {}),
  });
}
