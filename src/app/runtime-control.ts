// Use cases load, unload and reload: run them on the runtime and audit each one.
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { Database } from '../db/schema.ts';
import type { ModelCatalog } from '../registry/catalog.ts';
import { recordAuditEvent, type ActionContext } from '../registry/audit.ts';
import type { ModelRuntime } from '../runtime/model-runtime.ts';
import type { LoadOptions, ModelStatus } from '../schemas/runtime.ts';

export type RuntimeOperation = 'load' | 'unload' | 'reload';

/** What a control call answers: the model's status once done, or (not waiting) that it started. */
export interface ControlResult {
  done: boolean;
  status: ModelStatus;
}

export interface RuntimeControlOptions {
  db: Kysely<Database>;
  runtime: ModelRuntime;
  catalog: ModelCatalog;
  logger: Logger;
}

export class RuntimeControl {
  constructor(private readonly o: RuntimeControlOptions) {}

  private async audit(context: ActionContext, op: RuntimeOperation, name: string, status: ModelStatus): Promise<void> {
    await recordAuditEvent(this.o.db, context, {
      action: `model.${op}`,
      target: name,
      outcome: 'success',
      details: { version: status.version, state: status.status, device: status.device },
    });
  }

  private run(op: RuntimeOperation, name: string, options: LoadOptions): Promise<ModelStatus> {
    if (op === 'unload') return this.o.runtime.unload(name);
    return op === 'load' ? this.o.runtime.load(name, options) : this.o.runtime.reload(name, options);
  }

  /**
   * Runs `op` on `name` and audits it. With `wait: false` a load or reload answers as soon as it has
   * started (unknown models still fail first) and is audited when it finishes.
   */
  async control(op: RuntimeOperation, name: string, options: LoadOptions, context: ActionContext, wait = true): Promise<ControlResult> {
    if (wait || op === 'unload') {
      const status = await this.run(op, name, options);
      await this.audit(context, op, name, status);
      return { done: true, status };
    }
    await this.o.catalog.resolve(name);
    // A load its tenant's quotas refuse now answers 409 here rather than 202 and a failure nobody sees.
    if (op === 'load') await this.o.runtime.assertLoadAdmissible(name, options);
    this.run(op, name, options).then(
      (status) => this.audit(context, op, name, status),
      (error: unknown) => this.o.logger.warn({ err: error, model: name }, `background ${op} failed`),
    );
    // One turn of the event loop, so the status already shows the load under way.
    await new Promise((resolve) => setImmediate(resolve));
    return { done: false, status: await this.o.runtime.status(name) };
  }

  /** The model's runtime status (not loaded, loading, loaded…). */
  status(name: string): Promise<ModelStatus> {
    return this.o.runtime.status(name);
  }

  async unload(name: string, context: ActionContext): Promise<ModelStatus> {
    return (await this.control('unload', name, {}, context)).status;
  }
}
