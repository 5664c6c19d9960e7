// What this process last learned about each Ollama server's reachability, shared by the catalog sync, the launcher and status.

export interface ServerHealth {
  ok: boolean;
  /** Why the last call failed (null while it answers). */
  reason: string | null;
  checkedAt: number;
}

// Process-wide on purpose: whether a remote server answers is a fact about that server, whichever part of Hangar asked.
const healthByServer = new Map<string, ServerHealth>();
/** Which server each synced Ollama model (Hangar name) belongs to. */
const serverOfModel = new Map<string, string>();

export function markAnswered(server: string): void {
  healthByServer.set(server, { ok: true, reason: null, checkedAt: Date.now() });
}

export function markFailing(server: string, reason: string): void {
  healthByServer.set(server, { ok: false, reason, checkedAt: Date.now() });
}

export function serverHealth(server: string): ServerHealth | null {
  return healthByServer.get(server) ?? null;
}

export function recordModelServer(name: string, server: string): void {
  serverOfModel.set(name, server);
}

export function forgetModelServer(name: string): void {
  serverOfModel.delete(name);
}

/** Why the Ollama model `name` cannot be served now (its server is failing), or null. */
export function unavailableReason(name: string): string | null {
  const server = serverOfModel.get(name);
  if (server === undefined) return null;
  const health = healthByServer.get(server);
  return health && !health.ok ? health.reason : null;
}
