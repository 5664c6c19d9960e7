// Every event Hangar publishes: the type names, the shape of each one's `data`, and the event as the bus carries it.

/** What the runtime emits about a deployment (src/runtime/model-runtime.ts); the bridge republishes them unchanged. */
export const RUNTIME_EVENT_TYPES = [
  'model.loading',
  'model.loaded',
  'model.unloaded',
  'model.evicted',
  'model.failed',
  'model.crashed',
  'model.restarting',
  'model.swapped',
] as const;
export type RuntimeEventType = (typeof RUNTIME_EVENT_TYPES)[number];

/** What the catalog and the registry announce once their transaction has committed. */
export const REGISTRY_EVENT_TYPES = [
  'version.created',
  'version.deleted',
  'model.deleted',
  'model.promoted',
  'model.rolled_back',
  'alias.moved',
  'alias.deleted',
] as const;
export type RegistryEventType = (typeof REGISTRY_EVENT_TYPES)[number];

/** How a download job ended or stopped (progress stays on the job stream, it is not a bus event). */
export const DOWNLOAD_EVENT_TYPES = ['download.completed', 'download.failed', 'download.paused', 'download.cancelled'] as const;
export type DownloadEventType = (typeof DOWNLOAD_EVENT_TYPES)[number];

/** How a quantize job ended (its progress, like a download's, stays on the job stream). */
export const QUANTIZE_EVENT_TYPES = ['quantize.completed', 'quantize.failed', 'quantize.cancelled'] as const;
export type QuantizeEventType = (typeof QUANTIZE_EVENT_TYPES)[number];

/** Every event type, for SSE `types` and webhook subscriptions (which also take `family.*` and `*`). */
export const HANGAR_EVENT_TYPES = [
  ...RUNTIME_EVENT_TYPES,
  ...REGISTRY_EVENT_TYPES,
  ...DOWNLOAD_EVENT_TYPES,
  ...QUANTIZE_EVENT_TYPES,
] as const;
export type HangarEventType = (typeof HANGAR_EVENT_TYPES)[number];

// Type aliases, not interfaces: each must fit the bus's `Record<string, unknown>` data, which needs the implicit index signature.
type VersionsRemovedData = { versions: number[] };
type PromotionData = { from_version: number | null; actor: string; reason: string | null };
type AliasData = { alias: string };
type DownloadData = { job_id: string; repo_id: string; variant: string; error: { code: string; message: string } | null };
type QuantizeData = { job_id: string; source: string | null; type: string; error: { code: string; message: string } | null };

/** The `data` each event type carries. Runtime events carry the runtime's details as they are (pid, device, load_ms, reason…). */
export type HangarEventData = { [T in RuntimeEventType]: Record<string, unknown> } & {
  'version.created': { format: string; size_bytes: number; alias: string | null; source: Record<string, unknown> };
  'version.deleted': VersionsRemovedData;
  'model.deleted': VersionsRemovedData;
  'model.promoted': PromotionData;
  'model.rolled_back': PromotionData;
  'alias.moved': AliasData;
  'alias.deleted': AliasData;
} & { [T in DownloadEventType]: DownloadData } & { [T in QuantizeEventType]: QuantizeData };

/** One thing that happened, as SSE clients and webhook receivers see it. */
export interface HangarEvent {
  /** `<epoch ms>-<sequence>`: increases within a process and across restarts (clock permitting). */
  id: string;
  type: HangarEventType;
  model: string | null;
  version: number | null;
  /** ISO time it happened. */
  at: string;
  data: Record<string, unknown>;
}

/** What the bus accepts; `at` defaults to now (the runtime bridge passes the runtime's own time). */
export type HangarEventInput = Omit<HangarEvent, 'id' | 'at'> & { at?: string };

/** An event as a domain publisher states it: its type together with the data shape that type carries. */
export type DomainEvent = {
  [T in HangarEventType]: { type: T; model: string | null; version: number | null; data: HangarEventData[T] };
}[HangarEventType];

/** Where committed changes are announced (the event bus); optional in the domain so tools can run without one. */
export interface EventSink {
  publish(event: DomainEvent): unknown;
}
