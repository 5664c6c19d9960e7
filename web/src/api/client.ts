// The dashboard's one HTTP client: JSON calls with the API key from session storage, errors as ApiError with Hangar's code.
import type { ErrorResponse } from '../../../src/schemas/common.ts';

const KEY_STORAGE = 'hangar.api-key';

export function storedApiKey(): string | null {
  return sessionStorage.getItem(KEY_STORAGE);
}

export function storeApiKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

/** The Authorization header for the stored key (every call sends it, the event streams included). */
export function authHeaders(): Record<string, string> {
  const key = storedApiKey();
  return key ? { authorization: `Bearer ${key}` } : {};
}

/** A failed call: the status and Hangar's `{error:{code,message,details}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * A 403 about this key (its role, or a system-wide view asked for by a tenant key): panels show a calm note, not an
 * error box, since nothing is broken. hub_access_denied is 403 too, but it is the hub refusing, a real failure.
 */
export function isForbidden(error: unknown): error is ApiError {
  return error instanceof ApiError && error.status === 403 && error.code !== 'hub_access_denied';
}

/** A 403 because the view or action is system-wide and the key belongs to a tenant (src/http/plugins/auth.ts). */
export function isSystemOnly(error: unknown): boolean {
  return isForbidden(error) && (error.details?.required === 'system key' || typeof error.details?.tenant === 'string');
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const response = await fetch(path, {
    method,
    headers: { ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const error = (parsed as ErrorResponse | undefined)?.error;
    throw new ApiError(response.status, error?.code ?? 'http_error', error?.message ?? `HTTP ${response.status}`, error?.details);
  }
  return parsed as T;
}

export const get = <T>(path: string) => api<T>('GET', path);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);

/** A model name in a URL path (names may hold `/`; Hangar takes them as they are). */
export const modelPath = (name: string) => name.split('/').map(encodeURIComponent).join('/');
