// The hardware profile's advice on stored models no backend here serves (safetensors, diffusers): their memory and which devices they would fit.
import type { HangarContext } from '../context.ts';
import { estimateLocal } from './estimate.ts';
import { backendForFormat } from '../../runtime/backends.ts';
import type { CatalogModelFit } from '../../schemas/monitoring.ts';

/** Formats whose models are catalogued, verified and estimated, but loaded by no backend of this Hangar. */
const CATALOG_ONLY_FORMATS = ['safetensors', 'diffusers'] as const;
/** At most this many models are estimated for one profile (each estimate reads headers from the store). */
const MAX_MODELS = 50;

/** One entry per stored safetensors or diffusers model, and the notes that say what the figures mean for it. */
export async function catalogModelFits(ctx: HangarContext): Promise<{ models: CatalogModelFit[]; notes: string[] }> {
  const models: CatalogModelFit[] = [];
  const notes: string[] = [];
  for (const format of CATALOG_ONLY_FORMATS) {
    const page = await ctx.catalog.listModels({ format, limit: MAX_MODELS });
    for (const summary of page.models) {
      const estimate = await estimateLocal(ctx, { model: summary.name }).catch(() => null);
      if (!estimate) continue;
      const fits = estimate.devices.filter((d) => d.fits).map((d) => d.device);
      const withOffload = estimate.devices.filter((d) => !d.fits && d.fits_with_offload === true).map((d) => d.device);
      const servable = backendForFormat(format) !== null;
      models.push({
        model: summary.name,
        version: estimate.version,
        format,
        total_bytes: estimate.total_bytes,
        fits_on: fits,
        fits_with_offload_on: withOffload,
        servable,
      });
      const where = fits.length > 0 ? `fits ${fits.join(', ')}` : 'fits no device';
      const offload = withOffload.length > 0 ? `; with the text encoders offloaded to RAM also ${withOffload.join(', ')}` : '';
      notes.push(
        `${summary.name} (${format}, ${(estimate.total_bytes / 2 ** 30).toFixed(2)} GiB to load): ${where}${offload}${servable ? '' : `; no backend of this Hangar serves ${format}`}`,
      );
    }
  }
  return { models, notes };
}
