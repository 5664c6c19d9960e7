// Schemas shared by many routes: the error body and pagination parameters.
import { Type, type Static } from 'typebox';

/**
 * Schema keyword marking a request field that names one of the caller's models (`name` or `name:ref`): for a
 * tenant's key, src/http/plugins/tenant-names.ts qualifies it with the tenant before the handler reads it.
 */
export const MODEL_NAME_KEYWORD = 'x-model-name';

/** A request string that names a model of the caller's tenant. */
export const ModelNameString = (options: Parameters<typeof Type.String>[0] = {}) => Type.String({ ...options, [MODEL_NAME_KEYWORD]: true });

/** `schema` or null: optional facts that are always present in a reply. */
export const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const ErrorResponse = Type.Object(
  {
    error: Type.Object({
      code: Type.String({ description: 'Stable machine-readable code, e.g. invalid_model_name.' }),
      message: Type.String(),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
  },
  { $id: 'ErrorResponse', description: 'Every error answers with this shape.' },
);
export type ErrorResponse = Static<typeof ErrorResponse>;

/** The error replies a route can give, for its response schema. */
export function errorResponses(...statuses: number[]): Record<number, typeof ErrorResponse> {
  return Object.fromEntries(statuses.map((status) => [status, ErrorResponse]));
}

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100, description: 'Page size.' })),
  page_token: Type.Optional(Type.String({ maxLength: 1024, description: 'The next_page_token of the previous page.' })),
};

export const NextPageToken = Type.Union([Type.String(), Type.Null()], {
  description: 'Pass as page_token to get the next page; null on the last page.',
});
