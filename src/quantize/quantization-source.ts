// Which version a quantization starts from when a name serves a quantized one: the full-precision version it came from.
import type { ModelCatalog, ResolvedVersion } from '../registry/catalog.ts';
import { isFullPrecisionQuantization } from './quantization-types.ts';

/**
 * The full-precision version a quantization of `resolved` starts from: itself when it is full precision, else the version
 * it was quantized from (its lineage), else the model's newest full-precision version; itself when there is none (the
 * quantize job then refuses it with already_quantized).
 */
export async function fullPrecisionOrigin(catalog: ModelCatalog, resolved: ResolvedVersion): Promise<ResolvedVersion> {
  if (isFullPrecisionQuantization(resolved.version.quantization)) return resolved;
  const source = JSON.parse(resolved.version.source) as { kind?: string; from?: { model?: unknown; version?: unknown } };
  const model = resolved.model.name;
  if (source.kind === 'quantized' && source.from?.model === model && typeof source.from.version === 'number') {
    const origin = await catalog.resolve(`${model}:${source.from.version}`).catch(() => null);
    if (origin) return origin;
  }
  const newest = (await catalog.getModel(model)).versions.find((v) => isFullPrecisionQuantization(v.quantization));
  return newest ? catalog.resolve(`${model}:${newest.version}`) : resolved;
}
