// Part 1 of the suite: failover under the P/N/S/B workload, per setup (no HA, keepalived at two advert intervals,
// hanet) and failure mode (carrier, silent). Every run has the same schedule: workload up, `preMs`, cut a's public
// port, hold the failure `outageMs`, heal, wait until the setup serves from a again, `postMs`, stop. The numbers
// are the workload report's (src/lab/workload/report.ts) over the whole run, so they include the failback too.
// hanet-ipv6 is hanet on the IPv6-only lab (pair6, clients against 2001:db8::11): the IPv6 row, compared with the
// IPv4 one of the same run by ipv6VsIpv4().
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ChildProcess } from 'node:child_process';
import { labUp, hanetArgv, type LabHandle } from '../../src/lab/lab.js';
import { defaultTopology } from '../../src/lab/topology.js';
import { startCluster, type Cluster } from '../../src/lab/cluster.js';
import { startWorkload, type WorkloadReport } from '../../src/lab/workload/index.js';
import { hrNow, median, onClientAxis, readRequestLog, r2, sleep, until } from './common.js';
import { startKeepalived, VIP, type Keepalived } from './keepalived.js';

export type Setup = 'none' | 'keepalived-0.01' | 'keepalived-1' | 'hanet' | 'hanet-ipv6';
export const SETUPS: readonly Setup[] = ['none', 'keepalived-0.01', 'keepalived-1', 'hanet', 'hanet-ipv6'];
const isHanet = (s: Setup): boolean => s === 'hanet' || s === 'hanet-ipv6';
/** The lab and a's address the clients target, per setup. */
const LAB_OF = (s: Setup): { topology: string; target: string } => (s === 'hanet-ipv6' ? { topology: 'pair6', target: '2001:db8::11' } : { topology: 'pair', target: '10.0.0.11' });

/** How far IPv6's largest gaps are from IPv4's in one run: per mode, the medians over runs and their ratio. */
export interface FamilyComparison { ipv4_median_gap_ms: number; ipv6_median_gap_ms: number; ratio: number; within_20pct: boolean }
export function ipv6VsIpv4(runs: readonly FailoverRun[], modes: readonly Mode[]): Partial<Record<Mode, FamilyComparison>> {
  const out: Partial<Record<Mode, FamilyComparison>> = {};
  for (const m of modes) {
    const g4 = runs.filter((r) => r.setup === 'hanet' && r.mode === m).map((r) => r.max_gap_ms);
    const g6 = runs.filter((r) => r.setup === 'hanet-ipv6' && r.mode === m).map((r) => r.max_gap_ms);
    if (!g4.length || !g6.length) continue;
    const [a, b] = [median(g4), median(g6)];
    out[m] = { ipv4_median_gap_ms: r2(a), ipv6_median_gap_ms: r2(b), ratio: r2(b / a), within_20pct: b <= a * 1.2 };
  }
  return out;
}
export type Mode = 'carrier' | 'silent';

export interface Series { bucket_ms: number; from_ms: number; p_max_latency_ms: Array<number | null>; failed: number[] }

export interface FailoverRun {
  setup: Setup; mode: Mode; run: number; target: string;
  requests: number; failed: number; broken_connections: number; inflight_lost: number; stream_verified: boolean;
  max_gap_ms: number;
  /** cut -> completion of the first successful N request started after the cut; null if none in the run */
  new_connections_ms: number | null;
  /** heal time relative to the cut (ms) */
  heal_at_ms: number;
  /** new connections succeeded again before the heal (i.e. the setup failed over for new connections) */
  recovered_before_heal: boolean;
  /** when the setup's own view changed (hanet: takeover acknowledged; keepalived: VIP on b), ms after the cut */
  switched_ms: number | null;
  /** after the heal, until the setup served from a again (ms); null if it did not within the wait */
  failback_ms: number | null;
  failures: Record<string, number>;
  latency_ms: { p50: number; p99: number };
  client_loop_delay_max_ms: number;
  /** P latency (max per bucket, by send time, relative to the cut) and failed requests per bucket: the chart */
  series: Series;
  notes: string[];
}

export interface FailoverOptions {
  /** keepalived: how long to wait for the VIP to be reachable on a again after the heal (default 60 s) */
  kaFailbackWaitMs?: number;
  runs: number; modes: Mode[]; preMs: number; outageMs: number; postMs: number; requestTimeoutMs: number; log?: (s: string) => void }

interface Driver {
  target: string;
  /** ms after the cut when the setup switched (resolves in the background) */
  watchSwitch(t0: bigint): Promise<number | null>;
  /** waits until a serves again after the heal; ms or null */
  waitFailback(): Promise<number | null>;
  /** ready for the next run */
  ready(): Promise<void>;
  /** notes about what ready() had to do (reported with the next run) */
  takeNotes?(): string[];
  stop(): Promise<void>;
}

/** bench/out of the source tree (this file runs as dist/bench/lib/failover.js). */
const KEEP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench', 'out');
/** How long the keepalived failback (VIP on a and reachable from c) is waited for after the heal. */
const KA_FAILBACK_WAIT_MS = 60_000;
const since = (t0: bigint): number => r2(Number(hrNow() - t0) / 1e6);

async function makeDriver(setup: Setup, lab: LabHandle, kaWaitMs = KA_FAILBACK_WAIT_MS): Promise<Driver> {
  if (setup === 'none') {
    return { target: LAB_OF(setup).target, watchSwitch: async () => null, waitFailback: async () => null, ready: async () => {}, stop: async () => {} };
  }
  if (isHanet(setup)) {
    const cluster: Cluster = await startCluster(lab);
    const served = (s: Awaited<ReturnType<Cluster['status']>>) => s.claims.length === 0 && s.publics.every((p) => p.placement.kind === 'own');
    return {
      target: LAB_OF(setup).target,
      async watchSwitch(t0) {
        try { await cluster.waitFor('a', (s) => s.claims.some((c) => c.acked), { timeoutMs: 10_000, what: 'takeover' }); return since(t0); } catch { return null; }
      },
      async waitFailback() {
        const t0 = hrNow();
        try { await cluster.waitFor('a', served, { timeoutMs: 15_000, what: 'failback' }); return since(t0); } catch { return null; }
      },
      async ready() { await cluster.waitFor('a', served, { timeoutMs: 15_000, what: 'a serving' }); },
      stop: () => cluster.stop(),
    };
  }
  // keepalived: the workload service runs on both servers; the client targets the VIP.
  const advertSec = setup === 'keepalived-0.01' ? 0.01 : 1;
  const ka: Keepalived = await startKeepalived(lab, { advertSec });
  const svcB: ChildProcess = lab.spawn('b', [...hanetArgv(), 'lab', 'serve', '--port', '7100', '--stop-on-eof'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const listening = await new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), 15_000);
    svcB.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('READY')) { clearTimeout(t); resolve(true); } });
    svcB.once('exit', () => { clearTimeout(t); resolve(false); });
  });
  if (!listening) { await ka.stop(); throw new Error('workload service on b did not start'); }
  // The VIP answers the client (a TCP connect from c to the service on the VIP succeeds).
  const vipReachable = () => lab.probe('c', VIP, { port: 7100, timeoutMs: 300 });
  const resetNotes: string[] = [];
  return {
    target: VIP,
    // keepalived logs its transitions at once (-l -D): b entering MASTER is when it takes the VIP and sends GARPs.
    watchSwitch: async (t0) => ((await ka.waitLog('b', /Entering MASTER STATE/, 15_000)) ? since(t0) : null),
    // Failback is over when a holds the VIP again AND the client reaches it: after a silent failure both servers
    // were MASTER; when b steps down, the router may keep b's MAC for the VIP (a, MASTER throughout, need not
    // announce itself again), a black hole until the router's ARP entry expires. Measured as part of the failback.
    async waitFailback() {
      const t0 = hrNow();
      const v = await until(async () => ((await ka.holder()) === 'a' && (await vipReachable()) ? true : undefined), kaWaitMs, 25);
      return v ? since(t0) : null;
    },
    async ready() {
      const ok = await until(async () => ((await ka.holder()) === 'a' && (await vipReachable()) ? true : undefined), kaWaitMs, 50);
      if (!ok) {
        // Still unreachable: reset the router's entry so the next run starts clean (reported in the run's notes).
        await lab.exec('r', ['ip', 'neigh', 'flush', 'to', VIP], { timeoutMs: 5000 });
        resetNotes.push(`the router's ARP entry for the VIP still pointed at b ${kaWaitMs / 1000} s after the run; flushed before the next run`);
        if (!(await until(async () => ((await ka.holder()) === 'a' && (await vipReachable()) ? true : undefined), 15_000, 50))) throw new Error(`keepalived: VIP not reachable on a (holder ${await ka.holder()})`);
      }
    },
    takeNotes: () => resetNotes.splice(0),
    async stop() {
      svcB.stdin!.end();
      svcB.kill('SIGTERM');
      await ka.stop();
    },
  };
}

/** Buckets of P latency and failures around the cut, for the chart. */
function seriesOf(log: Awaited<ReturnType<typeof readRequestLog>>, cutMs: number, fromMs: number, toMs: number, bucketMs = 20): Series {
  const n = Math.ceil((toMs - fromMs) / bucketMs);
  const lat: Array<number | null> = Array(n).fill(null);
  const failed = Array<number>(n).fill(0);
  for (const r of log) {
    if (r.kind !== 'P') continue;
    const i = Math.floor((r.sent_ms - cutMs - fromMs) / bucketMs);
    if (i < 0 || i >= n) continue;
    if (r.outcome === 'ok') lat[i] = Math.max(lat[i] ?? 0, r2(r.done_ms - r.sent_ms));
    else failed[i]!++;
  }
  return { bucket_ms: bucketMs, from_ms: fromMs, p_max_latency_ms: lat, failed };
}

async function oneRun(lab: LabHandle, d: Driver, setup: Setup, mode: Mode, run: number, o: FailoverOptions, dir: string): Promise<FailoverRun> {
  await d.ready();
  const notes: string[] = d.takeNotes?.() ?? [];
  const logPath = join(dir, `${setup}-${mode}-${run}.jsonl`);
  const wl = await startWorkload(lab, { server: 'a', address: d.target, requestTimeoutMs: o.requestTimeoutMs, requestLog: logPath });
  let report: WorkloadReport;
  let tCut = 0n, tHeal = 0n;
  let switched: number | null = null, failback: number | null = null;
  try {
    await sleep(o.preMs);
    await lab.fail('a:eth0', mode);
    tCut = hrNow();
    const sw = d.watchSwitch(tCut);
    await sleep(o.outageMs - Number(hrNow() - tCut) / 1e6);
    tHeal = hrNow();
    await lab.heal('a:eth0');
    switched = await sw;
    failback = await d.waitFailback();
    if (failback === null && setup !== 'none') notes.push(`did not serve from a again within ${isHanet(setup) ? 15 : (o.kaFailbackWaitMs ?? KA_FAILBACK_WAIT_MS) / 1000} s after the heal`);
    await sleep(o.postMs);
  } finally {
    report = await wl.stop();
  }
  const origin = report.origin_hrtime_ns!;
  const cutMs = onClientAxis(origin, tCut);
  const log = await readRequestLog(logPath);
  // A hanet run that lost anything: keep its request log (the lab's directory goes with the lab) to place the loss.
  if (isHanet(setup) && report.failed + report.broken_connections + report.inflight_lost > 0) {
    mkdirSync(KEEP_DIR, { recursive: true });
    copyFileSync(logPath, join(KEEP_DIR, `requests-${setup}-${mode}-${run}.jsonl`));
    notes.push(`request log kept in bench/out/requests-${setup}-${mode}-${run}.jsonl (cut at ${r2(cutMs)} ms on its time axis)`);
  }
  const nOkAfter = log.filter((r) => r.kind === 'N' && r.outcome === 'ok' && r.sent_ms >= cutMs).map((r) => r.done_ms);
  const newConn = nOkAfter.length ? r2(Math.min(...nOkAfter) - cutMs) : null;
  const healAt = r2(Number(tHeal - tCut) / 1e6);
  const failures: Record<string, number> = {};
  for (const [k, v] of Object.entries(report.failures)) failures[k] = v ?? 0;
  return {
    setup, mode, run, target: d.target,
    requests: report.requests, failed: report.failed, broken_connections: report.broken_connections, inflight_lost: report.inflight_lost,
    stream_verified: report.stream_verified, max_gap_ms: report.max_gap_ms,
    new_connections_ms: newConn, heal_at_ms: healAt, recovered_before_heal: newConn !== null && newConn < healAt,
    switched_ms: switched, failback_ms: failback, failures,
    latency_ms: { p50: report.latency_ms.p50, p99: report.latency_ms.p99 },
    client_loop_delay_max_ms: report.client.loop_delay_max_ms,
    series: seriesOf(log, cutMs, -1000, o.outageMs + 4000),
    notes,
  };
}

/** Runs every mode `runs` times for one setup on a fresh lab. */
export async function runSetup(setup: Setup, labName: string, o: FailoverOptions): Promise<FailoverRun[]> {
  const lab = await labUp(defaultTopology(LAB_OF(setup).topology), { name: labName, replace: true });
  const out: FailoverRun[] = [];
  try {
    const dir = join('/run/hanet-lab', labName, 'bench');
    mkdirSync(dir, { recursive: true });
    const d = await makeDriver(setup, lab, o.kaFailbackWaitMs);
    try {
      for (const mode of o.modes) {
        for (let i = 1; i <= o.runs; i++) {
          const r = await oneRun(lab, d, setup, mode, i, o, dir);
          out.push(r);
          o.log?.(`  ${setup.padEnd(15)} ${mode.padEnd(7)} run ${i}/${o.runs}: gap ${r.max_gap_ms.toFixed(0)} ms, new conn ${r.new_connections_ms?.toFixed(0) ?? '-'} ms, failed ${r.failed}, broken ${r.broken_connections}, lost ${r.inflight_lost}${r.stream_verified ? '' : ', stream NOT verified'}`);
        }
      }
    } finally {
      await d.stop();
    }
  } finally {
    await lab.down();
  }
  return out;
}
