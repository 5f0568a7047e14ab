// Demonstration of the 1 ms gap tool on hanet failovers with the current daemon, lab `pair`: a's public port is
// cut (by netlink from the switch's namespace, timed), healed after 1.5 s; per direction the largest gap of the
// streams c <-> a (10.0.0.11), and the daemons' events placed on the same clock, as a breakdown of the gap.
// Run as root: scripts/isolated.sh node dist/bench/lib/gap1ms-failover.js [--runs 3] [--mode carrier|silent]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { labUp, type LabHandle } from '../../src/lab/lab.js';
import { defaultTopology } from '../../src/lab/topology.js';
import { startCluster, type Cluster } from '../../src/lab/cluster.js';
import { analyseGap, startGap1ms, type GapReport } from './gap1ms.js';
import { median, r2, sleep } from './common.js';

const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const served = (s: Awaited<ReturnType<Cluster['status']>>): boolean => s.claims.length === 0 && s.publics.every((p) => p.placement.kind === 'own' && p.health.healthy);

/**
 * A daemon's events on CLOCK_MONOTONIC. Their `at` is the daemon's performance.now(); most carry `time` (wall
 * clock, ms): the median of time - at over them maps the daemon's clock to wall time (±0.5 ms), and this
 * process's wall - monotonic offset maps it on. Without `time`, a status read bracketed in time maps it (±RTT).
 */
async function eventsOf(c: Cluster, node: string, fromMs: number, toMs: number): Promise<Array<{ type: string; atMs: number; detail: string }>> {
  const q0 = monoMs();
  const s = await c.status(node);
  const q1 = monoMs();
  const wallMinusMono = Date.now() - monoMs();
  const viaTime = s.events.filter((e) => typeof e.time === 'string').map((e) => Date.parse(e.time as string) + 0.5 - e.at);
  const offset = viaTime.length ? median(viaTime) - wallMinusMono : (q0 + q1) / 2 - s.nowMs;
  return s.events
    .map((e) => {
      const { type, at, time: _time, ...rest } = e;
      return { type, atMs: at + offset, detail: JSON.stringify(rest) };
    })
    .filter((e) => e.atMs >= fromMs && e.atMs <= toMs);
}

function cutterIn(lab: LabHandle): { cut(mode: string): Promise<Record<string, number>>; stop(): void } {
  const child = spawn('ip', ['netns', 'exec', lab.ns('sw'), process.execPath, fileURLToPath(new URL('./monitor-child.js', import.meta.url)), 'cutter'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  return {
    cut: (mode) => new Promise((resolve) => {
      lines.once('line', (l) => resolve(JSON.parse(l) as Record<string, number>));
      child.stdin!.write(`${JSON.stringify({ mode, port: 'a-eth0' })}\n`);
    }),
    stop: () => child.stdin!.end(),
  };
}

const line = (name: string, g: GapReport['forward']): string =>
  `    ${name.padEnd(10)} gap ${g.gapMs.toFixed(3).padStart(8)} ms  from ${g.fromMs.toFixed(1).padStart(7)} to ${g.toMs.toFixed(1).padStart(7)} ms` +
  `  (first after: #${g.firstAfter?.seq ?? '-'} sent at ${g.firstAfter?.sentMs.toFixed(1) ?? '-'} ms), lost ${g.lost}`;

async function main(): Promise<void> {
  const arg = (k: string): string | undefined => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? process.argv[i + 1] : undefined; };
  const runs = Number(arg('runs') ?? 3);
  const modes = arg('mode') ? [arg('mode') as 'carrier' | 'silent'] : (['carrier', 'silent'] as const);
  const lab = await labUp(defaultTopology('pair'), { name: 'gapf', replace: true });
  const summary: Record<string, { cut: number[]; heal: number[] }> = {};
  let cluster: Cluster | undefined;
  const cutter = cutterIn(lab);
  try {
    cluster = await startCluster(lab);
    for (const mode of modes) {
      summary[mode] = { cut: [], heal: [] };
      for (let run = 1; run <= runs; run++) {
        await cluster.waitFor('a', served, { timeoutMs: 15_000, what: 'a serving' });
        const stream = await startGap1ms(lab, { client: 'c', server: 'a', address: '10.0.0.11' });
        await sleep(500);
        const c = await cutter.cut(mode);
        if (typeof c.t0 !== 'number') throw new Error(`cut failed: ${JSON.stringify(c)}`);
        const t0 = c.t0;
        await sleep(1500);
        const h0 = monoMs();
        await lab.heal('a:eth0');
        await cluster.waitFor('a', served, { timeoutMs: 15_000, what: 'failback' });
        await sleep(500);
        const end = monoMs();
        const data = await stream.stop();
        const cut = analyseGap(data, { fromMs: t0 - 400, toMs: h0, originMs: t0 });
        const heal = analyseGap(data, { fromMs: h0, toMs: end, originMs: h0 });
        summary[mode].cut.push(cut.roundTrip.gapMs);
        summary[mode].heal.push(heal.roundTrip.gapMs);
        const evs = [...(await eventsOf(cluster, 'a', t0 - 50, end)).map((e) => ({ ...e, node: 'a' })), ...(await eventsOf(cluster, 'b', t0 - 50, end)).map((e) => ({ ...e, node: 'b' }))]
          .sort((x, y) => x.atMs - y.atMs);
        console.log(`\n${mode} cut, run ${run} (times in ms from the cut; the heal at ${r2(h0 - t0)} ms):`);
        console.log(line('forward', cut.forward));
        console.log(line('reverse', cut.reverse));
        console.log(line('round trip', cut.roundTrip));
        for (const e of evs.filter((x) => x.atMs < h0)) console.log(`    ${r2(e.atMs - t0).toFixed(2).padStart(8)}  ${e.node} ${e.type} ${e.detail.length > 120 ? `${e.detail.slice(0, 117)}...` : e.detail}`);
        console.log(`  failback (times in ms from the heal command's start):`);
        console.log(line('forward', heal.forward));
        console.log(line('reverse', heal.reverse));
        console.log(line('round trip', heal.roundTrip));
        for (const e of evs.filter((x) => x.atMs >= h0)) console.log(`    ${r2(e.atMs - h0).toFixed(2).padStart(8)}  ${e.node} ${e.type}`);
        console.log(`  senders: interval p99 ${cut.senders.client.p99} / ${cut.senders.server.p99} ms, max ${cut.senders.client.max} / ${cut.senders.server.max} ms; SCHED_FIFO ${cut.senders.fifo}`);
      }
    }
  } finally {
    cutter.stop();
    await cluster?.stop();
    await lab.down();
  }
  console.log('\nRound-trip gap (the service\'s view), median over runs:');
  for (const [m, s] of Object.entries(summary)) console.log(`  ${m}: cut ${r2(median(s.cut))} ms [${s.cut.join(', ')}], failback ${r2(median(s.heal))} ms [${s.heal.join(', ')}]`);
}

main().catch((e) => { process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
