// Route schemas compiled on a route's first use: request validators (strict bodies, coercing query/params) and response serializers.
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler, FastifyServerOptions } from 'fastify';

// ajv-formats is CommonJS; its default export arrives wrapped under ESM.
const addFormats = ((addFormatsModule as unknown as { default?: typeof addFormatsModule }).default ?? addFormatsModule) as unknown as (
  ajv: Ajv,
) => Ajv;

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ allErrors: false, useDefaults: true, removeAdditional: false, strict: false, ...options });
  addFormats(ajv);
  return ajv;
}

/** Made on the first compile: a server that is never sent a body never builds the body Ajv. */
let bodyAjv: Ajv | undefined;
let parameterAjv: Ajv | undefined;

function compileRequestSchema(schema: object, httpPart: string | undefined): ValidateFunction {
  if (httpPart === 'body') {
    bodyAjv ??= makeAjv({ coerceTypes: false });
    return bodyAjv.compile(schema);
  }
  parameterAjv ??= makeAjv({ coerceTypes: 'array' });
  return parameterAjv.compile(schema);
}

/**
 * What Fastify calls as a validator: Ajv's signature, with `errors` read after a failed call. Compiling ~100 routes' schemas at
 * start-up took most of the start time and tens of MB that an idle server never uses, so each compiles on its first request.
 * The compiled function is the same one an eager compile would make: the same checks, coercions, defaults and error messages.
 */
interface LazyValidator {
  (data: unknown, dataCxt?: Parameters<ValidateFunction>[1]): boolean;
  errors?: ErrorObject[] | null;
  /** Fastify passes the parent object (so Ajv may replace a root value, e.g. coerce a lone query value) only to validators carrying this, as Ajv's do. */
  schemaEnv: true;
}

type Serializer = (payload: unknown) => string;
type SerializerCompiler = (route: { schema: unknown; method: string; url: string; httpStatus: string; contentType?: string }) => Serializer;
type SerializerFactory = (externalSchemas: unknown, serializerOpts: FastifyServerOptions['serializerOpts']) => SerializerCompiler;
type SchemaController = NonNullable<FastifyServerOptions['schemaController']>;
type CompilersFactory = NonNullable<SchemaController['compilersFactory']>;

/**
 * Fastify's own default serializer factory (fast-json-stringify through @fastify/fast-json-stringify-compiler), resolved from
 * Fastify's install so it is the very copy Fastify would use; loaded on the first response that has a schema.
 */
function defaultSerializerFactory(): SerializerFactory {
  const fromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'));
  const selector = fromFastify('@fastify/fast-json-stringify-compiler') as { SerializerSelector: () => SerializerFactory };
  return selector.SerializerSelector();
}

export interface LazySchemas {
  /** Fastify's `schemaController` option: both compilers lazy. */
  schemaController: SchemaController;
  /**
   * Builds every validator and serializer not built yet and returns how many the app has. Start-up used to fail on a schema
   * Ajv or fast-json-stringify rejects; now its first request would answer 500, so a test calls this to fail as early.
   */
  compileAll: () => number;
}

/** One per app: the compilers, and the list of what they deferred (for compileAll). */
export function lazySchemas(): LazySchemas {
  const deferred: Array<() => unknown> = [];

  const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) => {
    let compiled: ValidateFunction | undefined;
    const prepare = () => {
      compiled ??= compileRequestSchema(schema, httpPart);
      return compiled;
    };
    const validate: LazyValidator = (data, dataCxt) => {
      const check = prepare();
      // No schema here is `$async`, so Ajv answers synchronously.
      const result = check(data, dataCxt) as boolean;
      validate.errors = check.errors;
      return result;
    };
    validate.errors = null;
    validate.schemaEnv = true;
    deferred.push(prepare);
    return validate;
  };

  // Bad response schemas fail on their first response (Fastify answers 500 with the serialization error), or in compileAll.
  const buildSerializer: SerializerFactory = (externalSchemas, serializerOpts) => {
    let compiler: SerializerCompiler | undefined;
    return (route) => {
      let serialize: Serializer | undefined;
      const prepare = () => {
        compiler ??= defaultSerializerFactory()(externalSchemas, serializerOpts);
        serialize ??= compiler(route);
        return serialize;
      };
      deferred.push(prepare);
      return (payload) => prepare()(payload);
    };
  };

  return {
    // Fastify's typings describe its default compilers' exact shapes; these take and return the same values.
    schemaController: {
      compilersFactory: {
        buildValidator: (() => validatorCompiler) as unknown as CompilersFactory['buildValidator'],
        buildSerializer: buildSerializer as unknown as CompilersFactory['buildSerializer'],
      },
    },
    compileAll: () => {
      for (const prepare of deferred) prepare();
      return deferred.length;
    },
  };
}
