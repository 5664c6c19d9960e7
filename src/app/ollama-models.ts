// Use cases of the Ollama backend: sync the servers' models into the catalog, pull through a server as a job, delete on the server.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { ProgressResponse } from 'ollama';
import type { HangarConfig } from '../config/schema.ts';
import type { Database } from '../db/schema.ts';
import type { EventSink } from '../events/event-types.ts';
import type { DownloadJobs } from '../hub/download-jobs.ts';
import { JobStore } from '../hub/job-store.ts';
import { HangarError } from '../errors.ts';
import type { ActionContext } from '../registry/audit.ts';
import type { ModelCatalog } from '../registry/catalog.ts';
import { parseModelRef } from '../registry/model-name.ts';
import type { ModelRuntime } from '../runtime/model-runtime.ts';
import { catalogModel, ollamaSourceOf } from '../runtime/ollama/ollama-catalog.ts';
import { ollamaClient, QUICK_CALL_TIMEOUT_MS, upstreamError } from '../runtime/ollama/ollama-client.ts';
import { splitOllamaName } from '../runtime/ollama/ollama-names.ts';
import { OllamaPulls, type OllamaPullStarted } from '../runtime/ollama/ollama-pull.ts';
import { OllamaSync, type SyncReport } from '../runtime/ollama/ollama-sync.ts';
import { DEFAULT_TENANT } from '../tenants/tenant-names.ts';

export interface OllamaModelsParts {
  db: Kysely<Database>;
  catalog: ModelCatalog;
  runtime: ModelRuntime;
  jobs: DownloadJobs;
  config: () => HangarConfig;
  logger: Logger;
  events?: EventSink;
}

/**
 * The models of an Ollama server are the system's: the sync brings each server name in as a default-tenant model, and
 * the server knows no tenants (a `~tenant/` name means nothing there). A tenant's pull through it would land in a
 * tenant that cannot see it, so only system callers (and the default tenant's keys) pull library names; a tenant pulls
 * from the hub (`hf.co/<org>/<repo>:<quant>`) into its own tenant instead.
 */
function assertSystemPull(name: string, context: ActionContext): void {
  if (context.tenant === undefined || context.tenant === DEFAULT_TENANT) return;
  throw new HangarError(
    'forbidden',
    `Pulling "${name.slice(0, 160)}" through the Ollama server is system-wide (its models belong to the default tenant); tenant "${context.tenant}" can pull hf.co/<org>/<repo>:<quant> from the hub instead`,
    { required: 'system key', tenant: context.tenant },
  );
}

export class OllamaModels {
  readonly sync: OllamaSync;
  private readonly pulls: OllamaPulls;
  /** Hears the sync's warnings (name clashes, unreachable servers) after each pass; the server shows them in /health. */
  onWarnings: ((warnings: string[]) => void) | null = null;

  constructor(private readonly parts: OllamaModelsParts) {
    const held = new Set(['loading', 'loaded', 'unloading']);
    this.sync = new OllamaSync({
      db: parts.db,
      catalog: parts.catalog,
      config: parts.config,
      logger: parts.logger,
      events: parts.events,
      isHeld: (model, versionId) => {
        const snapshot = parts.runtime.snapshot(model);
        return snapshot !== null && held.has(snapshot.state) && snapshot.version?.id === versionId;
      },
      onWarnings: (warnings) => this.onWarnings?.(warnings),
    });
    this.pulls = new OllamaPulls({
      jobs: parts.jobs,
      store: new JobStore(parts.db),
      catalog: parts.catalog,
      sync: this.sync,
      logger: parts.logger,
    });
  }

  /** The servers of OLLAMA_BASE_URL (empty: the backend is off). */
  get servers(): string[] {
    return this.sync.servers;
  }

  /** Starts the background sync (at once, then periodically); never blocks a caller. */
  start(): void {
    this.sync.start();
  }

  stop(): Promise<void> {
    return this.sync.stop();
  }

  /** Syncs every server now (after a change made elsewhere). */
  syncNow(): Promise<SyncReport> {
    return this.sync.syncAll();
  }

  /**
   * Pulls an Ollama library name (`tinyllama`) through a configured server as a job of kind `ollama_pull`; `onProgress`
   * hears the server's own progress lines; `done` settles with the finished job (its result names the Hangar version).
   */
  pullFromOllama(name: string, context: ActionContext, onProgress?: (line: ProgressResponse) => void): Promise<OllamaPullStarted> {
    assertSystemPull(name, context);
    return this.pulls.pull(name, context, onProgress);
  }

  /** True when `name` is a model the Ollama sync brought in. */
  async isOllamaModel(name: string): Promise<boolean> {
    const state = await catalogModel(this.parts.db, parseModelRef(name).name);
    return state?.versions.some((v) => ollamaSourceOf(v) !== null) ?? false;
  }

  /**
   * Deletes on its server what a Hangar delete of `nameRef` removes: every tag of the model, or with `name:ref` the tags
   * whose digest is that version's. Returns the Ollama names deleted. A failing server is a 502 naming it (nothing deleted).
   */
  async deleteOnServer(nameRef: string): Promise<string[]> {
    const ref = parseModelRef(nameRef);
    const versions =
      ref.ref === undefined
        ? ((await catalogModel(this.parts.db, ref.name))?.versions ?? [])
        : [(await this.parts.catalog.resolve(nameRef)).version];
    const deleted: string[] = [];
    const byServer = new Map<string, Set<string>>();
    for (const version of versions) {
      const source = ollamaSourceOf(version);
      if (!source) continue;
      const digests = byServer.get(source.server) ?? new Set<string>();
      digests.add(source.digest);
      byServer.set(source.server, digests);
    }
    for (const [server, digests] of byServer) {
      try {
        const client = ollamaClient(server, { timeoutMs: QUICK_CALL_TIMEOUT_MS });
        const listed = await client.list();
        for (const entry of listed.models) {
          const split = splitOllamaName(entry.name || entry.model);
          if (split.name?.model !== ref.name || !digests.has(entry.digest)) continue;
          await client.delete({ model: split.name.full });
          deleted.push(split.name.full);
        }
      } catch (error) {
        throw upstreamError(server, error, `deleting ${nameRef}`);
      }
    }
    return deleted;
  }
}
