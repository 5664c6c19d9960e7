// The Ollama catalog sync: each server's /api/tags joins the catalog as backend `ollama` (at start-up, periodically, on demand), clashes refused with a warning.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { HangarConfig } from '../../config/schema.ts';
import type { Database } from '../../db/schema.ts';
import type { EventSink } from '../../events/event-types.ts';
import type { ModelCatalog } from '../../registry/catalog.ts';
import { SerialLock } from '../../store/serial-lock.ts';
import { applyModelTags, catalogModel, modelsFromServer, ollamaSourceOf, removeVersion, type ListedTag } from './ollama-catalog.ts';
import { ollamaClient, ollamaServerUrls, QUICK_CALL_TIMEOUT_MS, upstreamError } from './ollama-client.ts';
import { splitOllamaName } from './ollama-names.ts';
import { forgetModelServer, markAnswered, markFailing, recordModelServer } from './server-health.ts';

/** How often every server's models are listed again. */
export const SYNC_INTERVAL_MS = 30_000;

export interface OllamaSyncOptions {
  db: Kysely<Database>;
  catalog: ModelCatalog;
  config: () => HangarConfig;
  logger: Logger;
  events?: EventSink;
  /** Whether the runtime holds (loads, serves) this version now: such a version is never removed under it. */
  isHeld?: (model: string, versionId: string) => boolean;
  /** Hears the sync's current warnings (name clashes, names Hangar cannot hold, unreachable servers) after each pass. */
  onWarnings?: (warnings: string[]) => void;
}

/** What one pass found, per server. */
export interface SyncReport {
  servers: Array<{ server: string; ok: boolean; reason: string | null; models: string[] }>;
  warnings: string[];
}

export class OllamaSync {
  private readonly lock = new SerialLock();
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private lastWarnings: string[] = [];

  constructor(private readonly o: OllamaSyncOptions) {}

  get servers(): string[] {
    return ollamaServerUrls(this.o.config().ollama_base_url);
  }

  get warnings(): readonly string[] {
    return this.lastWarnings;
  }

  /** Syncs now in the background and then every SYNC_INTERVAL_MS; status calls never wait for it. */
  start(): void {
    // The timer runs even with no server yet: OLLAMA_BASE_URL may be set later through the config API (a pass without servers costs nothing).
    const pass = () => {
      void this.syncAll().catch((error: unknown) => this.o.logger.error({ err: error }, 'Ollama catalog sync failed'));
    };
    pass();
    this.timer = setInterval(pass, SYNC_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    return this.lock.run(async () => undefined);
  }

  /** One pass over every server (passes never overlap: a second caller waits for the running one, then runs its own). */
  syncAll(): Promise<SyncReport> {
    return this.lock.run(async () => {
      const report: SyncReport = { servers: [], warnings: [] };
      // Names the earlier servers in the list already brought in: a later server's same name is a clash.
      const claimed = new Map<string, string>();
      for (const server of this.servers) {
        if (this.stopped) break;
        report.servers.push(await this.syncServer(server, claimed, report.warnings));
      }
      this.lastWarnings = report.warnings;
      this.o.onWarnings?.(report.warnings);
      return report;
    });
  }

  private async syncServer(server: string, claimed: Map<string, string>, warnings: string[]): Promise<SyncReport['servers'][number]> {
    let listed: Awaited<ReturnType<ReturnType<typeof ollamaClient>['list']>>;
    try {
      listed = await ollamaClient(server, { timeoutMs: QUICK_CALL_TIMEOUT_MS }).list();
      markAnswered(server);
    } catch (error) {
      const reason = upstreamError(server, error, 'listing its models').message;
      markFailing(server, reason);
      warnings.push(reason);
      for (const model of await modelsFromServer(this.o.db, server)) recordModelServer(model, server);
      this.o.logger.warn({ server, reason }, 'Ollama server not synced');
      // An unreachable server's models stay in the catalog (status shows why they cannot serve); they come back with it.
      return { server, ok: false, reason, models: [] };
    }
    const byModel = new Map<string, ListedTag[]>();
    for (const entry of listed.models) {
      const split = splitOllamaName(entry.name || entry.model);
      if (!split.name) {
        warnings.push(`Ollama model ${entry.name} on ${server} is not synced: ${split.problem}`);
        continue;
      }
      const tags = byModel.get(split.name.model) ?? [];
      tags.push({ name: split.name, entry });
      byModel.set(split.name.model, tags);
    }
    const synced: string[] = [];
    for (const [model, tags] of byModel) {
      const clash = await this.clashOf(model, server, claimed);
      if (clash) {
        const message = `Ollama model ${tags.map((t) => t.name.full).join(', ')} on ${server} is not synced: ${clash}; rename one of them`;
        warnings.push(message);
        this.o.logger.warn({ server, model }, message);
        continue;
      }
      claimed.set(model, server);
      await applyModelTags(this.o.db, server, model, tags, (id) => this.o.isHeld?.(model, id) ?? false, this.o.catalog, this.o.events);
      recordModelServer(model, server);
      synced.push(model);
    }
    await this.removeVanished(server, new Set(byModel.keys()));
    return { server, ok: true, reason: null, models: synced };
  }

  /** Why `model` from `server` cannot join the catalog (a local model, or another server's, holds the name), or null. */
  private async clashOf(model: string, server: string, claimed: Map<string, string>): Promise<string | null> {
    const earlier = claimed.get(model);
    if (earlier !== undefined && earlier !== server) return `the Ollama server ${earlier} already provides a model named ${model}`;
    const state = await catalogModel(this.o.db, model);
    if (!state) return null;
    for (const version of state.versions) {
      const source = ollamaSourceOf(version);
      if (!source) return `Hangar already has a local model named ${model} (version ${version.version}, ${version.format})`;
      if (source.server !== server) return `the Ollama server ${source.server} already provides a model named ${model}`;
    }
    return null;
  }

  /** Models this server provided that it no longer lists leave the catalog (unless the runtime holds them). */
  private async removeVanished(server: string, present: Set<string>): Promise<void> {
    for (const model of await modelsFromServer(this.o.db, server)) {
      if (present.has(model)) continue;
      const state = await catalogModel(this.o.db, model);
      for (const version of state?.versions ?? []) {
        if (ollamaSourceOf(version)?.server !== server || this.o.isHeld?.(model, version.id)) continue;
        await removeVersion(this.o.catalog, model, version.version);
      }
      if (!(await catalogModel(this.o.db, model))) forgetModelServer(model);
    }
  }
}
