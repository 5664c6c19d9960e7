// Errors as Ollama sends them: `{"error":"…"}` with the status Hangar chose; the Ollama surface is every /api/ path but /api/v1.
import { Type } from 'typebox';
import type { ErrorDialect } from '../error-dialect.ts';

/** Ollama's paths: `/api/<name>` other than Hangar's `/api/v1/…`. */
export const OLLAMA_PATH = /^\/api\/(?!v1(\/|$))/;

export const OllamaError = Type.Object(
  { error: Type.String({ description: 'What went wrong, in words.' }) },
  { $id: 'OllamaError', description: 'Errors of the Ollama-compatible surface, as Ollama sends them.' },
);

export const ollamaErrorDialect: ErrorDialect = {
  matches: (path) => OLLAMA_PATH.test(path),
  render: (status, body) => ({ status, payload: { error: body.error.message } }),
};

/** The response schemas of an Ollama route's error statuses. */
export function ollamaErrorResponses(...statuses: number[]): Record<number, typeof OllamaError> {
  return Object.fromEntries(statuses.map((status) => [status, OllamaError]));
}
