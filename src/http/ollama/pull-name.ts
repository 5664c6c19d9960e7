// What an Ollama pull name asks for: a hub repo variant (`hf.co/org/repo:Q4_K_M`, `org/repo`) or an Ollama library model (`tinyllama`).
import { InvalidInput } from '../../errors.ts';
import { isVersionNumber, parseModelRef, PRODUCTION_ALIAS } from '../../registry/model-name.ts';
import { DEFAULT_TAG } from '../../app/compatible-names.ts';
import type { DownloadRequest } from '../../schemas/hub.ts';

export type PullTarget =
  /** A hub download; `request.name` is the Hangar model name, with the quantization tag as its alias. */
  | { kind: 'hub'; request: DownloadRequest }
  /** A name with no `/`: Ollama's library, reachable only through an Ollama server. */
  | { kind: 'library'; name: string };

/** Ollama's own prefixes for Hugging Face repos. */
const HUB_PREFIX = /^(hf\.co|huggingface\.co)\//i;

/**
 * `hf.co/org/repo:Q4_K_M` → repo `org/repo`, variant Q4_K_M, model `hf.co/org/repo` with alias `Q4_K_M`, so the name
 * pulled is the name that runs; no tag or `:latest` → the repo's default variant, no alias. `org/repo[:quant]` likewise.
 */
export function pullTargetOf(value: string): PullTarget {
  // The name the pull creates must be a valid model name (ASCII, no `..`, no spaces): checked before any server is asked.
  parseModelRef(value);
  const colon = value.indexOf(':');
  const base = colon === -1 ? value : value.slice(0, colon);
  const tag = colon === -1 ? undefined : value.slice(colon + 1);
  if (!base.includes('/')) return { kind: 'library', name: value };
  const repoId = base.replace(HUB_PREFIX, '');
  if (tag === undefined || tag === DEFAULT_TAG) return { kind: 'hub', request: { repo_id: repoId, name: base } };
  if (isVersionNumber(tag) || tag === PRODUCTION_ALIAS) {
    throw new InvalidInput(
      `The tag of a hub pull names a quantization (e.g. ${base}:Q4_K_M), not "${tag}"`,
      { name: value, tag },
      'invalid_variant',
    );
  }
  return { kind: 'hub', request: { repo_id: repoId, variant: tag, name: `${base}:${tag}` } };
}
