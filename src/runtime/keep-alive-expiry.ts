// Keep-alive expiry: an idle model's countdown starts after each request, and it is unloaded when the countdown runs out.
import type { Deployment } from './deployment.ts';
import type { DeploymentLifecycle } from './deployment-lifecycle.ts';

export class KeepAliveExpiry {
  constructor(private readonly lifecycle: () => DeploymentLifecycle) {}

  /** Starts (or restarts) the countdown of an idle, loaded deployment. */
  arm(dep: Deployment): void {
    dep.armKeepAlive(() => void this.expire(dep));
  }

  /** After each request: once idle, keep-alive 0 unloads now; otherwise the countdown starts. */
  afterRequest(dep: Deployment): void {
    if (dep.busy > 0 || dep.state !== 'loaded') return;
    if (dep.keepAliveMs === 0) void this.expire(dep);
    else this.arm(dep);
  }

  private async expire(dep: Deployment): Promise<void> {
    if (dep.state !== 'loaded' || dep.busy > 0 || dep.pending) return;
    await this.lifecycle().stop(dep, 'model.unloaded', { reason: 'keep_alive expired' });
  }
}
