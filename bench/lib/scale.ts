// The scale run (issue #15): a generated cluster of N servers (32 by default, L2 or L3) with a private-link graph,
// K of them (8) failing at once under the P/N/S/B workload, each carried by a helper: per failed server the largest
// gap its clients saw and what was lost; the daemons' total CPU and memory idle and during the failures.
import { readFileSync } from 'node:fs';
import { labUp, type LabHandle } from '../../src/lab/lab.js';
import { startCluster, type Cluster } from '../../src/lab/cluster.js';
import { generateTopology, genServerName } from '../../src/lab/topologies/generate.js';
import { parseCidr } from '../../src/core/ip.js';
import { startWorkload, type WorkloadHandle } from '../../src/lab/workload/index.js';
import type { FailureMode } from '../../src/cli/lab-options.js';
import { daemonPids, idleFootprint } from './idle.js';
import { cpuPct, median, procSample, r2, sleep } from './common.js';

export interface ScaleOptions {
  servers: number;
  failing: number;
  fabric: 'l2' | 'l3';
  links: string;
  racks?: number;
  mode: FailureMode;
  /** Failures held this long before the heal (ms). */
  holdMs: number;
  idleSeconds: number;
  /** Seconds between the cluster being ready and the idle window. */
  settleSeconds: number;
  /** Heartbeat interval and timeout (ms) instead of the defaults (50 / 200): what a heartbeat costs per link. */
  heartbeat?: { intervalMs: number; timeoutMs: number };
}

export const SCALE_DEFAULTS: ScaleOptions = { servers: 32, failing: 8, fabric: 'l2', links: 'ring', mode: 'carrier', holdMs: 3000, idleSeconds: 10, settleSeconds: 10 };
export const SCALE_QUICK: ScaleOptions = { ...SCALE_DEFAULTS, servers: 8, failing: 2, holdMs: 1500, idleSeconds: 3, settleSeconds: 1 };

/** takeover_ms: the bench saw the claim acknowledged (polled status, an upper bound); ack_ms: from the owner's iface-failed to its takeover-acked event (its own clock). */
export interface ScaleServer { node: string; helper: string; takeover_ms: number; ack_ms: number; max_gap_ms: number; failed: number; broken: number; lost: number; stream_ok: boolean; requests: number }

export interface ScaleResult {
  fabric: 'l2' | 'l3'; servers: number; failing: number; links: string; mode: FailureMode;
  /** The heartbeat settings when not the defaults. */
  heartbeat?: { interval_ms: number; timeout_ms: number };
  /** Failures seen by the healthy cluster while idle (iface-failed, peer-down, takeover-requested, gateway-unreachable): false ones. */
  idle_false_events: number;
  lab_up_s: number; cluster_ready_s: number;
  per_server: ScaleServer[];
  median_gap_ms: number; max_gap_ms: number; median_takeover_ms: number; max_takeover_ms: number; median_ack_ms: number; max_ack_ms: number;
  failed: number; broken: number; lost: number; streams_ok: boolean; requests: number;
  /** Sums over every daemon: CPU in % of one core, memory in MiB. */
  idle: { cpu_pct: number; rss_mib: number; pss_mib: number; private_mib: number };
  /** From the cut until every failed server was back on its own port: the daemons' CPU (% of one core, summed). */
  failover_cpu_pct: number;
  /** The machine's CPU idle share meanwhile (both cores), from /proc/stat: how close to its limit the run was. */
  machine_idle_pct: number;
}

const machineTicks = (): { idle: number; total: number } => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3]! + f[4]!, total: f.reduce((a, b) => a + b, 0) };
};

/** The K servers that fail: spread evenly around the ring (n1, n5, n9, ... for 8 of 32), so each keeps a helper. */
export const victimsOf = (servers: number, failing: number): string[] =>
  Array.from({ length: failing }, (_, j) => genServerName(1 + Math.floor((j * servers) / failing)));

const ownAddress = (lab: LabHandle, node: string): string =>
  parseCidr(lab.topology.nodes[node]!.ports.find((p) => p.name === 'eth0')!.addresses[0]!)!.address;

async function waitAll(c: Cluster, timeoutMs: number): Promise<void> {
  // Every daemon ready with all its links alive and every peer's LAN heard healthy (a helper is chosen among those).
  await Promise.all(c.servers.map((n) => c.waitFor(n, (s) => s.ready && s.links.every((l) => l.alive && Object.values(l.peerLans).some((x) => x.healthy)), { timeoutMs, what: 'ready, every link alive' })));
}

/** One scale run: lab up, cluster up, idle footprint, K failures at once under load, heal, report. */
export async function runScale(o: ScaleOptions, log: (s: string) => void = () => undefined): Promise<ScaleResult> {
  const topo = generateTopology({ servers: o.servers, mode: o.fabric, links: o.links, ...(o.racks !== undefined ? { racks: o.racks } : {}) });
  let t0 = performance.now();
  const lab = await labUp(topo, { name: 'bscale', replace: true });
  const labUpS = (performance.now() - t0) / 1000;
  log(`lab of ${o.servers} servers (${o.fabric}, links ${o.links}) up in ${labUpS.toFixed(1)} s`);
  let c: Cluster | undefined;
  const loads = new Map<string, WorkloadHandle>();
  try {
    t0 = performance.now();
    c = await startCluster(lab, o.heartbeat ? { common: { heartbeat: { interval_ms: o.heartbeat.intervalMs, timeout_ms: o.heartbeat.timeoutMs } } } : {});
    await waitAll(c, 60_000 + o.servers * 1000);
    const readyS = (performance.now() - t0) / 1000;
    log(`cluster ready in ${readyS.toFixed(1)} s; idling ${o.idleSeconds} s after ${o.settleSeconds} s to settle`);
    // The daemons' first seconds (module loading, JIT, the first probes of every peer) are not their idle cost.
    await sleep(o.settleSeconds * 1000);
    const FALSE = ['iface-failed', 'peer-down', 'takeover-requested', 'gateway-unreachable'] as const;
    const failures = async (): Promise<number> => (await Promise.all(c!.servers.map((n) => c!.status(n)))).reduce((a, st) => a + FALSE.reduce((b, k) => b + (st.eventCounts[k] ?? 0), 0), 0);
    const f0 = await failures();
    const idle = await idleFootprint(c, o.idleSeconds);
    const idleFalse = (await failures()) - f0;
    const sum = (k: 'cpuPct' | 'rssMiB' | 'pssMiB' | 'privateMiB'): number => r2(idle.reduce((a, d) => a + d[k], 0));
    const victims = victimsOf(o.servers, o.failing);
    // A lighter workload than the single-failure bench (8 at once on 2 cores): the same four streams, fewer requests.
    for (const v of victims) {
      loads.set(v, await startWorkload(lab, { server: v, address: ownAddress(lab, v), persistent: { connections: 2, intervalMs: 20 }, perRequest: { intervalMs: 100 }, slow: { concurrency: 2, holdMs: 1000 }, bulk: { rateBytesPerSec: 128 * 1024 } }));
    }
    await sleep(1000);
    const pids = daemonPids(c);
    const s0 = new Map([...pids].map(([n, p]) => [n, procSample(p)]));
    const m0 = machineTicks();
    const cut = performance.now();
    await Promise.all(victims.map((v) => lab.fail(`${v}:eth0`, o.mode)));
    const taken = await Promise.all(victims.map(async (v) => {
      const s = await c!.waitFor(v, (x) => x.claims.some((y) => y.acked), { timeoutMs: 20_000, what: 'takeover' });
      const ms = performance.now() - cut;
      // From the owner's own events: detection (iface-failed) to the helper's acknowledgement, on the daemon's clock.
      const acked = s.events.find((e) => e.type === 'takeover-acked');
      const failed = s.events.filter((e) => e.type === 'iface-failed' && (acked === undefined || e.at <= acked.at)).at(-1);
      return { node: v, ms, ack: acked && failed ? acked.at - failed.at : NaN, helper: s.claims.find((y) => y.acked)!.helper };
    }));
    log(`all ${victims.length} taken over, the last ${Math.max(...taken.map((x) => x.ms)).toFixed(0)} ms after the cut`);
    await sleep(o.holdMs);
    await Promise.all(victims.map((v) => lab.heal(`${v}:eth0`)));
    await Promise.all(victims.map((v) => c!.waitFor(v, (s) => s.claims.length === 0 && s.publics.every((p) => p.placement.kind === 'own'), { timeoutMs: 30_000, what: 'failback' })));
    const m1 = machineTicks();
    const failoverCpu = [...pids].reduce((a, [n, p]) => a + cpuPct(s0.get(n)!, procSample(p)), 0);
    await sleep(300);
    const per: ScaleServer[] = [];
    for (const { node, ms, ack, helper } of taken) {
      const r = await loads.get(node)!.stop();
      loads.delete(node);
      per.push({ node, helper, takeover_ms: Math.round(ms), ack_ms: r2(ack), max_gap_ms: r2(r.max_gap_ms), failed: r.failed, broken: r.broken_connections, lost: r.inflight_lost, stream_ok: r.stream_verified, requests: r.requests });
    }
    const gaps = per.map((p) => p.max_gap_ms);
    const tk = per.map((p) => p.takeover_ms);
    const ak = per.map((p) => p.ack_ms);
    return {
      fabric: o.fabric, servers: o.servers, failing: o.failing, links: o.links, mode: o.mode, idle_false_events: idleFalse,
      ...(o.heartbeat ? { heartbeat: { interval_ms: o.heartbeat.intervalMs, timeout_ms: o.heartbeat.timeoutMs } } : {}),
      lab_up_s: r2(labUpS), cluster_ready_s: r2(readyS), per_server: per,
      median_gap_ms: r2(median(gaps)), max_gap_ms: r2(Math.max(...gaps)), median_takeover_ms: median(tk), max_takeover_ms: Math.max(...tk), median_ack_ms: r2(median(ak)), max_ack_ms: r2(Math.max(...ak)),
      failed: per.reduce((a, p) => a + p.failed, 0), broken: per.reduce((a, p) => a + p.broken, 0), lost: per.reduce((a, p) => a + p.lost, 0),
      streams_ok: per.every((p) => p.stream_ok), requests: per.reduce((a, p) => a + p.requests, 0),
      idle: { cpu_pct: sum('cpuPct'), rss_mib: sum('rssMiB'), pss_mib: sum('pssMiB'), private_mib: sum('privateMiB') },
      failover_cpu_pct: r2(failoverCpu),
      machine_idle_pct: r2(((m1.idle - m0.idle) / Math.max(1, m1.total - m0.total)) * 100),
    };
  } finally {
    for (const w of loads.values()) await w.stop().catch(() => undefined);
    await c?.stop();
    await lab.down();
  }
}
