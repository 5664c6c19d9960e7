// Errors as OpenAI sends them: `{error:{message,type,param,code}}`, with statuses its clients do not retry when a retry cannot help.
import { Type } from 'typebox';
import type { ErrorDialect } from '../error-dialect.ts';
import { Nullable } from '../../schemas/common.ts';

export const OPENAI_PATH = /^\/v1(\/|$)/;

export const OpenAiError = Type.Object(
  {
    error: Type.Object({
      message: Type.String(),
      type: Type.String({ description: 'invalid_request_error, authentication_error, permission_error, rate_limit_error, server_error…' }),
      param: Nullable(Type.String()),
      code: Nullable(Type.String({ description: "Hangar's error code (see the README's table)." })),
    }),
  },
  { $id: 'OpenAiError', description: 'Errors of the OpenAI-compatible surface, as OpenAI sends them.' },
);

/**
 * Hangar codes that answer 409 or 5xx on its own API but cannot succeed if repeated unchanged: the official
 * clients retry 409, 429 and 5xx (twice, with back-off), so these are sent as 400 instead.
 */
const NOT_RETRYABLE = new Set([
  'model_loaded',
  'model_not_loaded',
  'version_not_loaded',
  'version_conflict',
  'no_gpu',
  'integrity_failed',
  'not_repairable',
  'key_exists',
  'job_finished',
  'no_previous_version',
  'conflict',
  // 503 on every /v1 path but inference while MANAGEMENT_API_ENABLED=false: a retry gets the same answer.
  'management_api_disabled',
]);

function typeOf(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'invalid_request_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export const openAiErrorDialect: ErrorDialect = {
  matches: (path) => OPENAI_PATH.test(path),
  render: (status, body) => {
    const finalStatus = NOT_RETRYABLE.has(body.error.code) ? 400 : status;
    const field = body.error.details?.field;
    // Validation names fields as `body.messages.0.role`; OpenAI's `param` is the field inside the body.
    const param = typeof field === 'string' ? field.replace(/^body\./, '') : null;
    return {
      status: finalStatus,
      payload: { error: { message: body.error.message, type: typeOf(finalStatus), param, code: body.error.code } },
    };
  },
};

/** The response schemas of an OpenAI route's error statuses. */
export function openAiErrorResponses(...statuses: number[]): Record<number, typeof OpenAiError> {
  return Object.fromEntries(statuses.map((status) => [status, OpenAiError]));
}

/** The error statuses of the /v1 inference routes. */
export const OPENAI_INFERENCE_ERRORS = openAiErrorResponses(400, 401, 403, 404, 422, 429, 500, 502, 503);
