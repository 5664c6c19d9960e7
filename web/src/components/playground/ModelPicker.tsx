// A labelled model select that keeps the chosen model while the list refreshes, defaulting to the first one offered.
import { useEffect } from 'react';

interface ModelPickerProps {
  label: string;
  names: string[];
  value: string;
  onChange: (name: string) => void;
  statusOf: (name: string) => string | undefined;
}

export function ModelPicker({ label, names, value, onChange, statusOf }: ModelPickerProps) {
  useEffect(() => {
    if (names.length > 0 && !names.includes(value)) onChange(names[0]);
  }, [names, value, onChange]);
  return (
    <label>
      {label}
      <select value={value} onChange={(e) => onChange(e.target.value)} disabled={names.length === 0}>
        {names.length === 0 ? <option value="">No model</option> : null}
        {names.map((name) => (
          <option key={name} value={name}>
            {name}
            {statusOf(name) === 'loaded' ? ' (loaded)' : ''}
          </option>
        ))}
      </select>
    </label>
  );
}
