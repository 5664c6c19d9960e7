// One place that turns every error into `{error:{code,message,details?}}` with the right status; 5xx details stay in the log.
import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HangarError } from '../../errors.ts';
import type { ErrorResponse } from '../../schemas/common.ts';

/** Fastify's own error codes that users can cause, mapped to our codes. */
const FRAMEWORK_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad_request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_BAD_URL: 'bad_request',
  FST_ERR_ASYNC_CONSTRAINT: 'bad_request',
};

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'payload_too_large',
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
}

async function errorHandlerPlugin(app: FastifyInstance, options: ErrorHandlerOptions): Promise<void> {
  app.setErrorHandler(async (error: FastifyError | HangarError | Error, request: FastifyRequest, reply: FastifyReply) => {
    let status: number;
    let body: ErrorResponse;
    const fastifyError = error as FastifyError & { validationContext?: string };
    if (error instanceof HangarError) {
      status = error.statusCode;
      body = errorBody(error.code, error.message, error.details);
    } else if (fastifyError.validation) {
      const issues = fastifyError.validation as ValidationIssue[];
      const fields = issues.map((issue) => fieldOf(fastifyError.validationContext, issue));
      const first = issues[0];
      const extra = first?.params?.additionalProperty;
      const reason = typeof extra === 'string' ? 'is not an accepted field' : (first?.message ?? 'is invalid');
      status = 400;
      body = errorBody('validation_error', `${fields[0]} ${reason}`, {
        field: fields[0],
        issues: issues.map((issue, i) => ({ field: fields[i], message: issue.message ?? 'invalid' })),
      });
    } else if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode < 500) {
      status = fastifyError.statusCode;
      const code = (fastifyError.code && FRAMEWORK_CODES[fastifyError.code]) ?? STATUS_CODES[status] ?? 'bad_request';
      body = errorBody(code, fastifyError.message);
    } else {
      status = 500;
      request.log.error({ err: error }, 'unhandled error');
      body = errorBody('internal_error', `Internal error; see the server log for request ${request.id}`);
    }
    if (status >= 500 && error instanceof HangarError) request.log.warn({ err: error }, 'request failed');
    if (options.onFailedMutation && request.routeOptions.config?.audit) {
      await options.onFailedMutation(request, body.error.code, body.error.message).catch((auditError: unknown) =>
        request.log.error({ err: auditError }, 'could not record the failed mutation in the audit log'),
      );
    }
    return reply.status(status).send(body);
  });

  app.setNotFoundHandler(async (request, reply) =>
    reply.status(404).send(errorBody('route_not_found', `No route ${request.method} ${request.url.split('?')[0]}`)),
  );
}

export default fp(errorHandlerPlugin, { name: 'hangar-error-handler' });
