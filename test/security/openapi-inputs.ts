// Valid request inputs for an OpenAPI operation, generated from its JSON schemas (required fields, enums, formats, bounds, defaults) plus semantic overrides.

/** The subset of JSON Schema that Hangar's TypeBox schemas produce in /openapi.json. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  items?: JsonSchema;
  minItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  default?: unknown;
  examples?: unknown[];
  example?: unknown;
  'x-model-name'?: boolean;
}

export interface OpenApiParameter {
  in: 'path' | 'query' | 'header' | 'cookie';
  name: string;
  required?: boolean;
  schema?: JsonSchema;
}

export interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, unknown>;
}

/** One field the generator is about to fill: top-level query/path/header parameters and top-level body properties. */
export interface FieldContext {
  /** `METHOD /openapi/path`, e.g. `DELETE /api/v1/models/{name}`. */
  operation: string;
  location: 'path' | 'query' | 'header' | 'body';
  name: string;
  schema: JsonSchema;
  required: boolean;
}

/** What an override answers for a field: the value to send, and (optionally) which fixture that value points at. */
export interface OverrideValue {
  value: unknown;
  /** The fixture this value addresses (e.g. `model`, `job`): the matrix swaps it for a missing one to compare 404s. */
  ref?: string;
}

/**
 * Semantic values by field: return a value to use it; undefined to let the schema decide. Optional fields are
 * sent only when an override gives them a value (a valid request needs its required fields, nothing more).
 */
export type FieldOverride = (field: FieldContext) => OverrideValue | undefined;

/** A raw (non-JSON) body, such as an Ollama blob upload: bytes with their content type. */
export interface RawBody {
  raw: Buffer;
  contentType: string;
}

export interface GeneratedRequest {
  method: string;
  /** The URL path with parameters filled in and the query string appended. */
  url: string;
  /** A JSON value, a raw body, or undefined for none. */
  body: unknown;
  headers: Record<string, string>;
  /** Every field that addresses a fixture, with the value sent (for swapping it with a missing one). */
  refs: Array<{ location: FieldContext['location']; name: string; ref: string; value: string }>;
}

/** The generator could not make a valid value: names the operation and field so the matrix fails loudly, never skips. */
export class InputGenerationError extends Error {
  constructor(operation: string, where: string, reason: string) {
    super(`${operation}: cannot generate a valid value for ${where}: ${reason} (add an override in test/security/matrix-inputs.ts)`);
  }
}

/** Strings tried, in order, against a `pattern` the override table did not cover. */
const PATTERN_CANDIDATES = ['x', 'a', 'abc', 'a1', '1', 'A', 'x.y', `sha256:${'0'.repeat(64)}`];

function fitLength(schema: JsonSchema, text: string): string {
  let out = text;
  if (schema.minLength !== undefined && out.length < schema.minLength) out = out.padEnd(schema.minLength, 'x');
  if (schema.maxLength !== undefined && out.length > schema.maxLength) out = out.slice(0, schema.maxLength);
  return out;
}

function stringFor(schema: JsonSchema, fail: (reason: string) => never): string {
  if (schema.format === 'date-time') return new Date(Date.now() + 3_600_000).toISOString();
  if (schema.format === 'uri' || schema.format === 'url') return 'http://127.0.0.1:9/';
  if (schema.format !== undefined) fail(`string format "${schema.format}" has no generator`);
  if (schema.pattern === undefined) return fitLength(schema, 'x');
  const pattern = new RegExp(schema.pattern, 'u');
  const match = PATTERN_CANDIDATES.map((c) => fitLength(schema, c)).find((c) => pattern.test(c));
  if (match === undefined) fail(`no candidate string matches pattern ${schema.pattern}`);
  return match;
}

function numberFor(schema: JsonSchema, integer: boolean): number {
  const step = integer ? 1 : 0.5;
  let value = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + step : 1);
  if (schema.maximum !== undefined && value > schema.maximum) value = schema.maximum;
  if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) value = schema.exclusiveMaximum - step;
  return integer ? Math.ceil(value) : value;
}

/** A value valid for `schema`: its default or example where present, else the smallest thing its constraints allow. */
export function valueForSchema(schema: JsonSchema, fail: (reason: string) => never): unknown {
  if (schema.const !== undefined) return schema.const;
  if (schema.enum) return schema.default !== undefined && schema.enum.includes(schema.default) ? schema.default : schema.enum[0];
  if (schema.default !== undefined) return schema.default;
  if (schema.examples?.length) return schema.examples[0];
  if (schema.example !== undefined) return schema.example;
  const branches = schema.anyOf ?? schema.oneOf;
  if (branches) {
    // The first branch that is not `null` (a nullable field is better exercised with a real value).
    const branch = branches.find((b) => b.type !== 'null') ?? branches[0];
    return valueForSchema(branch, fail);
  }
  if (schema.allOf) return Object.assign({}, ...schema.allOf.map((part) => valueForSchema(part, fail)));
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'string':
      return stringFor(schema, fail);
    case 'integer':
      return numberFor(schema, true);
    case 'number':
      return numberFor(schema, false);
    case 'boolean':
      return false;
    case 'null':
      return null;
    case 'array':
      return Array.from({ length: schema.minItems ?? 0 }, () => valueForSchema(schema.items ?? {}, fail));
    case 'object':
      return Object.fromEntries(
        (schema.required ?? []).map((name) => [name, valueForSchema(schema.properties?.[name] ?? {}, (r) => fail(`${name}: ${r}`))]),
      );
    default:
      if (schema.properties) return valueForSchema({ ...schema, type: 'object' }, fail);
      fail(`schema without a type: ${JSON.stringify(schema).slice(0, 120)}`);
  }
}

/** The object branch of a body schema (bodies are often `object | null`). */
function objectBranch(schema: JsonSchema): JsonSchema | undefined {
  if (schema.type === 'object' || schema.properties) return schema;
  return (schema.anyOf ?? schema.oneOf)?.map(objectBranch).find((b) => b !== undefined);
}

function queryText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Builds a request for `method path` with valid inputs; throws InputGenerationError naming the field it cannot fill. */
export function generateRequest(method: string, path: string, op: OpenApiOperation, override: FieldOverride): GeneratedRequest {
  const operation = `${method.toUpperCase()} ${path}`;
  const refs: GeneratedRequest['refs'] = [];
  const fill = (
    location: FieldContext['location'],
    name: string,
    schema: JsonSchema,
    required: boolean,
  ): { value: unknown } | undefined => {
    const given = override({ operation, location, name, schema, required });
    if (given !== undefined) {
      if (given.ref !== undefined && typeof given.value === 'string') refs.push({ location, name, ref: given.ref, value: given.value });
      return given.value === undefined ? undefined : { value: given.value };
    }
    if (!required) return undefined;
    return {
      value: valueForSchema(schema, (reason) => {
        throw new InputGenerationError(operation, `${location} field "${name}"`, reason);
      }),
    };
  };

  let url = path;
  const query = new URLSearchParams();
  const headers: Record<string, string> = {};
  for (const parameter of op.parameters ?? []) {
    if (parameter.in === 'cookie') continue;
    const filled = fill(parameter.in, parameter.name, parameter.schema ?? {}, parameter.in === 'path' || parameter.required === true);
    if (!filled) continue;
    if (parameter.in === 'path') url = url.replace(`{${parameter.name}}`, encodeURIComponent(queryText(filled.value)));
    else if (parameter.in === 'query') query.set(parameter.name, queryText(filled.value));
    else headers[parameter.name] = queryText(filled.value);
  }
  if (/\{[^}]+\}/.test(url)) throw new InputGenerationError(operation, 'the path', `a parameter is not declared: ${url}`);

  let body: unknown;
  const content = op.requestBody?.content;
  const whole = override({ operation, location: 'body', name: '', schema: {}, required: false });
  if (whole !== undefined) {
    body = whole.value;
  } else if (content) {
    const schema = content['application/json']?.schema;
    if (!schema)
      throw new InputGenerationError(operation, 'the body', `no JSON body schema (content types: ${Object.keys(content).join(', ')})`);
    const object = objectBranch(schema);
    if (object) {
      const out: Record<string, unknown> = {};
      const required = new Set(object.required ?? []);
      for (const [name, property] of Object.entries(object.properties ?? {})) {
        const filled = fill('body', name, property, required.has(name));
        if (filled) out[name] = filled.value;
      }
      body = out;
    } else {
      body = valueForSchema(schema, (reason) => {
        throw new InputGenerationError(operation, 'the body', reason);
      });
    }
  }
  const search = query.toString();
  return { method: method.toUpperCase(), url: search ? `${url}?${search}` : url, body, headers, refs };
}
