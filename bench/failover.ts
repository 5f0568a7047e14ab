// Benchmark (not a test): the largest gap clients see when a's public port fails, for carrier and silent
// failures, over several runs with hanet's default settings, on IPv4 (lab pair, 10.0.0.11) and on IPv6 (the
// IPv6-only lab pair6, 2001:db8::11) in the same run; prints per-run numbers, median and max per family, and the
// IPv6/IPv4 ratio of the median gaps (issue #12: within 20%).
// Usage: npm run bench:failover [-- --runs N --modes carrier,silent --families 4,6 --json]   (root: builds labs of network namespaces)
import { setTimeout as delay } from 'node:timers/promises';
import { labUp } from '../src/lab/lab.js';
import { defaultTopology } from '../src/lab/topology.js';
import { startCluster } from '../src/lab/cluster.js';
import { startWorkload } from '../src/lab/workload/index.js';

type Mode = 'carrier' | 'silent' | 'admin';

type Fam = '4' | '6';
const FAMILY_LAB: Record<Fam, { topology: string; address: string }> = { 4: { topology: 'pair', address: '10.0.0.11' }, 6: { topology: 'pair6', address: '2001:db8::11' } };

interface Run { family: Fam; mode: Mode; max_gap_ms: number; worst_request_from_cut_ms: number; worst_latency_ms: number; takeover_seen_ms: number; failed: number; broken_connections: number; inflight_lost: number; stream_verified: boolean; requests: number }

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 5) || 5;
const json = args.includes('--json');
const modes: Mode[] = args.includes('--modes') ? (args[args.indexOf('--modes') + 1]!.split(',') as Mode[]) : ['carrier', 'silent'];
const families: Fam[] = args.includes('--families') ? (args[args.indexOf('--families') + 1]!.split(',') as Fam[]) : ['4', '6'];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function runFamily(family: Fam, results: Run[]): Promise<void> {
  const { topology, address } = FAMILY_LAB[family];
  const lab = await labUp(defaultTopology(topology), { name: `bfo${family}`, replace: true });
  try {
    const cluster = await startCluster(lab);
    try {
      for (const mode of modes) {
        for (let i = 0; i < runs; i++) {
          const wl = await startWorkload(lab, { server: 'a', address });
          await delay(700);
          const t = performance.now();
          const cutWall = Date.now();
          await lab.fail('a:eth0', mode);
          await cluster.waitFor('a', (s) => s.claims.some((c) => c.acked), { what: 'takeover' });
          const seen = performance.now() - t;
          await delay(700);
          await lab.heal('a:eth0');
          await cluster.waitFor('a', (s) => s.claims.length === 0 && s.publics.every((p) => p.placement.kind === 'own'), { timeoutMs: 15_000, what: 'failback' });
          await delay(300);
          const r = await wl.stop();
          // Where the slowest P request was sent, relative to the cut: tells a takeover gap from a failback one.
          const tl = r.timeline;
          const worst = tl.p_max_latency_ms.reduce((best, v, i) => (v > best.v ? { v, i } : best), { v: 0, i: 0 });
          const fromCut = Date.parse(r.started_at) + worst.i * tl.bucket_ms - cutWall;
          const run: Run = { family, mode, max_gap_ms: r.max_gap_ms, worst_request_from_cut_ms: fromCut, worst_latency_ms: worst.v, takeover_seen_ms: Math.round(seen), failed: r.failed, broken_connections: r.broken_connections, inflight_lost: r.inflight_lost, stream_verified: r.stream_verified, requests: r.requests };
          results.push(run);
          if (!json) process.stderr.write(`IPv${family} ${mode} run ${i + 1}/${runs}: max gap ${r.max_gap_ms.toFixed(1)} ms (slowest request ${worst.v.toFixed(0)} ms, sent ${fromCut} ms after the cut), failed ${r.failed}, broken ${r.broken_connections}, lost ${r.inflight_lost}, stream ${r.stream_verified ? 'ok' : 'BAD'}\n`);
        }
      }
    } finally {
      await cluster.stop();
    }
  } finally {
    await lab.down();
  }
}

async function main(): Promise<void> {
  const results: Run[] = [];
  for (const f of families) await runFamily(f, results);
  const summary = Object.fromEntries(families.map((f) => [`ipv${f}`, Object.fromEntries(modes.map((m) => {
    const rs = results.filter((r) => r.family === f && r.mode === m);
    const gaps = rs.map((r) => r.max_gap_ms);
    const lost = rs.reduce((a, r) => a + r.failed + r.broken_connections + r.inflight_lost + (r.stream_verified ? 0 : 1), 0);
    return [m, { runs: gaps.length, median_gap_ms: +median(gaps).toFixed(1), max_gap_ms: +Math.max(...gaps).toFixed(1), min_gap_ms: +Math.min(...gaps).toFixed(1), losses: lost }];
  }))]));
  // IPv6 against IPv4 in this run: the ratio of the median gaps per mode (issue #12 asks for within 20%).
  const ratio = families.includes('4') && families.includes('6')
    ? Object.fromEntries(modes.map((m) => {
      const [g4, g6] = [summary.ipv4![m]!.median_gap_ms, summary.ipv6![m]!.median_gap_ms];
      return [m, { ratio: +(g6 / g4).toFixed(2), within_20pct: g6 <= g4 * 1.2 }];
    }))
    : undefined;
  if (json) { process.stdout.write(JSON.stringify({ summary, ...(ratio ? { ipv6_vs_ipv4: ratio } : {}), runs: results }) + '\n'); return; }
  process.stdout.write('\nhanet failover, default settings, pair / pair6 labs (largest gap between replies on long-lived connections, 10 ms request interval)\n');
  process.stdout.write('family  mode      runs  median gap  max gap  min gap  losses\n');
  for (const [fam, byMode] of Object.entries(summary)) {
    for (const [m, s] of Object.entries(byMode)) {
      process.stdout.write(`${fam.padEnd(7)} ${m.padEnd(9)} ${String(s.runs).padStart(4)}  ${s.median_gap_ms.toFixed(1).padStart(8)} ms ${s.max_gap_ms.toFixed(1).padStart(6)} ms ${s.min_gap_ms.toFixed(1).padStart(6)} ms  ${s.losses}\n`);
    }
  }
  for (const [m, x] of Object.entries(ratio ?? {})) process.stdout.write(`IPv6/IPv4 median gap, ${m}: x${x.ratio} (${x.within_20pct ? 'within' : 'NOT within'} 20%)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
