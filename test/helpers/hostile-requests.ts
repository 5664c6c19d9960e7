// Builds the request that puts one hostile value in one name slot, every other field holding a valid value; and sends it over raw HTTP.
import http from 'node:http';
import { acceptsString, bodySchema, isNameField, objectBranch, type JsonSchema, type NameSlot } from './name-slots.ts';
import { urlForms } from './hostile-values.ts';

/** Valid values for the other fields, so that the hostile one is what the server has to refuse. */
export interface Baselines {
  /** A model that exists. */
  model: string;
  /** `sha256:<hex>` of a blob that is stored. */
  digest: string;
  /** A file the server can import. */
  importPath: string;
}

/** Fields that exclude each other: a baseline fills one of a group, never the one the hostile value is in plus another. */
const ALTERNATIVES: ReadonlyArray<readonly string[]> = [
  ['model', 'name'],
  ['from', 'files'],
];

/** Optional fields that start work (quantizing, picking a variant) and so stay out of a baseline unless required. */
const NOT_FILLED_WHEN_OPTIONAL = new Set(['quantize', 'quantization', 'type', 'variant']);

function valueFor(key: string, schema: JsonSchema | undefined, b: Baselines): unknown {
  if (schema?.enum) return schema.enum[0];
  if (schema?.const !== undefined) return schema.const;
  if (schema?.anyOf) {
    const branch = schema.anyOf.find((s) => s.type !== 'null') ?? schema.anyOf[0];
    const fromName = byName(key, b, schema);
    return fromName !== undefined ? fromName : valueFor(key, branch, b);
  }
  const fromName = byName(key, b, schema);
  if (fromName !== undefined) return fromName;
  switch (schema?.type) {
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return false;
    case 'array':
      return Array.from({ length: Math.max(1, schema.minItems ?? 1) }, () => valueFor(key, schema.items, b));
    case 'object':
      return objectValue(schema, b);
    default:
      return 'hi'.padEnd(schema?.minLength ?? 2, 'x');
  }
}

/** A valid value chosen by what the field is called. */
function byName(key: string, b: Baselines, schema: JsonSchema | undefined): unknown {
  switch (key) {
    case 'name':
    case 'model':
    case 'model_name':
    case 'from':
    case 'source':
      return b.model;
    case 'destination':
      return `${b.model}-copy`;
    case 'repo_id':
    case 'repo':
      return 'org/repo';
    case 'version':
    case 'ref':
      return acceptsString(schema) ? '1' : 1;
    case 'alias':
      return 'staging';
    case 'digest':
      return b.digest;
    case 'path':
    case 'file':
    case 'filename':
      return b.importPath;
    case 'files':
      return { 'model.gguf': b.digest };
    case 'revision':
      return 'main';
    case 'type':
    case 'quantize':
    case 'quantization':
      return 'Q8_0';
    case 'url':
      return 'http://127.0.0.1:9/hook';
    case 'events':
      return ['*'];
    case 'secret':
      return 's'.repeat(Math.max(16, schema?.minLength ?? 16));
    default:
      return key.endsWith('_id') ? 'no-such-id' : undefined;
  }
}

function objectValue(schema: JsonSchema, b: Baselines, slotKey?: string): Record<string, unknown> {
  const object = objectBranch(schema);
  const value: Record<string, unknown> = {};
  if (!object?.properties) return value;
  const required = new Set(object.required ?? []);
  const excluded = new Set(ALTERNATIVES.filter((group) => slotKey !== undefined && group.includes(slotKey)).flat());
  for (const [key, property] of Object.entries(object.properties)) {
    if (key === slotKey) continue;
    const optionalName = isNameField(key) && !NOT_FILLED_WHEN_OPTIONAL.has(key) && byName(key, b, property) !== undefined;
    if (!required.has(key) && !optionalName) continue;
    if (!required.has(key) && excluded.has(key)) continue;
    // One field of a group of alternatives is enough.
    const group = ALTERNATIVES.find((g) => g.includes(key));
    if (!required.has(key) && group?.some((other) => other !== key && other in value)) continue;
    value[key] = valueFor(key, property, b);
  }
  return value;
}

/** Sets `value` at a dotted field path (`a.b`, `a[].b`), building what is missing. */
function setField(root: Record<string, unknown>, field: string, value: unknown): void {
  const parts = field.split('.');
  let target: Record<string, unknown> = root;
  for (const part of parts.slice(0, -1)) {
    const isArray = part.endsWith('[]');
    const key = isArray ? part.slice(0, -2) : part;
    if (isArray) {
      const list = Array.isArray(target[key]) ? (target[key] as Record<string, unknown>[]) : [{}];
      target[key] = list;
      target = list[0] as Record<string, unknown>;
    } else {
      target[key] = typeof target[key] === 'object' && target[key] !== null ? target[key] : {};
      target = target[key] as Record<string, unknown>;
    }
  }
  target[parts[parts.length - 1] as string] = value;
}

export interface HostileRequest {
  method: string;
  /** The request target exactly as sent. */
  url: string;
  body?: string;
  /** How the hostile value travels, for messages. */
  form: string;
}

/** The requests (one per URL form for parameters) that put `value` in `slot`. */
export function hostileRequests(slot: NameSlot, value: string, b: Baselines): HostileRequest[] {
  const parameters = slot.operation.parameters ?? [];
  const schema = bodySchema(slot.operation);
  const topKey = slot.field.split('.')[0]?.replace(/\[\]$/, '');
  const body = schema ? objectValue(schema, b, slot.kind.startsWith('body') ? topKey : undefined) : undefined;
  if (body && slot.kind === 'body') setField(body, slot.field, value);
  if (body && slot.kind === 'body-item') setField(body, slot.field, [value]);
  if (body && slot.kind === 'body-key') setField(body, slot.field, { [value]: b.digest });
  const forms = slot.kind === 'path' || slot.kind === 'query' ? urlForms(value) : [{ encoding: 'body', text: '' }];
  return forms.map((form) => {
    let url = slot.route.replace(/\{([^}]+)\}/g, (_whole, name: string) => {
      if (slot.kind === 'path' && name === slot.field) return form.text;
      const parameter = parameters.find((p) => p.in === 'path' && p.name === name);
      return encodeURIComponent(String(valueFor(name, parameter?.schema, b)));
    });
    const query = parameters
      .filter((p) => p.in === 'query' && (p.required || (slot.kind === 'query' && p.name === slot.field)))
      .map(
        (p) =>
          `${p.name}=${p.name === slot.field && slot.kind === 'query' ? form.text : encodeURIComponent(String(valueFor(p.name, p.schema, b)))}`,
      );
    if (query.length) url += `?${query.join('&')}`;
    return {
      method: slot.method,
      url,
      body: body === undefined ? undefined : JSON.stringify(body),
      form: `${slot.kind} ${slot.field} (${form.encoding})`,
    };
  });
}

export interface RawReply {
  status: number;
  contentType: string;
  body: unknown;
  text: string;
}

/** Sends the request target byte for byte (fetch would resolve `..` and `%2e%2e` segments before they leave). */
export function sendRaw(baseUrl: string, request: HostileRequest): Promise<RawReply> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      {
        host: hostname,
        port,
        method: request.method,
        path: request.url,
        headers:
          request.body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(request.body) },
      },
      (response) => {
        const contentType = String(response.headers['content-type'] ?? '');
        // An event stream never ends: its status is the answer.
        if (contentType.startsWith('text/event-stream') || contentType.startsWith('application/x-ndjson')) {
          response.destroy();
          resolve({ status: response.statusCode ?? 0, contentType, body: undefined, text: '' });
          return;
        }
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            body = undefined;
          }
          resolve({ status: response.statusCode ?? 0, contentType, body, text });
        });
        response.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(request.body);
  });
}
