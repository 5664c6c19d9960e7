// Use cases promote and roll back: the registry change, then the live swap of a loaded model that follows production, recorded in its history.
import type { ActionContext } from '../registry/audit.ts';
import type { PromoteOptions, RegistryService } from '../registry/registry-service.ts';
import type { Promotion, PromotionResult } from '../schemas/registry.ts';
import type { ModelRuntime } from '../runtime/model-runtime.ts';

export class Promotions {
  constructor(
    private readonly registry: RegistryService,
    private readonly runtime: ModelRuntime,
  ) {}

  /** Promotion is deployment: a loaded model that follows `name` (not a pinned `name:3`) switches live. */
  private async deploy(result: PromotionResult, context: ActionContext): Promise<Promotion> {
    const loaded = this.runtime.snapshot(result.model);
    if (!result.changed || !loaded || loaded.state !== 'loaded' || loaded.ref !== result.model) return { ...result, swapped: false };
    const from = loaded.version?.number ?? null;
    await this.runtime.reload(result.model);
    await this.registry.recordSwap(result.model, from, result.production_version, context);
    return { ...result, swapped: true };
  }

  async promote(name: string, versionRef: string, options: PromoteOptions, context: ActionContext): Promise<Promotion> {
    return this.deploy(await this.registry.promote(name, versionRef, options, context), context);
  }

  async rollback(name: string, options: Omit<PromoteOptions, 'expected_current_version'>, context: ActionContext): Promise<Promotion> {
    return this.deploy(await this.registry.rollback(name, options, context), context);
  }
}
