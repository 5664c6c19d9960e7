// Finds, in the server's own /openapi.json, every path parameter, query parameter and JSON body field that names something.
// The rule goes by field names, so a new route with such a field is covered without editing any test.

/** The part of JSON Schema the OpenAPI document uses. */
export interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
  enum?: unknown[];
  const?: unknown;
  minLength?: number;
  minimum?: number;
  minItems?: number;
  $ref?: string;
}

interface OpenApiParameter {
  in: string;
  name: string;
  required?: boolean;
  schema?: JsonSchema;
}

interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  responses?: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
}

/** Where a name travels: a path or query parameter, a body field, the items of a body array or the keys of a body map. */
export type SlotKind = 'path' | 'query' | 'body' | 'body-item' | 'body-key';

export interface NameSlot {
  method: string;
  /** The OpenAPI path template, e.g. `/api/v1/models/{name}/aliases/{alias}`. */
  route: string;
  kind: SlotKind;
  /** The parameter name, or the body field's dotted path (`files` for the keys of the `files` map). */
  field: string;
  operation: OpenApiOperation;
}

/** Field names that name a model, version, alias, file, blob, job, key, webhook, tenant, hub repo or revision. */
const NAME_WORDS =
  /^(name|model|model_name|from|source|destination|alias|ref|tag|path|file|filename|files|digest|id|job|key|webhook|tenant|repo|repo_id|revision|version|variant|quantize|quantization|type|events?)$/;
/** …and any field that ends like one: `tenant_id`, `job_id`, `source_path`, `base_model`… */
const NAME_SUFFIXES = /(_name|_id|_path|_file|_digest|_model|_alias|_tenant)$/;

export interface NotAName {
  /** A body field's dotted path (anything below it is skipped too) or a parameter name. */
  field: string;
  /** Limits the entry to one location. */
  kind?: SlotKind;
  /** Limits the entry to one operation (`GET /api/v1/models`). */
  operation?: string;
  reason: string;
}

/**
 * Fields whose names match the rule but that do not name anything the server stores or reads a file by.
 * Fields the rule does not match at all need no entry: free text and data (description, prompt, system, template, tags —
 * free labels —, metadata, options), `allow`/`ignore` (glob patterns matched against the hub's listing, whose paths are
 * checked before they are planned), `url` and `secret` (webhooks), `keep_alive`, `stop`, `user` (OpenAI's end-user label).
 * Each entry must still leave out some field (the test checks), so a stale one shows.
 */
export const NOT_NAMES: readonly NotAName[] = [
  {
    field: 'name',
    kind: 'query',
    operation: 'GET /api/v1/models',
    reason: 'a substring filter over model names: any text is a valid filter that matches nothing',
  },
  {
    field: 'tag',
    kind: 'query',
    operation: 'GET /api/v1/models',
    reason: 'a filter over version tags (free labels): any text matches nothing',
  },
  { field: 'user_id', kind: 'body', reason: 'who asked for a promotion or rollback, free text kept in the audit log and history' },
  { field: 'messages', kind: 'body', reason: 'conversation content: names inside messages (tool, participant) are text the model reads' },
  { field: 'tools', kind: 'body', reason: "function definitions the model reads; Hangar neither stores nor looks up a tool's name" },
  { field: 'tool_choice', kind: 'body', reason: "names one of the request's own tools, for the model" },
  { field: 'response_format', kind: 'body', reason: 'an output constraint (its `type` is an enum, its schema is data)' },
];

function notAName(method: string, route: string, kind: SlotKind, field: string): NotAName | undefined {
  return NOT_NAMES.find(
    (entry) =>
      (entry.kind === undefined || entry.kind === kind || (entry.kind === 'body' && kind.startsWith('body'))) &&
      (entry.operation === undefined || entry.operation === `${method} ${route}`) &&
      isWithin(field, entry.field),
  );
}

/** Whether a dotted field path is `container` or lies below it (`messages[].name` is within `messages`). */
export function isWithin(field: string, container: string): boolean {
  return field === container || field.startsWith(`${container}.`) || field.startsWith(`${container}[]`);
}

export function isNameField(fieldName: string): boolean {
  const lower = fieldName.toLowerCase();
  return NAME_WORDS.test(lower) || NAME_SUFFIXES.test(lower);
}

/** Whether a string can be sent there at all (integer-only fields are left to the schema). */
export function acceptsString(schema: JsonSchema | undefined): boolean {
  if (!schema) return true;
  if (schema.anyOf) return schema.anyOf.some(acceptsString);
  return schema.type === undefined || schema.type === 'string';
}

/** The object branch of a schema (`anyOf: [object, null]` bodies). */
export function objectBranch(schema: JsonSchema | undefined): JsonSchema | undefined {
  if (!schema) return undefined;
  if (schema.properties || schema.type === 'object') return schema;
  return schema.anyOf?.map(objectBranch).find((branch) => branch !== undefined);
}

function arrayBranch(schema: JsonSchema): JsonSchema | undefined {
  if (schema.type === 'array') return schema;
  return schema.anyOf?.map(arrayBranch).find((branch) => branch !== undefined);
}

/**
 * An operation whose success reply says whether what it was sent is valid (`{valid: boolean}`, e.g. validate-version):
 * judging a name is its job, so a hostile name in its body may answer 200 `{valid: false}` instead of 400.
 */
export function judgesValidity(operation: OpenApiOperation): boolean {
  const reply = operation.responses?.['200']?.content?.['application/json']?.schema;
  return reply?.properties?.valid?.type === 'boolean';
}

export function bodySchema(operation: OpenApiOperation): JsonSchema | undefined {
  return operation.requestBody?.content?.['application/json']?.schema;
}

/** Body slots below `prefix`: name-like fields, the string items of name-like arrays, the keys of name-like maps. */
function bodySlots(schema: JsonSchema, prefix: string): Array<{ kind: SlotKind; field: string }> {
  const object = objectBranch(schema);
  if (!object?.properties) return [];
  const slots: Array<{ kind: SlotKind; field: string }> = [];
  for (const [key, property] of Object.entries(object.properties)) {
    const field = prefix ? `${prefix}.${key}` : key;
    const array = arrayBranch(property);
    const map = objectBranch(property);
    if (isNameField(key)) {
      if (acceptsString(property)) slots.push({ kind: 'body', field });
      if (array && acceptsString(array.items)) slots.push({ kind: 'body-item', field });
      if (map && !map.properties && map.additionalProperties !== false) slots.push({ kind: 'body-key', field });
    }
    if (map?.properties) slots.push(...bodySlots(map, field));
    if (array?.items && objectBranch(array.items)?.properties) slots.push(...bodySlots(array.items, `${field}[]`));
  }
  return slots;
}

export interface Enumeration {
  slots: NameSlot[];
  /** What the NOT_NAMES list left out, to show that each entry still matches something. */
  skipped: Array<{ slot: Omit<NameSlot, 'operation'>; reason: string }>;
}

/** Every name slot of every operation in the document. */
export function enumerateNameSlots(document: OpenApiDocument): Enumeration {
  const slots: NameSlot[] = [];
  const skipped: Enumeration['skipped'] = [];
  for (const [route, operations] of Object.entries(document.paths)) {
    for (const [lowerMethod, operation] of Object.entries(operations)) {
      const method = lowerMethod.toUpperCase();
      const candidates: Array<{ kind: SlotKind; field: string }> = [];
      for (const parameter of operation.parameters ?? []) {
        if ((parameter.in === 'path' || parameter.in === 'query') && isNameField(parameter.name) && acceptsString(parameter.schema)) {
          candidates.push({ kind: parameter.in, field: parameter.name });
        }
      }
      const body = bodySchema(operation);
      if (body) candidates.push(...bodySlots(body, ''));
      for (const candidate of candidates) {
        const exclusion = notAName(method, route, candidate.kind, candidate.field);
        if (exclusion) skipped.push({ slot: { method, route, ...candidate }, reason: exclusion.reason });
        else slots.push({ method, route, ...candidate, operation });
      }
    }
  }
  return { slots, skipped };
}
