// For a full-precision variant: quantize it as it downloads, each type shown with its estimated memory and fit before anything is fetched.
import { formatBytes } from '../../format.ts';
import { useHubEstimate } from './VariantPicker.tsx';

export function QuantizeChoice({
  repoId,
  variant,
  contextSize,
  value,
  onChange,
}: {
  repoId: string;
  variant: string;
  contextSize: number | null;
  value: string;
  onChange: (type: string) => void;
}) {
  const estimate = useHubEstimate(repoId, variant, contextSize);
  const options = estimate.data?.quantization_options ?? [];
  if (options.length === 0) return null;
  return (
    <label>
      Quantize after download
      <select value={value} onChange={(event) => onChange(event.target.value)}>
        <option value="">no, keep {variant}</option>
        {options.map((option) => {
          const cpu = option.devices.find((d) => d.device === 'cpu');
          return (
            <option key={option.type} value={option.type}>
              {option.type}: {formatBytes(option.total_bytes)}
              {cpu ? (cpu.fits ? ', fits' : ', does not fit') : ''}
            </option>
          );
        })}
      </select>
    </label>
  );
}
