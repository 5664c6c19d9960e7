// The memory a load would take, term by term (weights, KV cache, compute, runner overhead), the formula, and which devices it fits.
import { useState } from 'react';
import { formatBytes } from '../../format.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { useMemoryEstimate } from './queries.ts';

const exact = (bytes: number) => `${bytes.toLocaleString('en-US')} bytes`;

export function MemoryEstimate({ name }: { name: string }) {
  const [contextText, setContextText] = useState('');
  const contextSize = /^[1-9][0-9]*$/.test(contextText) ? Number(contextText) : null;
  const estimate = useMemoryEstimate(name, contextSize);
  const e = estimate.data;
  const terms: Array<[string, string, number]> = e
    ? [
        ['weights', 'Weights', e.weights_bytes],
        ['kv_cache', 'KV cache', e.kv_cache_bytes],
        ['compute', 'Compute buffers', e.compute_bytes],
        ['runtime_overhead', 'Runner overhead', e.runtime_overhead_bytes],
        ['total', 'Total', e.total_bytes],
      ]
    : [];
  return (
    <section className="card" aria-labelledby="estimate-heading">
      <h2 id="estimate-heading">Memory estimate</h2>
      <label>
        Context size (tokens)
        <input
          inputMode="numeric"
          value={contextText}
          onChange={(event) => setContextText(event.target.value.trim())}
          placeholder={e ? String(e.context_size) : 'default'}
        />
      </label>
      <ErrorNote error={estimate.error} />
      {e ? (
        <>
          <p className="muted">
            v{e.version} · {e.format}
            {e.quantization ? ` ${e.quantization}` : ''} · context {e.context_size.toLocaleString('en-US')} tokens
          </p>
          <table aria-label="Memory estimate terms">
            <tbody>
              {terms.map(([key, label, bytes]) => (
                <tr key={key} data-term={key} className={key === 'total' ? 'total' : undefined}>
                  <th scope="row">{label}</th>
                  <td>{formatBytes(bytes)}</td>
                  <td className="muted">{exact(bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p>
            Formula: <code className="formula">{e.formula}</code>
          </p>
          {e.measured_peak_rss_bytes != null ? <p>Measured at its last load: {formatBytes(e.measured_peak_rss_bytes)} peak RSS.</p> : null}
          <ul className="plain" aria-label="Fits per device">
            {e.devices.map((device) => (
              <li key={device.device}>
                <span className={`badge ${device.fits ? 'loaded' : 'failed'}`}>{device.fits ? 'fits' : 'does not fit'}</span>
                {device.device}: budget {formatBytes(device.budget_bytes)}, free {formatBytes(device.free_bytes)}
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
