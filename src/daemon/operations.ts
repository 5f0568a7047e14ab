// The operator-facing parts around a running daemon: Prometheus metrics (and their HTTP endpoint) and notify
// hooks, both fed by `daemon.onEvent` and `daemon.status()`, so the daemon's loop knows nothing about them.
import type { Config } from '../config/schema.js';
import type { CoreConfig, CoreLogEvent } from '../core/types.js';
import { readIfaceBytes } from '../os/linux/ifstats.js';
import type { DaemonStatus, Logger } from './daemon.js';
import { HookRunner } from './hooks.js';
import { DaemonMetrics, serveMetrics, type MetricsServer } from './metrics.js';

export interface Operations {
  readonly metrics: DaemonMetrics;
  readonly hooks: HookRunner | undefined;
  /** Where the metrics endpoint listens, if it does. */
  readonly metricsAddress: { host: string; port: number } | undefined;
  close(): Promise<void>;
}

/**
 * Subscribes metrics and hooks to the daemon (call before `daemon.start()` so that no event is missed) and serves
 * the metrics endpoint. A metrics endpoint that cannot listen is logged, not fatal: HA must not stop for it.
 */
export async function startOperations(
  cfg: Pick<Config, 'node' | 'metrics' | 'notify'>,
  core: CoreConfig,
  daemon: { status(): DaemonStatus; onEvent(cb: (e: CoreLogEvent) => void): () => void },
  log: Logger,
): Promise<Operations> {
  const metrics = new DaemonMetrics(daemon, { node: cfg.node, privates: core.privates, readIface: (n) => readIfaceBytes(n) });
  let hooks: HookRunner | undefined;
  let offHooks: (() => void) | undefined;
  if (cfg.notify) {
    const lanAddresses: Record<string, string[]> = {};
    for (const p of core.publics) (lanAddresses[p.lan] ??= []).push(...p.addresses.map((a) => a.address));
    hooks = new HookRunner({
      ...cfg.notify, node: cfg.node, lanAddresses, log,
      onResult: (event, result, ms) => metrics.hookRun(event, result, ms),
    });
    offHooks = daemon.onEvent(hooks.handle);
  }
  let server: MetricsServer | undefined;
  if (cfg.metrics.enabled) {
    try {
      server = await serveMetrics(metrics, cfg.metrics.host, cfg.metrics.port);
      log.info({ listen: `${server.address.host}:${server.address.port}` }, 'metrics endpoint listening');
    } catch (err) {
      log.error({ listen: `${cfg.metrics.host}:${cfg.metrics.port}`, err: err instanceof Error ? err.message : String(err) }, 'metrics endpoint cannot listen; running without it');
    }
  }
  return {
    metrics,
    hooks,
    metricsAddress: server?.address,
    async close() {
      offHooks?.();
      hooks?.close();
      metrics.close();
      await server?.close();
    },
  };
}
