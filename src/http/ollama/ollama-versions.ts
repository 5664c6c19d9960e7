// Finds the version an Ollama-style name means, and reads its chat template (the GGUF header's, or recorded metadata).
import path from 'node:path';
import { toHangarRef } from '../../app/compatible-names.ts';
import { chatTemplateOf } from '../../model-shape/chat-template-facts.ts';
import { readLocalGgufHeader } from '../../model-shape/gguf-facts.ts';
import type { ModelCatalog, ResolvedVersion } from '../../registry/catalog.ts';
import { toVersionInfo } from '../../registry/model-rows.ts';
import type { VersionInfo } from '../../schemas/models.ts';
import { ollamaDigest } from './ollama-model-facts.ts';

export interface NamedVersion {
  /** The Hangar ref the name stands for (`name`, `name:alias`, `name:3`). */
  ref: string;
  resolved: ResolvedVersion;
  version: VersionInfo;
}

/** The version `compatibleName` resolves to now (404 model_not_found for unknown names). */
export async function versionForName(catalog: ModelCatalog, compatibleName: string): Promise<NamedVersion> {
  const ref = toHangarRef(compatibleName);
  const resolved = await catalog.resolve(ref);
  return { ref, resolved, version: toVersionInfo(resolved.model, resolved.version, []) };
}

/** Versions never change, so a template read once per digest stays right; bounded so many models cannot grow it without end. */
const templates = new Map<string, string | null>();
const MAX_CACHED = 256;

/**
 * The version's chat template: a GGUF's from its header (what the runner applies and judges tools by), another format's
 * from its recorded metadata; null when it has none.
 */
export async function chatTemplate(catalog: ModelCatalog, named: NamedVersion): Promise<string | null> {
  if (named.version.format !== 'gguf') return chatTemplateOf(named.version.metadata);
  const digest = ollamaDigest(named.version);
  const cached = templates.get(digest);
  if (cached !== undefined) return cached;
  let template: string | null;
  try {
    const folder = await catalog.versionPath(named.resolved);
    const header = await readLocalGgufHeader(path.join(folder, named.version.manifest.entry));
    template = chatTemplateOf(header.metadata as Record<string, unknown>) || null;
  } catch {
    // A version whose files cannot be read has no template to show; loading it reports the real problem.
    return null;
  }
  if (templates.size >= MAX_CACHED) templates.delete(templates.keys().next().value as string);
  templates.set(digest, template);
  return template;
}
