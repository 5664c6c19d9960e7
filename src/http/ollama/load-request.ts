// Ollama's "empty request" convention: a generate, chat or embed with nothing to do loads the model, or with keep_alive 0 unloads it.
import type { FastifyRequest } from 'fastify';
import type { HangarContext } from '../context.ts';
import { parseKeepAlive, type KeepAliveInput } from '../../runtime/keep-alive.ts';
import { actionContext } from '../request-context.ts';

export type LoadOutcome = 'load' | 'unload';

/** Loads `ref` (audited, as Hangar's own load), or unloads it when keep_alive is 0; answers Ollama's done_reason. */
export async function loadOrUnload(
  ctx: HangarContext,
  request: FastifyRequest,
  ref: string,
  keepAlive: KeepAliveInput | undefined,
  contextSize?: number,
): Promise<LoadOutcome> {
  if (keepAlive !== undefined && parseKeepAlive(keepAlive) === 0) {
    await ctx.app.runtime.control('unload', ref, {}, actionContext(request));
    return 'unload';
  }
  const options = { ...(keepAlive !== undefined ? { keep_alive: keepAlive } : {}), ...(contextSize ? { context_size: contextSize } : {}) };
  await ctx.app.runtime.control('load', ref, options, actionContext(request));
  return 'load';
}

/** Nanoseconds, as Ollama reports every duration. */
export function nanoseconds(ms: number): number {
  return Math.max(0, Math.round(ms * 1e6));
}
