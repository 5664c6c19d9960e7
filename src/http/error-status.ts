// The one mapping from error kinds (errors.ts) to HTTP statuses, used by the error handler and the tests.
import { ERROR_CODES, type HangarError, type ErrorCode, type ErrorKind } from '../errors.ts';

const STATUS_OF_KIND: Record<ErrorKind, number> = {
  invalid_input: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unprocessable: 422,
  rate_limited: 429,
  internal: 500,
  upstream: 502,
  unavailable: 503,
  insufficient_storage: 507,
  not_implemented: 501,
};

/** Codes whose status is more specific than their kind's. */
const STATUS_OF_CODE: Partial<Record<ErrorCode, number>> = {
  payload_too_large: 413,
  unsupported_media_type: 415,
  method_not_allowed: 405,
  request_timeout: 408,
  path_parameter_too_long: 414,
};

export function statusOfCode(code: ErrorCode): number {
  return STATUS_OF_CODE[code] ?? STATUS_OF_KIND[ERROR_CODES[code].kind];
}

/** The HTTP status a domain error answers with. */
export function httpStatus(error: HangarError): number {
  return statusOfCode(error.code);
}
