// Supervision: a served model that ends unasked is marked failed with the reason and restarted with exponential back-off.
import type { Logger } from 'pino';
import type { HangarConfig } from '../config/schema.ts';
import type { Deployment } from './deployment.ts';
import type { DeploymentLifecycle } from './deployment-lifecycle.ts';
import type { RuntimeEventType } from './runtime-events.ts';
import { ServiceUnavailable } from '../errors.ts';
import { describeExit, RunnerCrashed } from './runner-process.ts';
import type { ServedModel, ServedModelExit } from './served-model.ts';

export interface SupervisorOptions {
  lifecycle: () => DeploymentLifecycle;
  config: () => HangarConfig;
  logger: Logger;
  emit(type: RuntimeEventType, dep: Deployment, details?: Record<string, unknown>): void;
  /** True once the server is shutting down: nothing is restarted then. */
  stopping: () => boolean;
}

/** The longest wait between retries of a model whose external server is failing. */
const EXTERNAL_RETRY_MAX_MS = 15_000;

export class Supervisor {
  constructor(private readonly o: SupervisorOptions) {}

  /** A crash: fail the deployment, reject what waits for it, and schedule a restart. */
  onUnexpectedExit(dep: Deployment, served: ServedModel, exit: ServedModelExit): void {
    // A model on an external server has no process of ours: its launcher's reason says what happened there.
    const external = served.pid === null;
    const reason = external ? exit.stderrTail || 'its server dropped it' : describeExit(exit);
    dep.state = 'failed';
    dep.failure = external ? reason : `runner crashed: ${reason}`;
    dep.disarmKeepAlive();
    dep.slots.rejectWaiting(
      external
        ? new ServiceUnavailable(`${dep.name} is unavailable: ${reason}`, { model: dep.name }, 'model_unavailable')
        : new RunnerCrashed(`The runner of ${dep.name} crashed: ${reason}`),
    );
    this.o.logger.error(
      { model: dep.name, pid: served.pid, code: exit.code, signal: exit.signal, stderr: exit.stderrTail.slice(-2000) },
      external ? 'external server lost the model' : 'runner crashed',
    );
    this.o.emit('model.crashed', dep, { pid: served.pid, exit_code: exit.code, signal: exit.signal });
    this.scheduleRestart(dep, external);
  }

  /**
   * Restarts with exponential back-off, at most restart_max times within restart_window_ms. A model on an external
   * server is retried without a limit (at most every EXTERNAL_RETRY_MAX_MS; a retry is one cheap call), so it comes
   * back by itself once its server answers again; unloading it stops the retries.
   */
  private scheduleRestart(dep: Deployment, external: boolean): void {
    const { restart_max, restart_window_ms, restart_backoff_ms } = this.o.config().runtime;
    const now = Date.now();
    dep.restartTimes = dep.restartTimes.filter((t) => now - t < restart_window_ms);
    if (this.o.stopping()) return;
    if (!external && dep.restartTimes.length >= restart_max) {
      dep.failure = `${dep.failure} (not restarted: ${dep.restartTimes.length} restarts within ${Math.round(restart_window_ms / 1000)} s)`;
      this.o.emit('model.failed', dep, { reason: dep.failure });
      return;
    }
    dep.restartTimes.push(now);
    const backoff = restart_backoff_ms * 2 ** (dep.restartTimes.length - 1);
    const delay = external ? Math.min(backoff, EXTERNAL_RETRY_MAX_MS) : backoff;
    this.o.emit('model.restarting', dep, { attempt: dep.restartTimes.length, delay_ms: delay });
    setTimeout(() => {
      if (dep.state !== 'failed' || dep.pending || this.o.stopping()) return;
      this.o
        .lifecycle()
        .start(dep, dep.ref, dep.requestedOptions)
        .catch((error: unknown) => {
          this.o.logger.error({ model: dep.name, err: error }, 'restart failed');
          this.scheduleRestart(dep, external);
        });
    }, delay).unref();
  }
}
