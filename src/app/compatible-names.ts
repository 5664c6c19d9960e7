// How the Ollama- and OpenAI-compatible surfaces name models: `name:tag` as Ollama's clients send them, mapped to Hangar refs.
import type { ModelCatalog } from '../registry/catalog.ts';
import type { VersionInfo } from '../schemas/models.ts';
import { textBefore } from '../text-before.ts';

/** The tag Ollama's clients add to a bare name; on the compatible surfaces it means the version Hangar serves. */
export const DEFAULT_TAG = 'latest';

/**
 * The Hangar ref a compatible-surface name means: `name` and `name:latest` → `name` (production, else the newest,
 * even where Hangar's own API reads `:latest` as the newest); `name:staging`, `name:3` stay aliases and versions.
 */
export function toHangarRef(compatibleName: string): string {
  // Not trimmed: " tiny" is not a name, and reading it as "tiny" would let look-alike names reach a model (the parser refuses it).
  return compatibleName.endsWith(`:${DEFAULT_TAG}`) ? compatibleName.slice(0, -DEFAULT_TAG.length - 1) : compatibleName;
}

/** The name a compatible surface shows for a Hangar ref: a bare model name gains `:latest`. */
export function toCompatibleName(hangarRef: string): string {
  return hangarRef.includes(':') ? hangarRef : `${hangarRef}:${DEFAULT_TAG}`;
}

/** One listed name and the version it resolves to now. */
export interface CompatibleModel {
  /** As listed: `name:latest` or `name:<alias>`. */
  name: string;
  /** Hangar's model name. */
  model: string;
  /** The Hangar ref the name stands for (`name` or `name:<alias>`). */
  ref: string;
  version: VersionInfo;
}

const PAGE = 1000;

/**
 * Every model with a version, as `name:latest` plus once per alias (an alias named `latest` is the same name); with
 * `tenant`, only that tenant's models (names stay qualified: the reply drops the caller's own prefix).
 */
export async function listCompatibleModels(catalog: ModelCatalog, tenant?: string): Promise<CompatibleModel[]> {
  const listed: CompatibleModel[] = [];
  let pageToken: string | undefined;
  do {
    const page = await catalog.listModels({ limit: PAGE, page_token: pageToken }, tenant);
    for (const summary of page.models) {
      const served = summary.production_version ?? summary.latest_version;
      if (served === null) continue;
      const detail = await catalog.getModel(summary.name);
      const byNumber = new Map(detail.versions.map((version) => [version.version, version]));
      const servedVersion = byNumber.get(served);
      if (servedVersion)
        listed.push({ name: toCompatibleName(summary.name), model: summary.name, ref: summary.name, version: servedVersion });
      for (const [alias, number] of Object.entries(detail.aliases).sort(([a], [b]) => a.localeCompare(b))) {
        const version = byNumber.get(number);
        if (alias === DEFAULT_TAG || !version) continue;
        listed.push({ name: `${summary.name}:${alias}`, model: summary.name, ref: `${summary.name}:${alias}`, version });
      }
    }
    pageToken = page.next_page_token ?? undefined;
  } while (pageToken);
  return listed;
}

/** The model part of a compatible name (`org/name:tag` → `org/name`). */
export function modelPart(compatibleName: string): string {
  return textBefore(compatibleName, ':');
}
