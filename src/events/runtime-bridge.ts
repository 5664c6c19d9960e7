// Carries the runtime's deployment events (load, unload, failure…) onto the event bus.
import type { RuntimeEvent } from '../runtime/model-runtime.ts';
import type { EventBus } from './event-bus.ts';

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
