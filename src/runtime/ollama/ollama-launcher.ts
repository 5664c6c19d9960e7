// The launcher of backend `ollama`: loads a version on its server (empty generate with keep_alive), watches /api/ps in the background for memory and loss.
import type { Logger } from 'pino';
import type { HangarConfig } from '../../config/schema.ts';
import { HangarError } from '../../errors.ts';
import type { ExternalLauncherContext, LoadPlan, ModelLauncher } from '../backend-contract.ts';
import type { Capability } from '../backend-ids.ts';
import { parseKeepAlive } from '../keep-alive.ts';
import type { ServedModel, ServedModelExit } from '../served-model.ts';
import { ollamaSourceOf } from './ollama-catalog.ts';
import { ollamaClient, QUICK_CALL_TIMEOUT_MS, upstreamError } from './ollama-client.ts';
import { OllamaServedModel, type OllamaModelTarget } from './ollama-served-model.ts';
import { markAnswered, markFailing } from './server-health.ts';

/** How often /api/ps is read for the memory of loaded models (and to notice a server that went away). */
export const PS_INTERVAL_MS = 2000;
/** Ollama keeps a model this much longer than Hangar's keep-alive, so Hangar's own expiry (keep_alive 0) always comes first. */
const KEEP_ALIVE_MARGIN_MS = 30_000;
/** Consecutive /api/ps reads without the model before it counts as dropped by the server. */
const MISSING_READS_TO_LOSE = 2;

/** Ollama's keep_alive for a load: negative (forever) when pinned or kept forever, else Hangar's duration plus the margin. */
export function ollamaKeepAlive(plan: Pick<LoadPlan, 'options'>, config: HangarConfig): string | number {
  if (plan.options.pinned) return -1;
  const ms = parseKeepAlive(plan.options.keep_alive ?? config.runtime.keep_alive);
  return ms === Infinity ? -1 : `${Math.ceil((ms + KEEP_ALIVE_MARGIN_MS) / 1000)}s`;
}

/** What Ollama's /api/show capabilities mean in Hangar's terms (a server that states none: everything). */
function capabilitiesOf(stated: string[] | undefined): Capability[] {
  if (!stated?.length) return ['embed', 'generate', 'chat'];
  const out: Capability[] = [];
  if (stated.includes('embedding')) out.push('embed');
  if (stated.includes('completion')) out.push('generate', 'chat');
  if (stated.includes('tools')) out.push('tools');
  return out.length ? out : ['embed', 'generate', 'chat'];
}

export class OllamaLauncher implements ModelLauncher {
  private readonly served = new Set<OllamaServedModel>();
  private readonly missing = new Map<OllamaServedModel, number>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;
  private readonly config: () => HangarConfig;
  private readonly logger: Logger;

  constructor(context: ExternalLauncherContext) {
    this.config = context.config;
    this.logger = context.logger;
  }

  /** The server and name a version is loaded by (its source); 409 when the server no longer holds that digest. */
  private targetOf(plan: LoadPlan): OllamaModelTarget {
    const source = ollamaSourceOf(plan.resolved.version);
    if (!source) {
      throw new HangarError(
        'no_backend',
        `${plan.resolved.model.name}:${plan.resolved.version.version} has no Ollama source to load from`,
        {
          model: plan.resolved.model.name,
        },
      );
    }
    return { server: source.server, name: source.name, keepAlive: ollamaKeepAlive(plan, this.config()) };
  }

  async launch(plan: LoadPlan, onExit: (served: ServedModel, exit: ServedModelExit) => void): Promise<ServedModel> {
    const target = this.targetOf(plan);
    const timeoutMs = this.config().runtime.load_timeout_ms;
    const startedAt = performance.now();
    let capabilities: Capability[];
    try {
      const show = await ollamaClient(target.server, { timeoutMs: QUICK_CALL_TIMEOUT_MS }).show({ model: target.name });
      capabilities = capabilitiesOf(show.capabilities);
      const client = ollamaClient(target.server, { timeoutMs });
      const options = plan.resolvedOptions.contextSize ? { num_ctx: plan.resolvedOptions.contextSize } : undefined;
      // Ollama loads a model on an empty request: generate for completion models, embed for embedding-only ones.
      if (capabilities.includes('generate'))
        await client.generate({ model: target.name, prompt: '', keep_alive: target.keepAlive, stream: false, options });
      else await client.embed({ model: target.name, input: [], keep_alive: target.keepAlive, options });
      markAnswered(target.server);
    } catch (error) {
      const failure = upstreamError(target.server, error, `loading ${target.name}`);
      if (failure.code === 'ollama_unreachable') markFailing(target.server, failure.message);
      throw failure;
    }
    const loadMs = performance.now() - startedAt;
    const served = new OllamaServedModel(target, {
      type: 'ready',
      backend: 'ollama',
      device: 'cpu',
      accelerator: 'ollama',
      loadMs,
      embeddingLength: null,
      contextSize: plan.resolvedOptions.contextSize ?? null,
      capabilities,
      runtime: `ollama server ${target.server}`,
      memory: { rssBytes: plan.resolved.version.size_bytes },
    });
    served.onExit = (exit) => {
      this.forget(served);
      onExit(served, exit);
    };
    this.served.add(served);
    await this.refresh();
    // The server went away between the load and its first report: this load did not happen.
    if (!served.isAlive) {
      throw new HangarError(
        'ollama_unreachable',
        `The Ollama server ${target.server} stopped answering right after loading ${target.name}`,
        {
          server: target.server,
        },
      );
    }
    this.ensurePolling();
    return served;
  }

  private forget(served: OllamaServedModel): void {
    this.served.delete(served);
    this.missing.delete(served);
  }

  private ensurePolling(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.refresh(), PS_INTERVAL_MS);
    this.timer.unref();
  }

  /** Reads /api/ps of every server holding a model: memory and device for each, and models the server dropped or cannot be asked about. */
  private async refresh(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      for (const served of [...this.served]) if (!served.isAlive) this.forget(served);
      const servers = new Set([...this.served].map((s) => s.target.server));
      await Promise.all([...servers].map((server) => this.refreshServer(server)));
    } finally {
      this.polling = false;
    }
  }

  private async refreshServer(server: string): Promise<void> {
    const models = [...this.served].filter((s) => s.target.server === server);
    let running: Awaited<ReturnType<ReturnType<typeof ollamaClient>['ps']>>;
    try {
      running = await ollamaClient(server, { timeoutMs: QUICK_CALL_TIMEOUT_MS }).ps();
      markAnswered(server);
    } catch (error) {
      const reason = upstreamError(server, error, 'reporting its loaded models').message;
      markFailing(server, reason);
      this.logger.warn({ server, reason }, 'Ollama server failing: its loaded models are lost');
      for (const served of models) served.lose(reason);
      return;
    }
    for (const served of models) {
      const entry = running.models.find((m) => m.name === served.target.name || m.model === served.target.name);
      if (entry) {
        this.missing.delete(served);
        served.observe(entry);
        continue;
      }
      const misses = (this.missing.get(served) ?? 0) + 1;
      this.missing.set(served, misses);
      if (misses >= MISSING_READS_TO_LOSE && served.inFlight === 0) {
        served.lose(`the Ollama server ${server} no longer holds ${served.target.name} (unloaded there)`);
      }
    }
  }

  replenish(): void {
    // No spares: the Ollama server starts its own runners.
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
