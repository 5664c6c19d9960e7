// The deployments of one runtime, by model name; only the runtime's own modules hold it.
import type { HangarConfig } from '../config/schema.ts';
import { backendSpec } from './backends.ts';
import { Deployment } from './deployment.ts';
import { parseKeepAlive } from './keep-alive.ts';

export class DeploymentTable {
  private readonly byName = new Map<string, Deployment>();

  constructor(private readonly config: () => HangarConfig) {}

  get(name: string): Deployment | undefined {
    return this.byName.get(name);
  }

  /** The deployment of `name`, created idle with the configured keep-alive when first asked for. */
  getOrCreate(name: string): Deployment {
    let dep = this.byName.get(name);
    if (!dep) {
      const runtime = this.config().runtime;
      dep = new Deployment(name, parseKeepAlive(runtime.keep_alive), 1, () => this.config().runtime.max_queue);
      this.byName.set(name, dep);
    }
    return dep;
  }

  all(): Deployment[] {
    return [...this.byName.values()];
  }

  /** Deployments whose model is being served (or draining) now in this machine's memory pool (not an external backend's). */
  residentLocally(): Deployment[] {
    return this.all().filter(
      (d) =>
        d.served?.isAlive &&
        (d.state === 'loaded' || d.state === 'unloading') &&
        d.version &&
        backendSpec(d.version.backend).pool === 'local',
    );
  }
}
