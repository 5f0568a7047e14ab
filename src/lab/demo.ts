// `hanet demo`: the whole story on the embedded lab — daemons on both servers, the workload against `a`, a cut of
// a's public port, the takeover by `b`, the heal and the failback — and a summary of what the clients saw.
// `ipv6`: the same story on the IPv6-only pair (`pair6`): with no IPv4 on the public LAN or the client network,
// nothing can pass over IPv4, so "nothing lost" is the IPv6 path's own result (proxy NDP, unsolicited NAs, routes
// via the peer's link-local). The dual-stack case, both families at once, is the lab tests' (failover-ipv6).
import { setTimeout as delay } from 'node:timers/promises';
import type { FailureMode } from '../cli/lab-options.js';
import { HanetError } from '../errors.js';
import { LabError } from './errors.js';
import { startCluster, type Cluster, type ClusterOptions } from './cluster.js';
import { labUp, type LabHandle } from './lab.js';
import { parseCidr } from '../core/ip.js';
import { defaultTopology, serverPorts } from './topology.js';
import { startWorkload } from './workload/index.js';
import { linkProfile, type DemoLinkKind } from './link-profiles.js';
import type { WorkloadHandle, WorkloadReport } from './workload/index.js';

export type FailMode = FailureMode;

export interface DemoOptions {
  name?: string;
  topology?: string;
  /** Private link kind between a and b (default ethernet): picks the topology and a workload the link can carry. */
  link?: DemoLinkKind;
  /** The IPv6-only topology `pair6` (Ethernet link only): the clients reach a over IPv6. */
  ipv6?: boolean;
  mode?: FailMode;
  /** workload time before the cut, during the outage, and after failback (ms) */
  beforeMs?: number;
  outageMs?: number;
  afterMs?: number;
  /** failure/heal cycles on the same workload */
  cycles?: number;
  cluster?: ClusterOptions;
  /**
   * Largest gap between replies on a long-lived connection that still counts as "served through the takeover".
   * TCP alone retransmits through a 3 s outage within the request timeout, so without this budget a takeover that
   * did nothing would pass as "nothing lost". Measured takeover gaps here: 20-110 ms.
   */
  maxGapBudgetMs?: number;
  onStep?: (step: DemoStep) => void;
  /**
   * Called once the workload runs, with what a live view watches (src/lab/demo-live.ts); the function it returns is
   * awaited after the workload stopped and before the daemons stop (e.g. to fetch their events).
   */
  observe?: (h: { lab: LabHandle; cluster: Cluster; workload: WorkloadHandle }) => (() => Promise<void> | void) | void;
  signal?: AbortSignal;
}

export interface DemoStep { at_ms: number; step: string; detail?: string }

export interface DemoResult extends WorkloadReport {
  ok: boolean;
  mode: FailMode;
  /** The embedded topology the demo ran on and a's address the clients used. */
  topology: string;
  address: string;
  cycles: number;
  steps: DemoStep[];
  takeover_ms: number[];
  failback_ms: number[];
  max_gap_budget_ms: number;
  /** The workload's time 0 (its `timeline`) on the steps' clock (`at_ms`), so both fit on one time axis. */
  workload_origin_ms?: number;
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoResult> {
  const mode = opts.mode ?? 'carrier';
  const cycles = opts.cycles ?? 1;
  const t0 = performance.now();
  const t0hr = process.hrtime.bigint(); // CLOCK_MONOTONIC, the clock of the workload's origin_hrtime_ns
  const timeline: DemoStep[] = [];
  const step = (s: string, detail?: string) => {
    const st = { at_ms: Math.round(performance.now() - t0), step: s, ...(detail ? { detail } : {}) };
    timeline.push(st);
    opts.onStep?.(st);
  };
  const profile = linkProfile(opts.link);
  if (opts.ipv6 && (opts.link ?? 'ethernet') !== 'ethernet') throw new LabError(`the IPv6 demo runs on the Ethernet link only (not ${opts.link})`);
  const topology = opts.topology ?? (opts.ipv6 ? 'pair6' : profile.topology);
  const topo = defaultTopology(topology);
  // a's first public address: 10.0.0.11 on the IPv4 topologies, 2001:db8::11 on pair6.
  const first = serverPorts(topo, 'a').public[0]?.addresses[0];
  if (first === undefined) throw new LabError(`topology ${topology} gives server a no public address`);
  const address = parseCidr(first)!.address;
  const lab: LabHandle = await labUp(topo, { name: opts.name ?? 'demo', replace: true });
  let cluster: Cluster | undefined;
  try {
    step('lab up', lab.name);
    cluster = await startCluster(lab, opts.cluster);
    step('hanet running', cluster.servers.join(', '));
    // 3 s request timeout: longer than a lost SYN's first retransmission (1 s), shorter than the outage, so a
    // failover that does not carry the traffic shows up as failed requests too.
    const wl = await startWorkload(lab, { server: 'a', address, requestTimeoutMs: 3000, ...profile.workload }, opts.signal);
    step('workload started', `P, N, S and B streams against a (${address})`);
    const unobserve = opts.observe?.({ lab, cluster, workload: wl });
    const takeover: number[] = [];
    const failback: number[] = [];
    let report: WorkloadReport;
    try {
      await delay(opts.beforeMs ?? 2000, undefined, { signal: opts.signal });
      for (let i = 0; i < cycles; i++) {
        const tf = performance.now();
        await lab.fail('a:eth0', mode);
        step('cut', `a:eth0 (${mode})`);
        await cluster.waitFor('a', (s) => s.claims.some((c) => c.acked), { timeoutMs: 10_000, what: 'a takeover acknowledged by a helper' });
        takeover.push(Math.round(performance.now() - tf));
        step('takeover', `b answers for ${address} (${takeover.at(-1)} ms after the cut, as seen by polling)`);
        await delay(opts.outageMs ?? 3000, undefined, { signal: opts.signal });
        const th = performance.now();
        await lab.heal('a:eth0');
        step('heal', 'a:eth0');
        await cluster.waitFor('a', (s) => s.claims.length === 0 && s.publics.every((p) => p.placement.kind === 'own'), { timeoutMs: 15_000, what: 'failback' });
        failback.push(Math.round(performance.now() - th));
        step('failback', `a serves directly again (${failback.at(-1)} ms after the heal, hold-down included)`);
        await delay(i === cycles - 1 ? (opts.afterMs ?? 2000) : 500, undefined, { signal: opts.signal });
      }
    } finally {
      report = await wl.stop();
      await Promise.resolve(unobserve?.()).catch(() => undefined);
    }
    step('workload stopped');
    const budget = opts.maxGapBudgetMs ?? profile.maxGapBudgetMs;
    const ok = report.failed === 0 && report.broken_connections === 0 && report.inflight_lost === 0 && report.stream_verified && report.max_gap_ms < budget;
    const origin = report.origin_hrtime_ns ? Math.round(Number(BigInt(report.origin_hrtime_ns) - t0hr) / 1e3) / 1e3 : undefined;
    return { ...report, ok, mode, topology, address, cycles, max_gap_budget_ms: budget, steps: timeline, takeover_ms: takeover, failback_ms: failback, ...(origin !== undefined ? { workload_origin_ms: origin } : {}) };
  } catch (err) {
    if (cluster) {
      for (const n of cluster.servers) step('log', `${n}: ${cluster.logPath(n)}`);
    }
    throw err instanceof HanetError ? err : new LabError(`demo failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  } finally {
    await cluster?.stop().catch(() => undefined);
    await lab.down();
  }
}
