// Parts 2 and 4 of the suite: request/response latency direct vs through the helper (hanet takeover: a's port cut,
// b relays), on raw veth and on a path with an emulated round trip (delay node `dl`, src/lab/delay.ts), plus the
// daemons' footprint (RSS, CPU) idle and during the takeover. One lab per path; the P stream only (steady
// request/response on persistent connections), with phases alternating direct / takeover in the same run.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { labUp, type LabHandle } from '../../src/lab/lab.js';
import { defaultTopology } from '../../src/lab/topology.js';
import { startCluster, type Cluster } from '../../src/lab/cluster.js';
import { startDelay, type DelayStats } from '../../src/lab/delay.js';
import { startWorkload } from '../../src/lab/workload/index.js';
import { cpuPct, daemonPid, hrNow, onClientAxis, pct, procSample, r2, r3, readRequestLog, sleep, type ProcSample } from './common.js';

export interface PhaseStats { samples: number; failed: number; p50_ms: number; p99_ms: number; mean_ms: number }
export interface LatencyResult {
  path: 'veth' | 'rtt10';
  /** one-way delay of the delay node (0 on raw veth) */
  delay_one_way_ms: number;
  cycles: number;
  phase_ms: number;
  direct: PhaseStats;
  helper: PhaseStats;
  p50_ratio: number;
  p99_ratio: number;
  p50_overhead_pct: number;
  p50_added_ms: number;
  per_cycle: Array<{ direct_p50_ms: number; helper_p50_ms: number; ratio: number }>;
  delay_node?: DelayStats | undefined;
  workload: { requests: number; failed: number; broken_connections: number; inflight_lost: number };
}

export interface Footprint {
  node: string;
  idle: { rss_mib: number; cpu_pct: number; window_s: number };
  takeover: { rss_mib: number; cpu_pct: number; window_s: number };
  hwm_mib: number;
}

export interface LatencyOptions { cycles: number; phaseMs: number; idleMs: number; log?: (s: string) => void }

const stats = (xs: number[], failed: number): PhaseStats => ({
  samples: xs.length, failed, p50_ms: r3(pct(xs, 50)), p99_ms: r3(pct(xs, 99)), mean_ms: r3(xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)),
});

const servedByA = (s: Awaited<ReturnType<Cluster['status']>>) => s.claims.length === 0 && s.publics.every((p) => p.placement.kind === 'own');

export async function runLatency(path: 'veth' | 'rtt10', labName: string, o: LatencyOptions, withFootprint: boolean): Promise<{ latency: LatencyResult; footprint?: Footprint[] }> {
  const delayMs = path === 'rtt10' ? 5 : 0;
  const lab: LabHandle = await labUp(defaultTopology(path === 'rtt10' ? 'pair-delay' : 'pair'), { name: labName, replace: true });
  try {
    const dir = join('/run/hanet-lab', labName, 'bench');
    mkdirSync(dir, { recursive: true });
    const dl = path === 'rtt10' ? await startDelay(lab, 'dl', { delayMs }) : undefined;
    let delayStats: DelayStats | undefined;
    const cluster = await startCluster(lab);
    try {
      const pids = { a: await daemonPid(lab, 'a'), b: await daemonPid(lab, 'b') };
      let idle: Record<string, [ProcSample, ProcSample]> | undefined;
      if (withFootprint && pids.a && pids.b) {
        await sleep(500);
        const s0 = { a: procSample(pids.a), b: procSample(pids.b) };
        await sleep(o.idleMs);
        idle = { a: [s0.a, procSample(pids.a)], b: [s0.b, procSample(pids.b)] };
      }
      const logPath = join(dir, `latency-${path}.jsonl`);
      const wl = await startWorkload(lab, { server: 'a', address: '10.0.0.11', persistent: { connections: 4, intervalMs: 10 }, requestTimeoutMs: 3000, requestLog: logPath });
      const windows: Array<{ phase: 'direct' | 'helper'; cycle: number; from: bigint; to: bigint }> = [];
      const take: Record<string, [ProcSample, ProcSample][]> = { a: [], b: [] };
      let report;
      try {
        await sleep(500);
        for (let c = 0; c < o.cycles; c++) {
          let from = hrNow();
          await sleep(o.phaseMs);
          windows.push({ phase: 'direct', cycle: c, from, to: hrNow() });
          await lab.fail('a:eth0', 'carrier');
          await cluster.waitFor('a', (s) => s.claims.some((x) => x.acked), { timeoutMs: 10_000, what: 'takeover' });
          await sleep(500); // let TCP recover from the cut before measuring the steady relayed path
          from = hrNow();
          const f0 = withFootprint && pids.a && pids.b ? { a: procSample(pids.a), b: procSample(pids.b) } : undefined;
          await sleep(o.phaseMs);
          windows.push({ phase: 'helper', cycle: c, from, to: hrNow() });
          if (f0 && pids.a && pids.b) { take.a!.push([f0.a, procSample(pids.a)]); take.b!.push([f0.b, procSample(pids.b)]); }
          await lab.heal('a:eth0');
          await cluster.waitFor('a', servedByA, { timeoutMs: 15_000, what: 'failback' });
          await sleep(500);
        }
      } finally {
        report = await wl.stop();
      }
      const origin = report.origin_hrtime_ns!;
      const log = (await readRequestLog(logPath)).filter((r) => r.kind === 'P');
      const inWin = (w: (typeof windows)[number]) => {
        const a = onClientAxis(origin, w.from), b = onClientAxis(origin, w.to);
        const rs = log.filter((r) => r.sent_ms >= a && r.sent_ms < b);
        return { lat: rs.filter((r) => r.outcome === 'ok').map((r) => r.done_ms - r.sent_ms), failed: rs.filter((r) => r.outcome !== 'ok').length };
      };
      const pool = (phase: 'direct' | 'helper') => {
        const ws = windows.filter((w) => w.phase === phase).map(inWin);
        return stats(ws.flatMap((w) => w.lat), ws.reduce((a, w) => a + w.failed, 0));
      };
      const direct = pool('direct');
      const helper = pool('helper');
      const perCycle = Array.from({ length: o.cycles }, (_, c) => {
        const d = inWin(windows.find((w) => w.phase === 'direct' && w.cycle === c)!).lat;
        const h = inWin(windows.find((w) => w.phase === 'helper' && w.cycle === c)!).lat;
        return { direct_p50_ms: r3(pct(d, 50)), helper_p50_ms: r3(pct(h, 50)), ratio: r3(pct(h, 50) / pct(d, 50)) };
      });
      if (dl) delayStats = await dl.stop();
      const latency: LatencyResult = {
        path, delay_one_way_ms: delayMs, cycles: o.cycles, phase_ms: o.phaseMs, direct, helper,
        p50_ratio: r3(helper.p50_ms / direct.p50_ms), p99_ratio: r3(helper.p99_ms / direct.p99_ms),
        p50_overhead_pct: r2((helper.p50_ms / direct.p50_ms - 1) * 100), p50_added_ms: r3(helper.p50_ms - direct.p50_ms),
        per_cycle: perCycle, delay_node: delayStats,
        workload: { requests: report.requests, failed: report.failed, broken_connections: report.broken_connections, inflight_lost: report.inflight_lost },
      };
      o.log?.(`  latency ${path}: direct p50 ${direct.p50_ms} p99 ${direct.p99_ms} ms, helper p50 ${helper.p50_ms} p99 ${helper.p99_ms} ms, p50 ratio ${latency.p50_ratio}`);
      let footprint: Footprint[] | undefined;
      if (idle && take.a!.length) {
        footprint = (['a', 'b'] as const).map((n) => {
          const [i0, i1] = idle![n]!;
          const tk = take[n]!;
          const ticks = tk.reduce((acc, [x, y]) => acc + (y.cpuTicks - x.cpuTicks), 0);
          const secs = tk.reduce((acc, [x, y]) => acc + Number(y.at - x.at) / 1e9, 0);
          const last = tk.at(-1)![1];
          return {
            node: n,
            idle: { rss_mib: r2(i1.rssKiB / 1024), cpu_pct: r2(cpuPct(i0, i1)), window_s: r2(Number(i1.at - i0.at) / 1e9) },
            takeover: { rss_mib: r2(last.rssKiB / 1024), cpu_pct: r2((ticks / 100 / secs) * 100), window_s: r2(secs) },
            hwm_mib: r2(last.hwmKiB / 1024),
          };
        });
      }
      return { latency, ...(footprint ? { footprint } : {}) };
    } finally {
      await cluster.stop();
      if (dl) await dl.stop();
    }
  } finally {
    await lab.down();
  }
}
