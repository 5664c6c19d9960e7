// What a route declares about itself beyond its schema; read by hooks (audit now, roles with auth).
declare module 'fastify' {
  interface FastifyContextConfig {
    /** Audit action a mutating route records, e.g. `model.import`. */
    audit?: string;
    /** Who may call the route: every route declares it (start-up fails otherwise). */
    role?: import('../auth/roles.ts').RouteAccess;
    /** Inference routes have their own rate-limit budget. */
    inference?: boolean;
    /** A system-wide view or setting (configuration, hardware, tenants): a tenant's key gets 403, only system keys pass. */
    system?: boolean;
    /** Request fields that name models (schema keyword x-model-name), found at start-up by the tenant-names plugin. */
    modelNameFields?: Partial<Record<'params' | 'querystring' | 'body', string[]>>;
  }
  interface FastifyInstance {
    /** Every route registered, as Fastify saw it (for the OpenAPI coverage check and the dashboard). */
    registeredRoutes: Array<{ method: string; url: string; config: FastifyContextConfig }>;
  }
  interface FastifyRequest {
    /** Who is asking: the API key's name with auth on, `anonymous` otherwise. */
    actor: string;
    /** The caller's role: from its key with auth on (null without a valid key), admin with auth off. */
    role: import('../auth/roles.ts').Role | null;
    /** The API key's id, for per-key rate limits. */
    keyId: string | null;
    /** Whose models the caller sees: its key's tenant, or every tenant (a system key, or auth off). */
    scope: import('../tenants/tenant-scope.ts').TenantScope;
  }
}

export {};
