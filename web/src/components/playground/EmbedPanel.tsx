// Embeds several texts with one model (POST /api/v1/embeddings) and shows the dimensions and the cosine similarity matrix.
import { useMutation } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import type { EmbeddingsResponse } from '../../../../src/schemas/runtime.ts';
import type { Static } from 'typebox';
import { post } from '../../api/client.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { ModelPicker } from './ModelPicker.tsx';
import { similarityMatrix } from './similarity.ts';
import { usePlaygroundModels } from './usePlaygroundModels.ts';

type Embeddings = Static<typeof EmbeddingsResponse>;

/** A cell's background: stronger blue for more similar texts. */
const shade = (value: number) => `rgba(36, 87, 197, ${Math.max(0, value) * 0.35})`;

export function EmbedPanel() {
  const models = usePlaygroundModels('embed');
  const [model, setModel] = useState('');
  const [text, setText] = useState('The cat sat on the mat.\nA cat was sitting on a rug.\nStock markets fell sharply today.');
  const inputs = text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const embed = useMutation({
    mutationFn: (body: { model: string; input: string[] }) => post<Embeddings>('/api/v1/embeddings', body),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    embed.mutate({ model, input: inputs });
  };
  const result = embed.data;
  const matrix = result ? similarityMatrix(result.embeddings) : [];
  const embeddedTexts = embed.variables?.input ?? [];
  return (
    <section className="card" aria-labelledby="embed-heading">
      <h2 id="embed-heading">Embed texts</h2>
      <form className="stack" onSubmit={submit}>
        <ModelPicker
          label="Embedding model"
          names={models.names}
          value={model}
          onChange={setModel}
          statusOf={(n) => models.status[n]?.status}
        />
        <label>
          Texts, one per line
          <textarea rows={5} value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        <div>
          <button type="submit" disabled={!model || inputs.length === 0 || embed.isPending}>
            {embed.isPending ? 'Embedding…' : 'Embed'}
          </button>
        </div>
      </form>
      <ErrorNote error={models.error ?? embed.error} />
      {result ? (
        <div className="embed-result">
          <p>
            <strong>{result.embeddings.length}</strong> vector(s) of{' '}
            <strong data-testid="dimensions">{result.embeddings[0]?.length ?? 0}</strong> dimensions from {result.model} v{result.version},{' '}
            {result.usage.tokens} tokens.
          </p>
          <div className="table-scroll">
            <table aria-label="Cosine similarity">
              <thead>
                <tr>
                  <th scope="col">Cosine similarity</th>
                  {matrix.map((_row, j) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: texts may repeat; their position is their identity
                    <th key={j} scope="col" title={embeddedTexts[j]}>
                      #{j + 1}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                {matrix.map((row, i) => (
                  // biome-ignore lint/suspicious/noArrayIndexKey: as above
                  <tr key={i}>
                    <th scope="row" title={embeddedTexts[i]}>
                      #{i + 1} {embeddedTexts[i]?.slice(0, 40)}
                    </th>
                    {row.map((value, j) => (
                      // biome-ignore lint/suspicious/noArrayIndexKey: as above
                      <td key={j} className="similarity" style={{ background: shade(value) }}>
                        {value.toFixed(2)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </div>
      ) : null}
    </section>
  );
}
