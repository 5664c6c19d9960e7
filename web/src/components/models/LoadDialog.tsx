// The load form: device, GPU index, context size, keep-alive and pin, sent as the API's LoadOptions.
import { type FormEvent, useState } from 'react';
import type { LoadOptions } from '../../../../src/schemas/runtime.ts';
import { Modal } from './Modal.tsx';

type Device = NonNullable<LoadOptions['device']>;

/** The durations the server's keep-alive parser takes (seconds, or Go-style 1h30m), checked before sending. */
const KEEP_ALIVE_PATTERN = String.raw`\s*(-?[0-9]+(\.[0-9]+)?|-?([0-9]+(\.[0-9]+)?(ms|s|m|h))+)\s*`;

interface Props {
  name: string;
  /** The context length the model was trained for: the form's hint, not a limit the API enforces here. */
  contextLength: number | null;
  onLoad: (options: LoadOptions) => void;
  onClose: () => void;
}

export function LoadDialog({ name, contextLength, onLoad, onClose }: Props) {
  const [device, setDevice] = useState<Device>('auto');
  const [gpu, setGpu] = useState('');
  const [contextSize, setContextSize] = useState('');
  const [keepAlive, setKeepAlive] = useState('');
  const [pinned, setPinned] = useState(false);

  const submit = (event: FormEvent) => {
    event.preventDefault();
    // Only what was filled in: everything left empty takes the server's configured default.
    const options: LoadOptions = { device };
    if (gpu !== '' && device !== 'cpu') options.gpu = Number(gpu);
    if (contextSize !== '') options.context_size = Number(contextSize);
    const keep = keepAlive.trim();
    if (keep !== '') options.keep_alive = /^-?\d+$/.test(keep) ? Number(keep) : keep;
    if (pinned) options.pinned = true;
    onLoad(options);
  };

  return (
    <Modal title={`Load ${name}`} onClose={onClose}>
      <form className="load-form" onSubmit={submit}>
        <label>
          Device
          <select value={device} onChange={(e) => setDevice(e.target.value as Device)}>
            <option value="auto">auto (GPU when one fits)</option>
            <option value="gpu">GPU</option>
            <option value="cpu">CPU</option>
          </select>
        </label>
        {device !== 'cpu' ? (
          <label>
            GPU index
            <input type="number" min={0} max={63} value={gpu} placeholder="any" onChange={(e) => setGpu(e.target.value)} />
          </label>
        ) : null}
        <label>
          Context size (tokens)
          <input
            type="number"
            min={16}
            max={1_048_576}
            value={contextSize}
            placeholder={contextLength ? `default; trained for ${contextLength}` : 'default'}
            onChange={(e) => setContextSize(e.target.value)}
          />
        </label>
        <label>
          Keep-alive
          <input
            type="text"
            value={keepAlive}
            placeholder="default; e.g. 5m, 1h, 0, -1 = forever"
            maxLength={32}
            pattern={KEEP_ALIVE_PATTERN}
            title="A duration: 5m, 30s, 1h30m, seconds as a number, 0 (unload when idle) or negative (forever)"
            onChange={(e) => setKeepAlive(e.target.value)}
          />
        </label>
        <label className="checkbox">
          <input type="checkbox" checked={pinned} onChange={(e) => setPinned(e.target.checked)} />
          Pin (never evicted for another model)
        </label>
        <div className="dialog-buttons">
          <button type="submit">Load</button>
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </Modal>
  );
}
