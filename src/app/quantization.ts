// Use cases of quantization: quantize a version into a new one, and load a model "in 4-bit / 8-bit" (an existing quantized version, else quantize first).
import type { Logger } from 'pino';
import type { ActionContext } from '../registry/audit.ts';
import type { ModelCatalog, ResolvedVersion } from '../registry/catalog.ts';
import type { VersionInfo } from '../schemas/models.ts';
import type { LoadOptions } from '../schemas/runtime.ts';
import { HangarError, isErrorCode } from '../errors.ts';
import type { QuantizeJobs, QuantizeRequest, QuantizeStarted } from '../quantize/quantize-jobs.ts';
import { quantizationTarget } from '../quantize/quantization-types.ts';
import { fullPrecisionOrigin } from '../quantize/quantization-source.ts';
import type { ControlResult, RuntimeControl } from './runtime-control.ts';

/** What a quantized load did: which version it loaded, and the job that made it when none existed. */
export interface QuantizedLoad extends ControlResult {
  version: number;
  quantization: string;
  job_id: string | null;
}

export class Quantization {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly jobs: QuantizeJobs,
    private readonly runtime: RuntimeControl,
    private readonly logger: Logger,
  ) {}

  /** Starts (or joins) a quantize job; the new version appears when it completes. */
  quantize(request: QuantizeRequest, context: ActionContext): Promise<QuantizeStarted> {
    return this.jobs.submit(request, context);
  }

  /**
   * The version of `resolved`'s model holding `type`: one quantized from exactly this version first, else any version of the
   * model in that quantization (newest first); null when there is none.
   */
  async existingQuantization(resolved: ResolvedVersion, type: string): Promise<VersionInfo | null> {
    const detail = await this.catalog.getModel(resolved.model.name);
    const same = detail.versions.filter((v) => (v.quantization ?? '').toLowerCase() === type.toLowerCase());
    const derived = same.find((v) => {
      const from = (v.source as { from?: { version?: unknown } }).from;
      return v.source.kind === 'quantized' && from?.version === resolved.version.version;
    });
    return derived ?? same.sort((a, b) => b.version - a.version)[0] ?? null;
  }

  /**
   * Loads `name` in `quantization` (q4, q8, Q4_K_M, fp16…): the version already in that quantization when there is one,
   * else a new one quantized from the version `name` resolves to (one job, waited for), then loaded as the model's deployment.
   */
  async load(name: string, quantization: string, options: LoadOptions, context: ActionContext, wait: boolean): Promise<QuantizedLoad> {
    const served = await this.catalog.resolve(name);
    const target = quantizationTarget(served.version.format, quantization);
    if ((served.version.quantization ?? '').toLowerCase() === target.type.toLowerCase()) {
      return this.loadVersion(served.model.name, served.version.version, target.type, null, options, context, wait);
    }
    // A name that serves a quantized version is quantized again from that version's full-precision origin.
    const resolved = await fullPrecisionOrigin(this.catalog, served);
    const existing = await this.existingQuantization(resolved, target.type);
    if (existing) return this.loadVersion(existing.model, existing.version, target.type, null, options, context, wait);
    const started = await this.jobs.submit({ model: `${resolved.model.name}:${resolved.version.version}`, type: target.type }, context);
    const finishing = this.loadWhenMade(started.job.id, resolved.model.name, target.type, options, context);
    if (wait) return finishing;
    // The quantize job and then the load run in the background; the job shows their progress.
    finishing.catch((error: unknown) => this.logger.warn({ err: error, model: name, quantization }, 'background quantized load failed'));
    return {
      done: false,
      status: await this.runtime.status(resolved.model.name),
      version: resolved.version.version,
      quantization: target.type,
      job_id: started.job.id,
    };
  }

  /** Waits for the quantize job, then loads the version it made. */
  private async loadWhenMade(
    jobId: string,
    model: string,
    type: string,
    options: LoadOptions,
    context: ActionContext,
  ): Promise<QuantizedLoad> {
    const finished = await this.jobs.waitFor(jobId);
    const made = finished.result as { model?: string; version?: number } | null;
    if (finished.status !== 'completed' || typeof made?.version !== 'number') {
      const error = finished.error ?? { code: 'quantization_failed', message: `quantize job ${finished.id} ended ${finished.status}` };
      throw new HangarError(isErrorCode(error.code) ? error.code : 'quantization_failed', error.message, { job_id: finished.id });
    }
    return this.loadVersion(made.model ?? model, made.version, type, finished.id, options, context, true);
  }

  private async loadVersion(
    model: string,
    version: number,
    quantization: string,
    jobId: string | null,
    options: LoadOptions,
    context: ActionContext,
    wait: boolean,
  ): Promise<QuantizedLoad> {
    const result = await this.runtime.control('load', `${model}:${version}`, options, context, wait);
    return { ...result, version, quantization, job_id: jobId };
  }
}
