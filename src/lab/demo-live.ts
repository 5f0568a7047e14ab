// The live view of `hanet demo` on a terminal: one screen, redrawn in place every 250 ms, with the progress, the
// workload's request counters, the state of a and b (from their control sockets), and the timeline of steps so
// far. At the end it fetches the daemons' events for the HTML report.
import { askControl } from '../daemon/control-socket.js';
import type { DaemonStatus } from '../daemon/daemon.js';
import type { CoreLogEvent } from '../core/types.js';
import type { Cluster } from './cluster.js';
import type { DemoStep } from './demo.js';
import type { WorkloadHandle } from './workload/index.js';

export interface LiveViewOptions {
  out: { write(s: string): unknown; columns?: number };
  title: string;
  intervalMs?: number;
  /** Draw nothing (not a terminal): only collect the daemons' events for the report. */
  quiet?: boolean;
}

export interface LiveView {
  /** Feed it the demo's steps (DemoOptions.onStep). */
  step(s: DemoStep): void;
  /** DemoOptions.observe: starts watching the cluster and the workload; returns the function that stops it. */
  observe(h: { cluster: Cluster; workload: WorkloadHandle }): () => Promise<void>;
  /** The daemons' events, fetched when observing stopped. */
  readonly events: Record<string, CoreLogEvent[]>;
  /** Draws the last frame and stops redrawing (also on errors). */
  close(): void;
}

const dur = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** One line describing a node's state for the live view. */
export function describeNode(s: DaemonStatus | undefined, err?: string): string {
  if (!s) return err ? `unreachable (${err})` : 'starting';
  const parts: string[] = [];
  for (const p of s.publics) {
    const h = p.health.healthy ? (p.health.usable ? 'healthy' : 'recovering') : `FAILED ${p.health.reason}`;
    const pl = p.placement.kind === 'remote' ? ` -> served by ${p.placement.peer}` : p.placement.kind === 'local' ? ` -> on ${p.placement.iface}` : p.placement.kind === 'unserved' ? ' -> UNSERVED' : '';
    parts.push(`${p.iface} ${h}${pl}`);
  }
  for (const c of s.claims) parts.push(`${c.helper} carries ${c.addresses.join(',')} (${c.acked ? 'acked' : 'waiting'})`);
  for (const h of s.helping) parts.push(`carrying ${h.owner}'s ${h.addresses.join(',')}${h.lingering ? ' (releasing)' : ''}`);
  for (const l of s.links) parts.push(`link ${l.name} ${l.alive ? 'up' : 'DOWN'}${l.rtt?.lastMs != null ? ` rtt ${l.rtt.lastMs.toFixed(0)} ms` : ''}`);
  return parts.join('  |  ');
}

export function createLiveView(o: LiveViewOptions): LiveView {
  const steps: DemoStep[] = [];
  const t0 = performance.now();
  const state = new Map<string, { s?: DaemonStatus; err?: string }>();
  let cluster: Cluster | undefined;
  let workload: WorkloadHandle | undefined;
  let drawn = 0;
  let timer: NodeJS.Timeout | undefined;
  let polling = false;
  let closed = false;
  const events: Record<string, CoreLogEvent[]> = {};

  const frame = (): string[] => {
    const width = Math.max(40, (o.out.columns || 100) - 1);
    const lines: string[] = [];
    lines.push(`${o.title}   ${dur(performance.now() - t0)}`);
    lines.push('-'.repeat(Math.min(width, 78)));
    const p = workload?.progress();
    if (p) lines.push(`clients   requests ${p.requests}   ok ${p.ok}   failed ${p.failed}   in flight ${p.inflight}   broken connections ${p.broken_connections}`);
    else lines.push('clients   not started');
    for (const n of cluster?.servers ?? []) {
      const st = state.get(n);
      lines.push(`${n.padEnd(9)} ${describeNode(st?.s, st?.err)}`);
    }
    lines.push('', 'timeline');
    for (const s of steps.slice(-12)) lines.push(`  ${(s.at_ms / 1000).toFixed(2).padStart(7)} s  ${s.step}${s.detail ? `: ${s.detail}` : ''}`);
    return lines.map((l) => (l.length > width ? l.slice(0, width - 1) + '…' : l));
  };

  const draw = (): void => {
    if (o.quiet) return;
    const lines = frame();
    // Back to the top of the previous frame, clear to the end of the screen, draw.
    const up = drawn > 0 ? `\x1b[${drawn}F` : '';
    o.out.write(`${up}\x1b[J${lines.join('\n')}\n`);
    drawn = lines.length;
  };

  const poll = async (): Promise<void> => {
    if (polling || !cluster) return;
    polling = true;
    try {
      await Promise.all(cluster.servers.map(async (n) => {
        try { state.set(n, { s: await cluster!.status(n) }); } catch (err) { state.set(n, { s: state.get(n)?.s, err: err instanceof Error ? err.message.slice(0, 60) : String(err) }); }
      }));
    } finally { polling = false; }
  };

  const tick = (): void => { if (!closed) { void poll(); draw(); } };

  return {
    events,
    step(s) { steps.push(s); if (!closed) draw(); },
    observe(h) {
      cluster = h.cluster;
      workload = h.workload;
      timer ??= setInterval(tick, o.intervalMs ?? 250);
      tick();
      return async () => {
        await poll();
        if (!closed) draw();
        for (const n of h.cluster.servers) {
          try {
            const lines = await askControl(h.cluster.socketPath(n), { cmd: 'events' });
            events[n] = lines.map((l) => JSON.parse(l) as CoreLogEvent);
          } catch { /* the report goes without this node's events */ }
        }
      };
    },
    close() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (!closed) draw();
      closed = true;
    },
  };
}
