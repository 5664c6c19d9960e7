// Grammar-constrained output for llama.cpp: `json` and JSON-schema grammars, checked for what node-llama-cpp can honour, cached per schema.
import type { GbnfJsonSchema, Llama, LlamaGrammar } from 'node-llama-cpp';
import type { ResponseFormat } from '../../protocol.ts';
import { BackendError } from '../runner-backend.ts';

/** Schemas a runner keeps grammars for; a client sending a fresh schema each time must not grow memory without bound. */
const GRAMMAR_CACHE_LIMIT = 64;

/**
 * Keywords whose meaning node-llama-cpp's schema-to-grammar converter would drop silently (it would then force
 * `null`, or accept values the schema forbids), so such a schema is refused instead of answered wrongly.
 */
const UNSUPPORTED_KEYWORDS = ['allOf', 'not', 'if', 'then', 'else', 'patternProperties', 'dependentSchemas', 'propertyNames'];

/** The schema type createGrammarForJsonSchema takes when nothing is known of the schema at compile time. */
type JsonSchemaArgument = Parameters<Llama['createGrammarForJsonSchema']>[0];

/** Grammars by the text of their schema: building one parses the GBNF in native code, worth doing once per schema. */
export class GrammarCache {
  readonly #llama: Llama;
  readonly #grammars = new Map<string, Promise<LlamaGrammar>>();
  #json: Promise<LlamaGrammar> | undefined;

  constructor(llama: Llama) {
    this.#llama = llama;
  }

  /** The grammar for a response format; an unusable schema is an invalid_input error naming what is wrong. */
  async grammarFor(format: ResponseFormat): Promise<LlamaGrammar> {
    if (format.type === 'json') {
      this.#json ??= this.#llama.getGrammarFor('json');
      return this.#json;
    }
    const schema = toGrammarSchema(format.schema);
    const key = JSON.stringify(schema);
    let grammar = this.#grammars.get(key);
    if (!grammar) {
      grammar = this.#llama.createGrammarForJsonSchema(schema as JsonSchemaArgument).catch((error: unknown) => {
        this.#grammars.delete(key);
        throw new BackendError('invalid_input', `the JSON schema cannot be turned into a grammar: ${(error as Error).message}`);
      });
      if (this.#grammars.size >= GRAMMAR_CACHE_LIMIT) this.#grammars.delete(this.#grammars.keys().next().value as string);
      this.#grammars.set(key, grammar);
    }
    return grammar;
  }
}

/**
 * A client's JSON schema in the dialect node-llama-cpp converts: `anyOf` becomes `oneOf` (the same set of texts for
 * a grammar), `definitions` refs become `$defs` refs, and keywords it cannot honour are refused (invalid_input).
 */
export function toGrammarSchema(schema: Record<string, unknown>): GbnfJsonSchema {
  return normalise(schema, '#') as GbnfJsonSchema;
}

/** Keywords whose value maps names to schemas (the names are not keywords). */
const SCHEMA_MAPS = new Set(['properties', '$defs', 'definitions']);
/** Keywords whose value is data, not a schema. */
const LITERALS = new Set(['enum', 'const', 'default', 'examples', 'required', 'description', 'title']);

function normalise(value: unknown, at: string): unknown {
  if (Array.isArray(value)) return value.map((item, i) => normalise(item, `${at}/${i}`));
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (UNSUPPORTED_KEYWORDS.includes(key)) {
      throw new BackendError(
        'invalid_input',
        `the JSON schema uses "${key}" (at ${at}), which grammar-constrained output does not support`,
      );
    }
    const name = key === 'anyOf' ? 'oneOf' : key === 'definitions' ? '$defs' : key;
    if (LITERALS.has(key)) out[name] = inner;
    else if (SCHEMA_MAPS.has(key) && typeof inner === 'object' && inner !== null && !Array.isArray(inner)) {
      out[name] = Object.fromEntries(Object.entries(inner).map(([entry, schema]) => [entry, normalise(schema, `${at}/${key}/${entry}`)]));
    } else if (key === '$ref' && typeof inner === 'string') out.$ref = inner.replace(/^#\/definitions\//, '#/$defs/');
    else out[name] = normalise(inner, `${at}/${key}`);
  }
  if (typeof out.$ref === 'string' && !out.$ref.startsWith('#/$defs/')) {
    throw new BackendError('invalid_input', `the JSON schema's $ref "${out.$ref}" (at ${at}) is not a local #/$defs/ reference`);
  }
  return out;
}
