// Failovers measured at 1 ms resolution (issue #13): in the `pair` lab (or another with a and b), a's public port is
// cut by netlink from the switch's namespace (timed on CLOCK_MONOTONIC), a 1 ms probe stream runs c <-> a both ways
// (native/gap1ms.c), and the daemons' events are placed on the same clock to break the gap down: detection (cut ->
// a's verdict), handshake (verdict -> the helper's acknowledgement: the helper's kernel holds route and proxy entry),
// the helper's kernel change, and the first packet through the helper. Used by the benchmark suite and its own CLI.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { LabHandle } from '../../src/lab/lab.js';
import type { Cluster } from '../../src/lab/cluster.js';
import { analyseGap, startGap1ms } from './gap1ms.js';
import { median, r2, sleep } from './common.js';

export type CutMode = 'carrier' | 'silent';

/** One failover: the service's largest round-trip gap and its breakdown (ms from the cut; undefined: not seen). */
export interface GapRun {
  gapMs: number;
  detectMs?: number;
  /** a's verdict -> a's takeover-acked (the helper acks only once its kernel holds the route and the proxy entry). */
  handshakeMs?: number;
  /** The helper's reconcile that installed the claim (its own measure). */
  helperKernelMs?: number;
  /** The first packet after the gap (the helper carries the traffic from here). */
  firstPacketMs?: number;
  failbackGapMs: number;
}

export interface GapSummary { runs: GapRun[]; medianMs: number; maxMs: number; detectMedianMs?: number; handshakeMedianMs?: number }

const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const served = (s: Awaited<ReturnType<Cluster['status']>>): boolean => s.claims.length === 0 && s.publics.every((p) => p.placement.kind === 'own' && p.health.healthy);

/**
 * A daemon's events on CLOCK_MONOTONIC. Their `at` is the daemon's performance.now(); most carry `time` (wall
 * clock, ms): the median of time - at over them maps the daemon's clock to wall time (±0.5 ms), and this
 * process's wall - monotonic offset maps it on. Without `time`, a status read bracketed in time maps it (±RTT).
 */
export async function eventsOf(c: Cluster, node: string, fromMs: number, toMs: number): Promise<Array<{ type: string; atMs: number; detail: Record<string, unknown> }>> {
  const q0 = monoMs();
  const s = await c.status(node);
  const q1 = monoMs();
  const wallMinusMono = Date.now() - monoMs();
  const viaTime = s.events.filter((e) => typeof e.time === 'string').map((e) => Date.parse(e.time as string) + 0.5 - e.at);
  const offset = viaTime.length ? median(viaTime) - wallMinusMono : (q0 + q1) / 2 - s.nowMs;
  return s.events
    .map((e) => {
      const { type, at, time: _time, ...rest } = e;
      return { type, atMs: at + offset, detail: rest };
    })
    .filter((e) => e.atMs >= fromMs && e.atMs <= toMs);
}

/** A process in the switch's namespace that cuts a switch port by netlink on request and says when (monotonic ms). */
export function cutterIn(lab: LabHandle, port = 'a-eth0'): { cut(mode: CutMode): Promise<Record<string, number>>; stop(): void } {
  const child = spawn('ip', ['netns', 'exec', lab.ns('sw'), process.execPath, fileURLToPath(new URL('./monitor-child.js', import.meta.url)), 'cutter'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  return {
    cut: (mode) => new Promise((resolve) => {
      lines.once('line', (l) => resolve(JSON.parse(l) as Record<string, number>));
      child.stdin!.write(`${JSON.stringify({ mode, port })}\n`);
    }),
    stop: () => child.stdin!.end(),
  };
}

/** `runs` failovers of each mode on a running cluster (a owner, b helper, c client); a is healed after each. */
export async function gapFailovers(lab: LabHandle, cluster: Cluster, o: { runs: number; modes: readonly CutMode[]; address?: string; log?: (s: string) => void }): Promise<Record<CutMode, GapSummary>> {
  const out = {} as Record<CutMode, GapSummary>;
  const cutter = cutterIn(lab);
  try {
    for (const mode of o.modes) {
      const runs: GapRun[] = [];
      for (let run = 1; run <= o.runs; run++) {
        await cluster.waitFor('a', served, { timeoutMs: 15_000, what: 'a serving' });
        const stream = await startGap1ms(lab, { client: 'c', server: 'a', address: o.address ?? '10.0.0.11' });
        await sleep(500); // the streams' baseline before the cut (a timeline, not synchronisation)
        const c = await cutter.cut(mode);
        if (typeof c.t0 !== 'number') throw new Error(`cut failed: ${JSON.stringify(c)}`);
        const t0 = c.t0;
        await cluster.waitFor('a', (s) => s.claims.some((x) => x.acked), { timeoutMs: 10_000, what: 'takeover' });
        await sleep(500);
        const h0 = monoMs();
        await lab.heal('a:eth0');
        await cluster.waitFor('a', served, { timeoutMs: 15_000, what: 'failback' });
        await sleep(500);
        const end = monoMs();
        const data = await stream.stop();
        const cut = analyseGap(data, { fromMs: t0 - 400, toMs: h0, originMs: t0 });
        const heal = analyseGap(data, { fromMs: h0, toMs: end, originMs: h0 });
        const ea = await eventsOf(cluster, 'a', t0 - 50, h0);
        const eb = await eventsOf(cluster, 'b', t0 - 50, h0);
        const at = (evs: typeof ea, type: string) => evs.find((e) => e.type === type)?.atMs;
        const detect = at(ea, 'iface-failed');
        const acked = at(ea, 'takeover-acked');
        const helperKernel = eb.find((e) => e.type === 'kernel-changed' && JSON.stringify(e.detail).includes('neigh add proxy'));
        const r: GapRun = {
          gapMs: cut.roundTrip.gapMs, failbackGapMs: heal.roundTrip.gapMs,
          ...(detect !== undefined ? { detectMs: r2(detect - t0) } : {}),
          ...(detect !== undefined && acked !== undefined ? { handshakeMs: r2(acked - detect) } : {}),
          ...(helperKernel && typeof helperKernel.detail.ms === 'number' ? { helperKernelMs: helperKernel.detail.ms } : {}),
          ...(cut.roundTrip.firstAfter ? { firstPacketMs: r2(cut.roundTrip.toMs) } : {}),
        };
        runs.push(r);
        o.log?.(`${mode} run ${run}: gap ${r.gapMs} ms (detection ${r.detectMs ?? '?'} ms, handshake ${r.handshakeMs ?? '?'} ms, helper kernel ${r.helperKernelMs ?? '?'} ms, first packet at ${r.firstPacketMs ?? '?'} ms), failback ${r.failbackGapMs} ms`);
      }
      const num = (xs: Array<number | undefined>) => xs.filter((x): x is number => x !== undefined);
      const det = num(runs.map((r) => r.detectMs));
      const hs = num(runs.map((r) => r.handshakeMs));
      out[mode] = {
        runs, medianMs: r2(median(runs.map((r) => r.gapMs))), maxMs: r2(Math.max(...runs.map((r) => r.gapMs))),
        ...(det.length ? { detectMedianMs: r2(median(det)) } : {}), ...(hs.length ? { handshakeMedianMs: r2(median(hs)) } : {}),
      };
    }
  } finally {
    cutter.stop();
  }
  return out;
}
