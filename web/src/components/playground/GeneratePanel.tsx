// Generates from a prompt or chats with a model, streamed token by token; shows tokens/s and time to first token when done.
import { type FormEvent, useEffect, useRef, useState } from 'react';
import type { ChatRequest } from '../../../../src/schemas/runtime.ts';
import { formatDuration } from '../../format.ts';
import { ErrorNote } from '../ErrorNote.tsx';
import { ModelPicker } from './ModelPicker.tsx';
import { type GenerationDone, streamGeneration } from './streamGeneration.ts';
import { usePlaygroundModels } from './usePlaygroundModels.ts';

type Mode = 'generate' | 'chat';
type Message = ChatRequest['messages'][number];

export function GeneratePanel() {
  const models = usePlaygroundModels('generate');
  const [model, setModel] = useState('');
  const [mode, setMode] = useState<Mode>('generate');
  const [prompt, setPrompt] = useState('Once upon a time');
  const [temperature, setTemperature] = useState(0.8);
  const [maxTokens, setMaxTokens] = useState(64);
  const [conversation, setConversation] = useState<Message[]>([]);
  const [output, setOutput] = useState('');
  const [done, setDone] = useState<GenerationDone | null>(null);
  const [error, setError] = useState<unknown>(null);
  const abort = useRef<AbortController | null>(null);
  const [streaming, setStreaming] = useState(false);
  // Leaving the page ends a running generation (the server stops generating when the stream closes).
  useEffect(() => () => abort.current?.abort(), []);

  const run = async (event: FormEvent) => {
    event.preventDefault();
    const controller = new AbortController();
    abort.current = controller;
    setOutput('');
    setDone(null);
    setError(null);
    setStreaming(true);
    const settings = { model, temperature, max_tokens: maxTokens };
    const messages: Message[] = [...conversation, { role: 'user', content: prompt }];
    let text = '';
    try {
      const result = await streamGeneration(
        mode === 'chat' ? { kind: 'chat', body: { ...settings, messages } } : { kind: 'generate', body: { ...settings, prompt } },
        (token) => {
          text += token;
          setOutput(text);
        },
        controller.signal,
      );
      setDone(result);
      if (mode === 'chat') {
        setConversation([...messages, { role: 'assistant', content: text }]);
        setPrompt('');
      }
    } catch (caught) {
      if (!controller.signal.aborted) setError(caught);
    } finally {
      abort.current = null;
      setStreaming(false);
    }
  };
  const stop = () => {
    abort.current?.abort();
  };

  return (
    <section className="card" aria-labelledby="generate-heading">
      <h2 id="generate-heading">Generate or chat</h2>
      <form className="stack" onSubmit={run}>
        <div className="toolbar">
          <ModelPicker
            label="Generating model"
            names={models.names}
            value={model}
            onChange={setModel}
            statusOf={(n) => models.status[n]?.status}
          />
          <label>
            Mode
            <select value={mode} onChange={(e) => setMode(e.target.value as Mode)}>
              <option value="generate">Complete a prompt</option>
              <option value="chat">Chat</option>
            </select>
          </label>
          <label>
            Temperature
            <input type="number" min={0} max={5} step={0.1} value={temperature} onChange={(e) => setTemperature(Number(e.target.value))} />
          </label>
          <label>
            Max tokens
            <input type="number" min={1} max={131072} step={1} value={maxTokens} onChange={(e) => setMaxTokens(Number(e.target.value))} />
          </label>
        </div>
        {mode === 'chat' && conversation.length > 0 ? (
          <ol className="conversation" aria-label="Conversation">
            {conversation.map((m, i) => (
              // biome-ignore lint/suspicious/noArrayIndexKey: a conversation only grows; position is identity
              <li key={i} className={m.role}>
                <strong>{m.role}:</strong> {m.content}
              </li>
            ))}
          </ol>
        ) : null}
        <label>
          {mode === 'chat' ? 'Message' : 'Prompt'}
          <textarea rows={3} value={prompt} onChange={(e) => setPrompt(e.target.value)} />
        </label>
        <div className="toolbar">
          <button type="submit" disabled={!model || streaming || (mode === 'chat' && !prompt.trim())}>
            {streaming ? 'Streaming…' : mode === 'chat' ? 'Send' : 'Generate'}
          </button>
          {streaming ? (
            <button type="button" className="secondary" onClick={stop}>
              Stop
            </button>
          ) : null}
          {mode === 'chat' && conversation.length > 0 ? (
            <button type="button" className="secondary" disabled={streaming} onClick={() => setConversation([])}>
              New conversation
            </button>
          ) : null}
        </div>
      </form>
      <ErrorNote error={models.error ?? error} />
      <output className="generation" aria-label="Output">
        {output}
      </output>
      {done ? (
        <dl className="timings" aria-label="Timings">
          <dt>Tokens/s</dt>
          <dd data-testid="tokens-per-sec">{done.timings.tokens_per_sec == null ? '—' : done.timings.tokens_per_sec.toFixed(1)}</dd>
          <dt>Time to first token</dt>
          <dd data-testid="ttft">{formatDuration(done.timings.first_token_ms)}</dd>
          <dt>Tokens</dt>
          <dd>
            {done.usage.prompt_tokens} prompt + {done.usage.completion_tokens} generated
          </dd>
          <dt>Finish</dt>
          <dd>{done.finish_reason}</dd>
        </dl>
      ) : null}
    </section>
  );
}
