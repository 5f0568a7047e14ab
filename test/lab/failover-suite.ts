// The failover lab tests as one suite over an address-family variant (IPv4, IPv6-only, dual-stack): carrier, silent
// and admin failures under load, 10 cycles on the same connections, kill -9 of owner and helper during a takeover,
// local backup, three servers — and the helpers every failover lab test uses. failover.test.ts runs it on IPv4,
// failover-ipv6.test.ts on IPv6-only and on dual-stack (the workload on both families at once).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { ipFamily } from '../../src/core/ip.js';
import { waitFor } from '../helpers.js';
import { withCluster as withLabCluster } from './with-cluster.js';
import type { LabHandle } from '../../src/lab/lab.js';
import type { Cluster, ClusterOptions } from '../../src/lab/cluster.js';
import type { Topology } from '../../src/lab/topology.js';
import { startWorkload, type WorkloadOptions, type WorkloadReport } from '../../src/lab/workload/index.js';
import { startFamilyWorkloads } from '../../src/lab/workload/families.js';

export async function withCluster(t: TestContext, name: string, topology: string | Topology, fn: (lab: LabHandle, c: Cluster) => Promise<void>, cluster: ClusterOptions = {}): Promise<void> {
  await withLabCluster(t, { name, topology, cluster }, fn);
}

export function assertNothingLost(r: WorkloadReport, what: string): void {
  const brief = JSON.stringify({ target: r.target, requests: r.requests, failed: r.failed, broken: r.broken_connections, lost: r.inflight_lost, stream: r.stream_verified, gap: r.max_gap_ms });
  assert.ok(r.requests > 100, `${what}: the workload ran (${brief})`);
  assert.equal(r.failed, 0, `${what}: failed requests ${brief}`);
  assert.equal(r.broken_connections, 0, `${what}: broken connections ${brief}`);
  assert.equal(r.inflight_lost, 0, `${what}: in-flight requests lost ${brief}`);
  assert.equal(r.stream_verified, true, `${what}: byte stream ${brief}`);
  // TCP alone would retransmit through the outage within the request timeout: only a small gap proves that the
  // takeover carried the traffic (measured here: 20-110 ms; the cut lasts >= 300 ms in every test).
  assert.ok(r.max_gap_ms < 250, `${what}: largest gap ${r.max_gap_ms} ms ${brief}`);
}

export const tookOver = (c: Cluster) => c.waitFor('a', (s) => s.claims.some((x) => x.acked), { what: 'takeover acknowledged' });
/** `n` carrier failures of a:eth0, each waited through its takeover and failback (300 ms of traffic around each). */
export async function carrierCycles(lab: LabHandle, c: Cluster, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    await delay(300);
    await lab.fail('a:eth0', 'carrier');
    await tookOver(c);
    await delay(300);
    await lab.heal('a:eth0');
    await failedBack(c);
  }
  await delay(300);
}
export const failedBack = (c: Cluster) => c.waitFor('a', (s) => s.claims.length === 0 && s.publics.every((p) => p.placement.kind === 'own') && s.publics.every((p) => p.health.healthy), { timeoutMs: 15_000, what: 'failback' });

/** The proxy neighbour entries of a node, both families. */
export async function proxiesOf(lab: LabHandle, node: string): Promise<string> {
  return (await lab.exec(node, ['ip', 'neigh', 'show', 'proxy'], { check: true })).stdout.trim();
}
/** The routes hanet installed on a node (route protocol 78), IPv4 then IPv6. */
export async function hanetRoutes(lab: LabHandle, node: string): Promise<string> {
  const of = async (f: '-4' | '-6') => (await lab.exec(node, ['ip', f, 'route', 'show', 'table', 'all', 'proto', '78'], { check: false })).stdout.trim();
  return [await of('-4'), await of('-6')].filter(Boolean).join('\n');
}

/** An address-family variant of the suite. */
export interface Variant {
  /** Prefix of the test names ('' for IPv4: the names the suite always had). */
  label: string;
  /** Inserted into lab names (1-8 characters in all): '' for IPv4, '6', '46'. */
  tag: string;
  topologies: { pair: string; trio: string; dual: string };
  /** a's service addresses on eth0 the workload targets: one workload per address, all at once. */
  targets: string[];
  /** a's address on eth2 in the `dual` topology, per target. */
  backups: string[];
  /** What hanet leaves on a node when idle: its fallback default route per family. */
  idleRoutes: string;
  /** Stream settings of each family's workload (default: the workload's defaults). */
  perFamily?: Pick<WorkloadOptions, 'persistent' | 'perRequest' | 'slow' | 'bulk'>;
}

export const IPV4: Variant = {
  label: '', tag: '', topologies: { pair: 'pair', trio: 'trio', dual: 'dual' }, targets: ['10.0.0.11'], backups: ['10.0.0.21'],
  idleRoutes: 'default via 10.0.0.1 dev eth0 metric 4242',
};
const IDLE6 = 'default via fe80::1 dev eth0 metric 4242 pref medium';
export const IPV6_ONLY: Variant = {
  label: 'IPv6-only', tag: '6', topologies: { pair: 'pair6', trio: 'trio6', dual: 'dual6' }, targets: ['2001:db8::11'], backups: ['2001:db8::21'], idleRoutes: IDLE6,
};
export const DUAL_STACK: Variant = {
  label: 'dual-stack', tag: '46', topologies: { pair: 'pair46', trio: 'trio46', dual: 'dual46' }, targets: ['10.0.0.11', '2001:db8::11'],
  backups: ['10.0.0.21', '2001:db8::21'], idleRoutes: `${IPV4.idleRoutes}\n${IDLE6}`,
  // The single-family load split over the two families (N, S and B halved each), so that the instrument costs the
  // 2-core machine what it costs in the other variants; P, the gap measure, runs in full on both.
  perFamily: {
    persistent: { connections: 4, intervalMs: 10 }, perRequest: { intervalMs: 40 }, slow: { concurrency: 5, holdMs: 2000 }, bulk: { rateBytesPerSec: 512 * 1024 },
  },
};

/** The workload of a variant against server a: one per target address, all running at once. */
export interface Load {
  /** How many workloads run (one per family). */
  readonly count: number;
  stop(): Promise<Array<{ what: string; report: WorkloadReport }>>;
}
export async function startLoad(lab: LabHandle, v: Variant, more: Omit<WorkloadOptions, 'server' | 'address'> = {}): Promise<Load> {
  const opts = { ...v.perFamily, ...more };
  if (v.targets.length === 1) {
    const wl = await startWorkload(lab, { ...opts, server: 'a', address: v.targets[0]! });
    return { count: 1, stop: async () => [{ what: `IPv${ipFamily(v.targets[0]!)}`, report: await wl.stop() }] };
  }
  const wl = await startFamilyWorkloads(lab, { ...opts, server: 'a', addresses: v.targets });
  return {
    count: v.targets.length,
    stop: async () => Object.entries(await wl.stop()).flatMap(([k, report]) => (report ? [{ what: k === 'ipv4' ? 'IPv4' : 'IPv6', report }] : [])),
  };
}

/** Stops the load and asserts that no family lost anything; diagnostics per family. */
async function stopAndCheck(t: TestContext, load: Load, what: string): Promise<void> {
  const reports = await load.stop();
  assert.equal(reports.length, load.count, `${what}: a report per family`);
  for (const { what: fam, report: r } of reports) {
    t.diagnostic(`${what} (${fam}, ${r.target}): requests ${r.requests}, max gap ${r.max_gap_ms.toFixed(1)} ms, p99 ${r.latency_ms.p99.toFixed(2)} ms`);
  }
  for (const { what: fam, report: r } of reports) assertNothingLost(r, `${what} over ${fam}`);
}

const holdsAll = (proxies: string, addresses: string[]): boolean => addresses.every((a) => proxies.split('\n').some((l) => l.startsWith(`${a} `)));

/** Registers the suite's tests for one variant. */
export function failoverSuite(v: Variant): void {
  const name = (s: string) => (v.label ? `${v.label}: ${s}` : s);
  const lab = (s: string) => `l${v.tag}${s}`.slice(0, 8);

  for (const mode of ['carrier', 'silent', 'admin'] as const) {
    test(name(`${mode} failure of a's public port under load, then heal: nothing lost`), async (t) => {
      await withCluster(t, lab(`f${mode.slice(0, 2)}`), v.topologies.pair, async (l, c) => {
        const load = await startLoad(l, v);
        await delay(1000); // the workload's baseline before the cut (a timeline, not synchronisation)
        await l.fail('a:eth0', mode);
        const s = await tookOver(c);
        assert.equal(s.claims[0]?.helper, 'b');
        await waitFor(async () => holdsAll(await proxiesOf(l, 'b'), v.targets), { what: `proxy entries on b for ${v.targets.join(', ')}` });
        await delay(1500);
        await l.heal('a:eth0');
        await failedBack(c);
        await delay(500);
        await stopAndCheck(t, load, mode);
        await c.waitFor('b', (s2) => s2.helping.length === 0, { what: 'b let go after the linger' });
        assert.equal(await proxiesOf(l, 'b'), '');
      });
    });
  }

  test(name('10 failure/heal cycles in a row on the same long-lived connections'), async (t) => {
    await withCluster(t, lab('cyc'), v.topologies.pair, async (l, c) => {
      const load = await startLoad(l, v);
      await carrierCycles(l, c, 10);
      await stopAndCheck(t, load, '10 cycles');
    }, { common: { takeover: { failback_hold_ms: 300 } } });
  });

  for (const victim of ['a', 'b'] as const) {
    test(name(`daemon on ${victim === 'a' ? 'the owner' : 'the helper'} killed -9 and restarted during a takeover: nothing lost, nothing left over`), async (t) => {
      await withCluster(t, lab(`k${victim}`), v.topologies.pair, async (l, c) => {
        const load = await startLoad(l, v);
        await delay(800);
        await l.fail('a:eth0', 'carrier');
        await tookOver(c);
        await delay(500);
        await c.kill(victim, 'SIGKILL');
        await delay(300);
        await c.start(victim);
        const st = await c.waitFor('b', (s) => s.helping.some((h) => h.owner === 'a' && !h.lingering && h.claimId !== 'adopted'), { what: 'b helping a again under a fresh claim' });
        assert.equal(st.helping.length, 1);
        await delay(800);
        await l.heal('a:eth0');
        await failedBack(c);
        await c.waitFor('b', (s) => s.helping.length === 0, { what: 'b let go after the linger' });
        await stopAndCheck(t, load, `kill -9 ${victim}`);
        assert.equal(await proxiesOf(l, 'b'), '', 'no proxy entry left on b');
        assert.equal(await hanetRoutes(l, 'b'), v.idleRoutes, 'only the fallback default routes on b');
        assert.equal(await hanetRoutes(l, 'a'), v.idleRoutes, 'only the fallback default routes on a');
      });
    });
  }

  test(name('local backup: a second public port of a on the same LAN carries its address, no peer involved'), async (t) => {
    await withCluster(t, lab('dual'), v.topologies.dual, async (l, c) => {
      const load = await startLoad(l, v);
      await delay(800);
      await l.fail('a:eth0', 'carrier');
      await c.waitFor('a', (s) => s.publics.find((p) => p.iface === 'eth0')?.placement.kind === 'local', { what: 'local backup' });
      const addrs = (await l.exec('a', ['ip', '-o', 'addr', 'show', 'dev', 'eth2'], { check: true })).stdout;
      for (const a of v.targets) assert.match(addrs, new RegExp(` ${a.replaceAll('.', '\\.')}/`), `${a} on eth2`);
      for (const a of v.backups) assert.match(addrs, new RegExp(` ${a.replaceAll('.', '\\.')}/`), `eth2 keeps ${a}`);
      const b = await c.status('b');
      assert.equal(b.helping.length, 0, 'b is not involved');
      await delay(1000);
      await l.heal('a:eth0');
      await failedBack(c);
      await delay(300);
      await stopAndCheck(t, load, 'local backup');
    });
  });

  test(name('three servers: a fails, exactly one of b and d helps'), async (t) => {
    await withCluster(t, lab('trio'), v.topologies.trio, async (l, c) => {
      const load = await startLoad(l, v);
      await delay(800);
      await l.fail('a:eth0', 'carrier');
      await tookOver(c);
      await delay(500);
      const helpers: string[] = [];
      for (const n of ['b', 'd']) {
        const p = await proxiesOf(l, n);
        if (p !== '') {
          assert.ok(holdsAll(p, v.targets), `${n} answers for all of ${v.targets.join(', ')}:\n${p}`);
          helpers.push(n);
        }
      }
      assert.equal(helpers.length, 1, `exactly one helper, got ${helpers.join(',')}`);
      await stopAndCheck(t, load, 'trio');
    });
  });
}
