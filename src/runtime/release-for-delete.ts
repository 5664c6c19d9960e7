// Before a model or version is deleted: refuse while the runtime holds it (409 model_loaded), or with force unload it first.
import { Conflict } from '../errors.ts';
import type { Deployment } from './deployment.ts';

/**
 * `name` is held while any version of it is loaded or loading; `name:ref` (versionId set) only while
 * that version is. A failed deployment of it (crashed runner waiting to restart) is cleared so it
 * does not come back. `unload` drains and stops the deployment.
 */
export async function releaseForDelete(
  dep: Deployment | undefined,
  versionId: string | null,
  force: boolean,
  unload: () => Promise<unknown>,
): Promise<void> {
  if (!dep) return;
  const sameVersion = versionId === null || dep.version?.id === versionId;
  if (!sameVersion) return;
  if (!dep.holdsModel) {
    if (dep.state === 'failed') await unload();
    return;
  }
  if (!force) {
    throw new Conflict(
      `${dep.name}${dep.version ? ` version ${dep.version.number}` : ''} is ${dep.state === 'not_loaded' ? 'loading' : dep.state}; unload it first, or delete with force (?force=true, hangar rm --force) to unload it and delete`,
      { model: dep.name, version: dep.version?.number ?? null, state: dep.state },
      'model_loaded',
    );
  }
  await unload();
}
