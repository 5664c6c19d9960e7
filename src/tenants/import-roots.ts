// Which server folders a tenant's key may import from: server paths are the operator's, so tenants get only the roots named for them.
import fs from 'node:fs/promises';
import path from 'node:path';
import { HangarError } from '../errors.ts';

/** The roots a tenant may import from: the setting's comma list with `{tenant}` filled in. */
export function importRootsFor(setting: string, tenant: string): string[] {
  return setting
    .split(',')
    .map((root) => root.trim())
    .filter((root) => root.length > 0)
    .map((root) => path.resolve(root.replaceAll('{tenant}', tenant)));
}

const inside = (root: string, candidate: string) => candidate === root || candidate.startsWith(`${root}${path.sep}`);

/**
 * Refuses (403) a tenant's import of a server path outside its roots. Links are followed first, so a link inside a
 * root cannot reach out of it; a path that does not exist is refused the same way, so the answer says nothing about
 * the server's files outside the roots.
 */
export async function assertTenantMayImport(requested: string, tenant: string, setting: string): Promise<void> {
  const roots = importRootsFor(setting, tenant);
  const refuse = () =>
    new HangarError(
      'forbidden',
      roots.length === 0
        ? 'Importing server paths needs a system key: no import folder is set for tenants (HANGAR_TENANT_IMPORT_ROOTS)'
        : `Tenant "${tenant}" may import only from ${roots.join(', ')}`,
      { tenant },
    );
  if (roots.length === 0) throw refuse();
  const real = await fs.realpath(path.resolve(requested)).catch(() => null);
  const realRoots = await Promise.all(roots.map((root) => fs.realpath(root).catch(() => null)));
  if (real === null || !realRoots.some((root) => root !== null && inside(root, real))) throw refuse();
}
