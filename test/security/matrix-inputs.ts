// The matrix's semantic values: which fixture a field names (t1's model, job, webhook, key…), fresh names for what a request creates, and per-operation exceptions.
import { createHash } from 'node:crypto';
import { FIXTURE_BERT_REPO, FIXTURE_GGUF_REPO } from '../../scripts/lib/hub-repos.ts';
import type { FieldContext, FieldOverride, OverrideValue, RawBody } from './openapi-inputs.ts';
import { ownerOf, T1, type MatrixWorld, type Principal } from './matrix-fixtures.ts';

/** Kinds of fixture a field can address; the matrix swaps each for a missing one of the same kind to compare answers. */
export const MISSING: Record<string, string> = {
  model: 'mx-missing-model',
  job: 'mx-missing-job',
  webhook: 'mx-missing-webhook',
  key: 'mx-missing-key',
};

/** The missing counterpart of a value that addresses a fixture: a qualified name keeps its `~t1/` prefix. */
export function missingValue(ref: string, value: string): string | undefined {
  const missing = MISSING[ref];
  if (missing === undefined) return undefined;
  const prefix = /^~[a-z0-9-]+\//.exec(value)?.[0] ?? '';
  return `${prefix}${missing}`;
}

/** Operations that need a text-generation model (the GGUF); every other model field names the ONNX embedder. */
const GENERATION = /generate|chat|completions/;
/** Ollama's own surface (not Hangar's /api/v1): these bodies stream NDJSON unless stream is false. */
const OLLAMA = /^\/api\/(?!v1\/)/;

const BLOB = Buffer.from('matrix blob bytes\n');
const BLOB_DIGEST = `sha256:${createHash('sha256').update(BLOB).digest('hex')}`;

let freshCounter = 0;

/** A name nothing has yet, carrying its owner (`mx-t2-7`), valid as a model, key and tenant name. */
export function freshName(principal: Principal): string {
  freshCounter += 1;
  return `mx-${ownerOf(principal)}-${freshCounter}`;
}

function pathOf(operation: string): string {
  return operation.slice(operation.indexOf(' ') + 1);
}

/**
 * The override for one (operation, principal): t1 keys and the anonymous principals send t1's names as a t1
 * client would; the system key sends them qualified (`~t1/…`, as its listings show them); t2's admin sends
 * t1's plain names and ids, which must reach nothing of t1's.
 */
export function matrixOverride(world: MatrixWorld, principal: Principal): FieldOverride {
  // The system key names t1's models as its listings show them; so does t2's admin when it tries to reach them.
  const qualified = principal === 'system' || principal === 'other_qualified';
  const owner = ownerOf(principal);
  const model = (operation: string): OverrideValue => {
    const base = GENERATION.test(pathOf(operation)) ? T1.chatModel : T1.embedModel;
    return { value: qualified ? `~t1/${base}` : base, ref: 'model' };
  };
  const fresh = (): OverrideValue => ({ value: freshName(principal) });
  return (field: FieldContext): OverrideValue | undefined => {
    const { operation, location, name, required } = field;
    const route = pathOf(operation);
    const exception = OPERATION_OVERRIDES[operation]?.(field, { world, principal, model: () => model(operation), fresh });
    if (exception !== undefined) return exception === SKIP ? undefined : exception;
    if (location === 'body' && name === '') return undefined;
    switch (name) {
      case 'name':
        if (location === 'path') return model(operation);
        return required ? fresh() : undefined; // a body's required name is what the request creates
      case 'model':
      case 'model_name':
        return model(operation);
      case 'path':
        return { value: world.onnxFolder };
      case 'repo_id':
        return { value: FIXTURE_BERT_REPO };
      case 'id':
        if (route.startsWith('/api/v1/jobs/')) return { value: world.ids.job, ref: 'job' };
        if (route.startsWith('/api/v1/webhooks/')) return { value: world.ids.webhook, ref: 'webhook' };
        if (route.startsWith('/api/v1/keys/')) return { value: world.ids.victimKey, ref: 'key' };
        return undefined;
      case 'version':
        return location === 'path' ? { value: '1' } : required ? { value: 1 } : undefined;
      case 'alias':
        return { value: T1.alias };
      case 'tenant':
        return location === 'path' ? { value: T1.tenant } : undefined;
      case 'q':
        return { value: 'tiny' };
      case 'url':
        return { value: `http://127.0.0.1:9/hook-${owner}` };
      case 'events':
        return { value: T1.quietEvents };
      case 'last_event_id':
        return location === 'query' && world.firstEventId ? { value: world.firstEventId } : undefined;
      case 'input':
        return { value: 'hello world' };
      case 'prompt':
        return { value: 'Hello' };
      case 'messages':
        return { value: [{ role: 'user', content: 'Hello' }] };
      case 'max_tokens':
        return { value: 4 };
      case 'stream':
        return OLLAMA.test(route) ? { value: false } : undefined;
      default:
        return undefined;
    }
  };
}

/** An exception's answer that means "send nothing for this field" (undefined means "no exception here"). */
const SKIP: OverrideValue = { value: undefined };

interface ExceptionContext {
  world: MatrixWorld;
  principal: Principal;
  model: () => OverrideValue;
  fresh: () => OverrideValue;
}

type Exception = (field: FieldContext, ctx: ExceptionContext) => OverrideValue | undefined;

/** Where a field's name alone does not say what a valid request sends. */
const OPERATION_OVERRIDES: Record<string, Exception> = {
  // The target model of a download is what it creates; the repo is the fixture hub's tiny BERT.
  'POST /api/v1/models/download': (f, c) => (f.name === 'name' ? c.fresh() : undefined),
  // ONNX models quantize to fp16 or q8 (the GGUF types are for llama.cpp models).
  'POST /api/v1/models/{name}/quantize': (f) => (f.name === 'type' ? { value: 'fp16' } : undefined),
  // An Ollama pull of a hub GGUF repo (hf.co/org/repo:quant), from the fixture hub.
  'POST /api/pull': (f) =>
    f.name === 'model' ? { value: `hf.co/${FIXTURE_GGUF_REPO}:Q4_0` } : f.name === 'name' || f.name === 'insecure' ? SKIP : undefined,
  // A copy of t1's model under a new name.
  'POST /api/copy': (f, c) => (f.name === 'source' ? c.model() : f.name === 'destination' ? c.fresh() : undefined),
  // A new model built from t1's model: `model` is what it creates, `from` the source.
  'POST /api/create': (f, c) => (f.name === 'model' ? c.fresh() : f.name === 'from' ? c.model() : undefined),
  // The blob route takes raw bytes whose sha256 is the path's digest.
  'POST /api/blobs/{digest}': (f) =>
    f.name === 'digest'
      ? { value: BLOB_DIGEST }
      : f.location === 'body' && f.name === ''
        ? { value: { raw: BLOB, contentType: 'application/octet-stream' } satisfies RawBody }
        : undefined,
  // Ollama's options carry the token budget (num_predict), keeping generation short.
  'POST /api/generate': (f) => (f.name === 'options' ? { value: { num_predict: 4 } } : undefined),
  'POST /api/chat': (f) => (f.name === 'options' ? { value: { num_predict: 4 } } : undefined),
};
