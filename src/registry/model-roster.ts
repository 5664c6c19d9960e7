// Every model's summary kept in memory for status reads, dropped by the bus's registry events and reconciled now and then.
import type { EventEmitter } from 'node:events';
import { REGISTRY_EVENT_TYPES, type HangarEvent } from '../events/event-types.ts';
import type { ModelSummary } from '../schemas/models.ts';
import type { ModelCatalog } from './catalog.ts';

/** What the roster needs of the catalog. */
export type SummarySource = Pick<ModelCatalog, 'listModels'>;

/** What the roster needs of the bus. */
type RegistryEvents = Pick<EventEmitter<{ event: [HangarEvent] }>, 'on' | 'off'>;

interface Entry {
  generation: number;
  loadedAt: number;
  models: Promise<ModelSummary[]>;
  refreshing: boolean;
}

/** Past this age a read still answers at once from memory and refreshes behind it (a change made by another process). */
const RECONCILE_MS = 5000;
const PAGE = 500;
const ALL_TENANTS = '\u0000all';
const registryTypes = new Set<string>(REGISTRY_EVENT_TYPES);

/**
 * A status read must not pay for catalog queries on every call (it is polled by dashboards and monitors, also under
 * load). Every change to names, versions and aliases is announced on the bus after it commits, so the roster keeps
 * the last listing until such an event arrives; the next read after it waits for a fresh listing.
 */
export class ModelRoster {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;
  private readonly listener = (event: HangarEvent) => {
    if (registryTypes.has(event.type)) this.invalidate();
  };

  constructor(
    private readonly catalog: SummarySource,
    private readonly bus: RegistryEvents,
    private readonly now: () => number = Date.now,
  ) {
    bus.on('event', this.listener);
  }

  /** The summaries of every model (of `tenant` only, when given), sorted by name. */
  summaries(tenant?: string): Promise<ModelSummary[]> {
    const key = tenant ?? ALL_TENANTS;
    const entry = this.entries.get(key);
    if (!entry || entry.generation !== this.generation) return this.load(key, tenant).models;
    if (this.now() - entry.loadedAt > RECONCILE_MS && !entry.refreshing) this.refreshBehind(key, tenant, entry);
    return entry.models;
  }

  /** Forgets every listing: the next read lists again. */
  invalidate(): void {
    this.generation += 1;
  }

  close(): void {
    this.bus.off('event', this.listener);
    this.entries.clear();
  }

  private load(key: string, tenant: string | undefined): Entry {
    const entry: Entry = {
      generation: this.generation,
      loadedAt: this.now(),
      models: listAllSummaries(this.catalog, tenant),
      refreshing: false,
    };
    this.entries.set(key, entry);
    // A failed listing is not remembered: the next read tries again.
    entry.models.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    return entry;
  }

  private refreshBehind(key: string, tenant: string | undefined, entry: Entry): void {
    entry.refreshing = true;
    const generation = this.generation;
    listAllSummaries(this.catalog, tenant).then(
      (models) => {
        // An event during the listing makes it suspect: leave it to the next read's own listing.
        if (this.generation === generation && this.entries.get(key) === entry) {
          this.entries.set(key, { generation, loadedAt: this.now(), models: Promise.resolve(models), refreshing: false });
        } else entry.refreshing = false;
      },
      () => {
        entry.refreshing = false;
      },
    );
  }
}

/** Every page of the catalog's listing (of `tenant` only, when given). */
export async function listAllSummaries(catalog: SummarySource, tenant?: string): Promise<ModelSummary[]> {
  const models: ModelSummary[] = [];
  let token: string | undefined;
  do {
    const page = await catalog.listModels({ limit: PAGE, page_token: token }, tenant);
    models.push(...page.models);
    token = page.next_page_token ?? undefined;
  } while (token);
  return models;
}
