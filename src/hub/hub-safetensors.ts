// A hub repo's safetensors facts before download: each variant's headers read by Range requests through @huggingface/hub.
import { HangarError } from '../errors.ts';
import { readSafetensorsFacts, type SafetensorsFacts, type SafetensorsSource } from '../model-shape/safetensors-facts.ts';
import { safetensorsShape } from '../model-shape/safetensors-shape.ts';
import type { ModelShape } from '../model-shape/model-shape.ts';
import type { SafetensorsInfo, Variant } from '../schemas/hub.ts';
import { safetensorsLayouts } from '../store/safetensors-layout.ts';
import type { HubClient, RepoSnapshot } from './hub-client.ts';

/** The repo at its pinned commit, through the hub client's fetch (auth, error codes). */
export function remoteSource(hub: HubClient, snapshot: RepoSnapshot): SafetensorsSource {
  return { hubUrl: hub.endpoint, repo: snapshot.repo_id, revision: snapshot.commit_sha, fetch: hub.fetch };
}

/** The facts of one variant; 502 hub_error when a header does not parse. */
export async function hubVariantFacts(hub: HubClient, snapshot: RepoSnapshot, variantId: string): Promise<SafetensorsFacts> {
  const layout = safetensorsLayouts(snapshot.files.map((f) => f.path)).find((l) => l.variant === variantId);
  if (!layout) throw new Error(`internal: ${snapshot.repo_id} has no safetensors variant ${variantId}`);
  try {
    return await readSafetensorsFacts(remoteSource(hub, snapshot), layout);
  } catch (error) {
    if (error instanceof HangarError) throw error;
    throw new HangarError('hub_error', `${snapshot.repo_id} has safetensors headers that cannot be read: ${(error as Error).message}`, {
      repo_id: snapshot.repo_id,
      variant: variantId,
    });
  }
}

/** The memory model's shape of a variant (config.json read for a transformers repo). */
export async function hubSafetensorsShape(hub: HubClient, snapshot: RepoSnapshot, variant: Variant): Promise<ModelShape> {
  const facts = await hubVariantFacts(hub, snapshot, variant.id);
  const config = variant.format === 'safetensors' ? await hub.repoConfig(snapshot) : null;
  return safetensorsShape(facts, config);
}

const weightFacts = (f: SafetensorsFacts) => ({
  parameter_count: f.parameter_count,
  parameters_by_dtype: f.parameters_by_dtype,
  bytes_by_dtype: f.bytes_by_dtype,
  weights_bytes: f.weights_bytes,
  tensor_count: f.tensor_count,
  dtypes: f.dtypes,
});

/** The info route's `safetensors` block: the default variant's components, and every variant's totals. */
export async function hubSafetensorsInfo(
  hub: HubClient,
  snapshot: RepoSnapshot,
  variants: Variant[],
): Promise<{ facts: SafetensorsFacts; info: SafetensorsInfo }> {
  const chosen = variants.find((v) => v.default) ?? variants[0];
  if (!chosen) throw new Error(`internal: ${snapshot.repo_id} has no safetensors variant`);
  const all = new Map<string, SafetensorsFacts>();
  for (const variant of variants) all.set(variant.id, await hubVariantFacts(hub, snapshot, variant.id));
  const facts = all.get(chosen.id) as SafetensorsFacts;
  return {
    facts,
    info: {
      variant: chosen.id,
      ...weightFacts(facts),
      components: facts.components,
      variants: [...all].map(([id, f]) => ({ id, ...weightFacts(f) })),
    },
  };
}
