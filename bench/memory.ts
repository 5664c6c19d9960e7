// P8: Hangar's memory estimate vs the runner's measured RSS after a load and one request, for every real-size fixture.
import type { Result } from './common.ts';
import type { HangarProcess } from './hangar-process.ts';

export interface MemoryCase {
  /** Model name in Hangar. */
  model: string;
  label: string;
  kind: 'gguf' | 'onnx';
  contextSize?: number;
}

interface Estimate {
  total_bytes: number;
  context_size: number;
}

interface Status {
  memory_usage_mb: number | null;
}

const MB = 1024 * 1024;

export async function memoryBenchmark(hangar: HangarProcess, cases: MemoryCase[], threads: number): Promise<Result[]> {
  const results: Result[] = [];
  for (const c of cases) {
    const context = c.contextSize ? `&context_size=${c.contextSize}` : '';
    const estimate = await hangar.request<Estimate>('GET', `/api/v1/models/estimate-memory?model=${encodeURIComponent(c.model)}${context}`);
    await hangar.request('POST', `/api/v1/models/${c.model}/load`, { threads, ...(c.contextSize ? { context_size: c.contextSize } : {}) });
    if (c.kind === 'gguf')
      await hangar.request('POST', '/api/v1/generate', { model: c.model, prompt: 'Once upon a time', max_tokens: 8, temperature: 0 });
    else
      await hangar.request('POST', '/api/v1/embeddings', {
        model: c.model,
        input: 'the model server loads weights into memory and answers requests from many clients',
      });
    // RSS moves for a moment after a request (allocator, garbage collection): take the highest of a few readings.
    let highest = 0;
    for (let i = 0; i < 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const status = await hangar.request<Status>('GET', `/api/v1/models/status/${c.model}`);
      highest = Math.max(highest, status.memory_usage_mb ?? 0);
    }
    await hangar.request('POST', `/api/v1/models/${c.model}/unload`);
    const measured = highest * MB;
    const ratio = estimate.total_bytes / measured;
    results.push({
      id: `P8-${c.label}`,
      measure: `memory estimate vs measured RSS, ${c.label}${c.kind === 'gguf' ? ` ctx ${estimate.context_size}` : ''} (MiB)`,
      hangar: estimate.total_bytes / MB,
      anchor: measured / MB,
      unit: 'MiB',
      ratio,
      goal: 'within 10%',
      pass: Math.abs(1 - ratio) <= 0.1,
    });
  }
  return results;
}
