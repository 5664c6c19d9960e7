// Name-shaped strings shared by many payloads (ids, key names, revisions, quantization names): ASCII only, no `..`, no trailing dot or space.
// Model names and refs are parsed in registry/model-name.ts (their rules need code: reserved words, `name:ref`); these fit a pattern.
import { Type } from 'typebox';

/** Ids Hangar hands out (jobs, webhooks, API keys: UUIDs and base32): letters, digits, `_` and `-`. */
export const ResourceId = (description?: string) =>
  Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9_-]*$', ...(description ? { description } : {}) });

/** An API key's name: spaces and `.@` inside ("ci deploy", "ops@example.org"), but not at the end, where they would hide. */
export const KEY_NAME_PATTERN = '^[A-Za-z0-9](?:[A-Za-z0-9 ._@-]*[A-Za-z0-9_@-])?$';

/** An event id as the event bus stamps it: `<ms>-<sequence>`. */
export const EventId = (description?: string) =>
  Type.String({ maxLength: 64, pattern: '^[0-9]{1,16}-[0-9]{1,16}$', ...(description ? { description } : {}) });

/**
 * A hub revision (branch, tag, commit, `refs/pr/1`): `/`-separated segments of letters, digits, `._-`, each starting and
 * ending with a letter, digit, `_` or `-`, and no `..` anywhere (git's own ref rules refuse it too).
 */
export const REVISION_PATTERN =
  '^(?!.*\\.\\.)[A-Za-z0-9_-](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?(?:/[A-Za-z0-9_-](?:[A-Za-z0-9._-]*[A-Za-z0-9_-])?)*$';

export const Revision = (description: string) => Type.String({ minLength: 1, maxLength: 128, pattern: REVISION_PATTERN, description });

/** A quantization or dtype name (Q4_K_M, q8, fp16, F16…). */
export const QuantizationName = (description: string) =>
  Type.String({ minLength: 1, maxLength: 16, pattern: '^[A-Za-z0-9_]+$', description });
