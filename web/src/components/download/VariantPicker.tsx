// The repo's variants (quantization or dtype), each with its size, bits and the memory estimate of that very variant per device.
import { useQuery } from '@tanstack/react-query';
import type { EstimateMemoryResponse } from '../../../../src/schemas/estimate.ts';
import type { Variant } from '../../../../src/schemas/hub.ts';
import { get } from '../../api/client.ts';
import { formatBytes } from '../../format.ts';

interface PickerProps {
  repoId: string;
  variants: Variant[];
  chosen: string | null;
  contextSize: number | null;
  onChoose: (variantId: string) => void;
}

export function VariantPicker({ repoId, variants, chosen, contextSize, onChoose }: PickerProps) {
  return (
    <div className="table-scroll">
      <table aria-label="Variants">
        <thead>
          <tr>
            <th scope="col">Variant</th>
            <th scope="col">Size</th>
            <th scope="col">Bits</th>
            <th scope="col">Memory estimate</th>
            <th scope="col">Fits</th>
          </tr>
        </thead>
        <tbody>
          {variants.map((variant) => (
            <VariantRow
              key={variant.id}
              repoId={repoId}
              variant={variant}
              checked={chosen === variant.id}
              contextSize={contextSize}
              onChoose={onChoose}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function estimatePath(repoId: string, variant: string, contextSize: number | null): string {
  const query = new URLSearchParams({ model: repoId, variant });
  if (contextSize) query.set('context_size', String(contextSize));
  return `/api/v1/models/estimate-memory?${query}`;
}

/** The estimate of one variant of a hub repo, read from the hub without downloading (shared by the picker and the quantize choice). */
export function useHubEstimate(repoId: string, variant: string, contextSize: number | null) {
  return useQuery({
    queryKey: ['hub-estimate', repoId, variant, contextSize],
    queryFn: () => get<EstimateMemoryResponse>(estimatePath(repoId, variant, contextSize)),
    refetchInterval: false,
    staleTime: 60_000,
  });
}

function VariantRow({
  repoId,
  variant,
  checked,
  contextSize,
  onChoose,
}: {
  repoId: string;
  variant: Variant;
  checked: boolean;
  contextSize: number | null;
} & Pick<PickerProps, 'onChoose'>) {
  const estimate = useHubEstimate(repoId, variant.id, contextSize);
  const data = estimate.data;
  return (
    <tr className={checked ? 'chosen' : undefined}>
      <td>
        <label className="inline">
          <input type="radio" name="variant" value={variant.id} checked={checked} onChange={() => onChoose(variant.id)} />
          {variant.id}
          {variant.default ? <span className="badge">default</span> : null}
        </label>
      </td>
      <td>{formatBytes(variant.size_bytes)}</td>
      <td>{variant.bits ?? '—'}</td>
      <td>
        {data ? (
          <span title={data.formula}>
            {formatBytes(data.total_bytes)}
            <span className="muted">
              {' '}
              at {data.context_size} tokens · weights {formatBytes(data.weights_bytes)}
            </span>
          </span>
        ) : estimate.error ? (
          <span className="error">{(estimate.error as Error).message}</span>
        ) : (
          <span className="muted">estimating…</span>
        )}
      </td>
      <td>
        {data?.devices.map((device) => (
          <span
            key={device.device}
            className={`badge ${device.fits ? 'loaded' : 'failed'}`}
            title={`budget ${formatBytes(device.budget_bytes)}, free ${formatBytes(device.free_bytes)}`}
          >
            {device.device}: {device.fits ? 'fits' : "doesn't fit"}
          </span>
        ))}
      </td>
    </tr>
  );
}
