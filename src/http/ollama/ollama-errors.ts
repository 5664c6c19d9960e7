// Errors as Ollama sends them: `{"error":"…"}` with the status Hangar chose; the Ollama surface is every /api/ path but /api/v1.
import { Type } from 'typebox';
import type { ErrorDialect } from '../error-dialect.ts';
import type { ErrorResponse } from '../../schemas/common.ts';

/** Ollama's paths: `/api/<name>` other than Hangar's `/api/v1/…`. */
export const OLLAMA_PATH = /^\/api\/(?!v1(\/|$))/;

export const OllamaError = Type.Object(
  { error: Type.String({ description: 'What went wrong, in words.' }) },
  { $id: 'OllamaError', description: 'Errors of the Ollama-compatible surface, as Ollama sends them.' },
);

/** The words of an error as Ollama's own server puts them where clients look for them (`model 'x' not found`), else Hangar's. */
function ollamaWords(body: ErrorResponse): string {
  const model = body.error.details?.model;
  if (body.error.code === 'model_not_found' && typeof model === 'string') return `model '${model}' not found`;
  return body.error.message;
}

// Another tenant's model is a missing one: its qualified name is the caller's own prefix plus the name, removed from the reply.
export const ollamaErrorDialect: ErrorDialect = {
  matches: (path) => OLLAMA_PATH.test(path),
  render: (status, body) => ({ status, payload: { error: ollamaWords(body) } }),
};

/** The response schemas of an Ollama route's error statuses. */
export function ollamaErrorResponses(...statuses: number[]): Record<number, typeof OllamaError> {
  return Object.fromEntries(statuses.map((status) => [status, OllamaError]));
}
