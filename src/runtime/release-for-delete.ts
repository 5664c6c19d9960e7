// Before a model or version is deleted: refuse while the runtime holds it (409 model_loaded), or with force unload it first.
import type { ModelCatalog } from '../registry/catalog.ts';
import { parseModelRef } from '../registry/model-name.ts';
import { Conflict } from '../errors.ts';
import type { ModelRuntime } from './model-runtime.ts';

const HOLDING_STATES = new Set(['loading', 'loaded', 'unloading']);

/**
 * `name` is held while any version of it is loaded or loading; `name:ref` only while that version is.
 * A failed deployment (crashed runner waiting to restart) of it is cleared so it does not come back.
 */
export async function releaseForDelete(runtime: ModelRuntime, catalog: ModelCatalog, nameRef: string, force: boolean): Promise<void> {
  const ref = parseModelRef(nameRef);
  // Resolves first so an unknown model or version answers 404, not 409.
  const resolved = ref.ref === undefined ? null : await catalog.resolve(nameRef);
  const dep = runtime.deployments.get(ref.name);
  if (!dep) return;
  const sameVersion = resolved === null || dep.version?.id === resolved.version.id;
  if (!sameVersion) return;
  const held = dep.pending !== null || HOLDING_STATES.has(dep.state);
  if (!held) {
    if (dep.state === 'failed') await runtime.unload(ref.name);
    return;
  }
  if (!force) {
    throw new Conflict(
      `${ref.name}${dep.version ? ` version ${dep.version.number}` : ''} is ${dep.state === 'not_loaded' ? 'loading' : dep.state}; unload it first, or delete with force (?force=true, hangar rm --force) to unload it and delete`,
      { model: ref.name, version: dep.version?.number ?? null, state: dep.state },
      'model_loaded',
    );
  }
  await runtime.unload(ref.name);
}
