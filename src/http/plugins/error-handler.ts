// One place that turns every error into `{error:{code,message,details?}}` with the right status; 5xx details stay in the log.
import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HangarError, type ErrorCode } from '../../errors.ts';
import type { ErrorResponse } from '../../schemas/common.ts';
import { httpStatus, statusOfCode } from '../error-status.ts';
import { textBefore } from '../../text-before.ts';
import { dialectFor, type ErrorDialect } from '../error-dialect.ts';

/** Fastify's own error codes that users can cause, mapped to our codes. */
const FRAMEWORK_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_BAD_URL: 'bad_request',
  FST_ERR_ASYNC_CONSTRAINT: 'bad_request',
  FST_ERR_MAX_PARAM_LENGTH: 'path_parameter_too_long',
};

/** For framework errors without a code of their own: the code that names their status. */
const STATUS_CODES: Record<number, ErrorCode> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'payload_too_large',
  414: 'path_parameter_too_long',
  415: 'unsupported_media_type',
  429: 'rate_limited',
  503: 'service_unavailable',
};

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** `body.name`, `querystring.limit`… naming the field a client got wrong. */
function fieldOf(context: string | undefined, issue: ValidationIssue): string {
  const missing = issue.params?.missingProperty;
  const extra = issue.params?.additionalProperty;
  const pathParts = (issue.instancePath ?? '').split('/').filter(Boolean);
  if (typeof missing === 'string') pathParts.push(missing);
  if (typeof extra === 'string') pathParts.push(extra);
  return [context ?? 'request', ...pathParts].join('.');
}

export function errorBody(code: string, message: string, details?: Record<string, unknown>): ErrorResponse {
  return details === undefined ? { error: { code, message } } : { error: { code, message, details } };
}

export interface ErrorHandlerOptions {
  /** Called for failed requests to routes that declare an audit action (the domain wrote nothing). */
  onFailedMutation?: (request: FastifyRequest, code: string, message: string) => Promise<void>;
  /** Compatible surfaces whose errors are worded their own way (chosen by path). */
  dialects?: readonly ErrorDialect[];
}

/** Sends an error in the shape of the surface the request path belongs to. */
function sendError(
  reply: FastifyReply,
  dialects: readonly ErrorDialect[],
  path: string,
  status: number,
  body: ErrorResponse,
): FastifyReply {
  const dialect = dialectFor(dialects, textBefore(path, '?'));
  if (!dialect) return reply.status(status).send(body);
  const rendered = dialect.render(status, body);
  return reply.status(rendered.status).send(rendered.payload);
}

/** Status and body for any error a request can end with. */
export function describeError(error: FastifyError | HangarError | Error, request: FastifyRequest): { status: number; body: ErrorResponse } {
  const fastifyError = error as FastifyError & { validationContext?: string };
  if (error instanceof HangarError) {
    const status = httpStatus(error);
    if (status >= 500) request.log.warn({ err: error }, 'request failed');
    return { status, body: errorBody(error.code, error.message, error.details) };
  }
  if (fastifyError.validation) {
    const issues = fastifyError.validation as ValidationIssue[];
    const fields = issues.map((issue) => fieldOf(fastifyError.validationContext, issue));
    const first = issues[0];
    const extra = first?.params?.additionalProperty;
    const reason = typeof extra === 'string' ? 'is not an accepted field' : (first?.message ?? 'is invalid');
    return {
      status: 400,
      body: errorBody('validation_error', `${fields[0]} ${reason}`, {
        field: fields[0],
        issues: issues.map((issue, i) => ({ field: fields[i], message: issue.message ?? 'invalid' })),
      }),
    };
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
    const code = (fastifyError.code && FRAMEWORK_CODES[fastifyError.code]) ?? STATUS_CODES[fastifyError.statusCode] ?? 'bad_request';
    return { status: fastifyError.statusCode, body: errorBody(code, fastifyError.message) };
  }
  request.log.error({ err: error }, 'unhandled error');
  return { status: 500, body: errorBody('internal_error', `Internal error; see the server log for request ${request.id}`) };
}

/**
 * Fastify's `frameworkErrors` option: errors the router raises before any route or hook runs
 * (a malformed URL, a path parameter over maxParamLength), answered in the same shape.
 */
export function frameworkErrorAnswerer(dialects: readonly ErrorDialect[] = []) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const code = FRAMEWORK_CODES[error.code] ?? 'bad_request';
    const message =
      code === 'path_parameter_too_long'
        ? 'A path parameter is longer than any valid value (e.g. a model name over 128 characters)'
        : error.message;
    void sendError(reply, dialects, request.url, statusOfCode(code), errorBody(code, message));
  };
}

async function errorHandlerPlugin(app: FastifyInstance, options: ErrorHandlerOptions): Promise<void> {
  const dialects = options.dialects ?? [];
  app.setErrorHandler(async (error: FastifyError | HangarError | Error, request: FastifyRequest, reply: FastifyReply) => {
    const { status, body } = describeError(error, request);
    if (options.onFailedMutation && request.routeOptions.config?.audit) {
      await options
        .onFailedMutation(request, body.error.code, body.error.message)
        .catch((auditError: unknown) => request.log.error({ err: auditError }, 'could not record the failed mutation in the audit log'));
    }
    return sendError(reply, dialects, request.url, status, body);
  });

  app.setNotFoundHandler(async (request, reply) =>
    sendError(
      reply,
      dialects,
      request.url,
      404,
      errorBody('route_not_found', `No route ${request.method} ${textBefore(request.url, '?')}`),
    ),
  );
}

export default fp(errorHandlerPlugin, { name: 'hangar-error-handler' });
