// The library-pull seam of the Ollama surface (`/api/pull {"model":"tinyllama"}`) over the Ollama backend's pull jobs.
import { HangarError, isErrorCode } from '../errors.ts';
import type { ActionContext } from '../registry/audit.ts';
import type { OllamaModels } from './ollama-models.ts';

/** One progress line of an Ollama pull (`{status, digest?, total?, completed?}`), as Ollama's /api/pull streams them. */
export interface OllamaPullProgress {
  status: string;
  digest?: string;
  total?: number;
  completed?: number;
}

/**
 * Pulls an Ollama library model (`tinyllama`, `llama3.2:1b`) through a configured Ollama server, reporting its progress
 * lines; resolves when the model is in the catalog under the name asked for. Provided by the Ollama backend.
 */
export interface OllamaLibraryPull {
  pull(name: string, context: ActionContext, onProgress: (line: OllamaPullProgress) => void): Promise<void>;
}

/**
 * Pulls through the first OLLAMA_BASE_URL server as an `ollama_pull` job, passing the server's progress lines on as it
 * sends them (all but its `success`, which the caller sends once the model is in the catalog); resolves when the
 * pulled model is synced, rejects with the job's error (502 `ollama_error` / `ollama_unreachable` naming the server).
 */
export function ollamaLibraryPull(ollama: OllamaModels): OllamaLibraryPull {
  return {
    async pull(name, context, onProgress) {
      const started = await ollama.pullFromOllama(name, context, (line) => {
        if (line.status === 'success') return;
        onProgress({
          status: line.status,
          ...(line.digest ? { digest: line.digest } : {}),
          ...(typeof line.total === 'number' ? { total: line.total } : {}),
          ...(typeof line.completed === 'number' ? { completed: line.completed } : {}),
        });
      });
      const job = await started.done;
      if (job.status === 'completed') return;
      const code = job.error && isErrorCode(job.error.code) ? job.error.code : 'ollama_error';
      throw new HangarError(code, job.error?.message ?? `Pulling ${name} ended ${job.status}`, { model: name, job_id: job.id });
    },
  };
}
