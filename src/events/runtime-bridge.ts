// Between the runtime and the event bus: its deployment events (load, unload, failure…) onto the bus, and new formats back to it.
import type { RuntimeEvent } from '../runtime/model-runtime.ts';
import type { EventBus } from './event-bus.ts';
import type { HangarEvent } from './event-types.ts';

/** The part of ModelRuntime the bridge needs; a plain EventEmitter fits too. */
export interface RuntimeEventSource {
  on(event: 'event', listener: (event: RuntimeEvent) => void): unknown;
  off?(event: 'event', listener: (event: RuntimeEvent) => void): unknown;
}

/** Republishes runtime events on the bus with the runtime's own time; returns a function that stops it. */
export function bridgeRuntimeEvents(runtime: RuntimeEventSource, bus: EventBus): () => void {
  const listener = (event: RuntimeEvent) => {
    bus.publish({ type: event.type, model: event.model, version: event.version, at: event.at, data: { ...(event.details ?? {}) } });
  };
  runtime.on('event', listener);
  return () => {
    runtime.off?.('event', listener);
  };
}

/** What warmSparesForNewFormats needs of ModelRuntime. */
export interface SpareWarmer {
  warmSpareFor(format: string): void;
}

/**
 * A version of a format the server had no model of gets its backend's warm spare at once, so its first load is not
 * a cold process start (start-up only warms the formats already in the catalog). Returns a function that stops it.
 */
export function warmSparesForNewFormats(bus: EventBus, runtime: SpareWarmer): () => void {
  const listener = (event: HangarEvent) => {
    if (event.type === 'version.created' && typeof event.data.format === 'string') runtime.warmSpareFor(event.data.format);
  };
  bus.on('event', listener);
  return () => {
    bus.off('event', listener);
  };
}
