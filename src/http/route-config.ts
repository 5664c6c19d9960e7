// What a route declares about itself beyond its schema; read by hooks (audit now, roles with auth).
declare module 'fastify' {
  interface FastifyContextConfig {
    /** Audit action a mutating route records, e.g. `model.import`. */
    audit?: string;
  }
  interface FastifyInstance {
    /** Every route registered, as Fastify saw it (for the OpenAPI coverage check and the dashboard). */
    registeredRoutes: Array<{ method: string; url: string }>;
  }
  interface FastifyRequest {
    /** Who is asking: the API key's name with auth on, `anonymous` otherwise. */
    actor: string;
  }
}

export {};
