// The Playground page: embed texts and compare them, generate or chat with a streamed answer (operators and admins only).
import { useCan } from '../api/session.ts';
import { EmbedPanel } from '../components/playground/EmbedPanel.tsx';
import { GeneratePanel } from '../components/playground/GeneratePanel.tsx';

export function PlaygroundPage() {
  const canInfer = useCan('operator');
  return (
    <div className="stack">
      <h1>Playground</h1>
      {canInfer ? (
        <>
          <p className="muted">A model that is not loaded loads on its first request when dynamic loading is on.</p>
          <EmbedPanel />
          <GeneratePanel />
        </>
      ) : (
        <p>Inference needs an operator or admin key; this key's role may only read.</p>
      )}
    </div>
  );
}
