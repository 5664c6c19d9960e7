// What the runtime announces as models load, fail, crash, restart, swap and unload (bridged onto the event bus).
import type { RuntimeEventType } from '../events/event-types.ts';

export type { RuntimeEventType } from '../events/event-types.ts';

export interface RuntimeEvent {
  type: RuntimeEventType;
  model: string;
  version: number | null;
  at: string;
  details?: Record<string, unknown>;
}
