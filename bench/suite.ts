// The benchmark suite (`npm run bench`, root): hanet (on IPv4, and on IPv6 as its own row, compared with IPv4's
// gaps in the same run) vs keepalived vs no HA under the lab workload, the latency
// overhead of the helper path (the HANet paper's ~1% claim) on raw veth and on a 10 ms round trip, throughput
// through the helper, and the daemon's footprint. Writes bench/RESULTS.md, bench/latency-*.svg and bench/out/*.json.
//
//   npm run bench                       full run (5 runs per setup and failure mode), < 20 min
//   npm run bench -- --quick --json     reduced run (1 run per setup and mode, short phases), < 3 min; prints one JSON
//                                       object keyed by setup on stdout (the last line)
//   options: --runs N  --only failover,latency,throughput,limits,scale,l3  --setups none,hanet,...  --modes carrier,silent
//            --no-report (do not rewrite bench/RESULTS.md and the SVGs), --report (also after --quick)
//            --scale-servers N --scale-failing K --scale-fabrics l2,l3 --scale-links GRAPH (the scale part, issue #15)
//            A full run of some parts only keeps the other parts' results of the last full run (bench/out/bench.json).
//            --render (only rewrite RESULTS.md and the SVGs from bench/out/bench.json)
// Ratios measured in the same run are the headline; absolute times vary on a shared machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { labDown, requireRootPrivileges } from '../src/lab/lab.js';
import { median } from './lib/common.js';
import { ipv6VsIpv4, runSetup, SETUPS, type FailoverRun, type Mode, type Setup } from './lib/failover.js';
import { runLatency, type Footprint, type LatencyResult } from './lib/latency.js';
import { runThroughput, type ThroughputResult } from './lib/throughput.js';
import { COLORS, latencyChart } from './lib/svg.js';
import { renderMarkdown, type MdInput } from './lib/markdown.js';
import { runLimits, type LimitsResult } from './limits.js';
import { runScale, SCALE_DEFAULTS, SCALE_QUICK, type ScaleOptions, type ScaleResult } from './lib/scale.js';
import { L3_LABS, l3Json, runL3, type L3Result } from './lib/l3.js';

const args = process.argv.slice(2);
const flag = (f: string) => args.includes(f);
const opt = (f: string): string | undefined => (args.includes(f) ? args[args.indexOf(f) + 1] : undefined);
const quick = flag('--quick');
const json = flag('--json');
const parts = new Set((opt('--only') ?? 'failover,latency,throughput,limits,scale,l3').split(','));
const setups = (opt('--setups')?.split(',') as Setup[] | undefined) ?? [...SETUPS];
const modes = (opt('--modes')?.split(',') as Mode[] | undefined) ?? ['carrier', 'silent'];
const runs = Number(opt('--runs') ?? (quick ? 1 : 5));
const writeReport = flag('--report') || (!flag('--no-report') && !quick);

const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench');
const OUT_DIR = join(BENCH_DIR, 'out');

const log = (s: string): void => void process.stderr.write(s + '\n');

// ---------------------------------------------------------------------------------------------------------------
// Debian packages the suite needs, installed when missing (root; `apt-get update` first only if not found)

function have(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}
function ensurePackages(needed: Array<[cmd: string, pkg: string]>): void {
  const missing = needed.filter(([c]) => !have(c)).map(([, p]) => p);
  if (missing.length === 0) return;
  log(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env }).status === 0;
  if (!install()) {
    spawnSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (!install()) throw new Error(`cannot install ${missing.join(' ')} with apt-get`);
  }
  const still = needed.filter(([c]) => !have(c)).map(([c]) => c);
  if (still.length) throw new Error(`still missing after apt-get install: ${still.join(' ')}`);
}

function machine(): Record<string, string | number> {
  const sh = (c: string, a: string[]) => { try { return execFileSync(c, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim(); } catch { return '?'; } };
  // keepalived prints its version on stderr
  const both = (c: string, a: string[]) => { const r = spawnSync(c, a, { encoding: 'utf8' }); return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim(); };
  return {
    date: new Date().toISOString(),
    nproc: Number(sh('nproc', [])),
    cpu: cpus()[0]?.model ?? '?',
    kernel: sh('uname', ['-r']),
    node: process.version,
    keepalived: have('keepalived') ? both('keepalived', ['--version']).split('\n')[0] ?? '?' : 'not installed',
    iperf3: have('iperf3') ? sh('iperf3', ['--version']).split('\n')[0] ?? '?' : 'not installed',
    mem_gib: Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024 / 1024),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Summaries

export interface Agg { median: number | null; max: number | null }
const agg = (xs: Array<number | null>): Agg => {
  const v = xs.filter((x): x is number => x !== null);
  return { median: v.length ? Math.round(median(v) * 10) / 10 : null, max: v.length ? Math.round(Math.max(...v) * 10) / 10 : null };
};
export interface ModeSummary {
  runs: number;
  requests: Agg; failed: Agg; broken_connections: Agg; inflight_lost: Agg; max_gap_ms: Agg;
  /** median/max over runs that recovered; `never` counts runs where no new connection succeeded after the cut */
  new_connections_ms: Agg & { never: number; before_heal: number };
  switched_ms: Agg; failback_ms: Agg;
  stream_verified_runs: number;
}
function summarize(rs: FailoverRun[]): ModeSummary {
  const nc = rs.map((r) => r.new_connections_ms);
  return {
    runs: rs.length,
    requests: agg(rs.map((r) => r.requests)), failed: agg(rs.map((r) => r.failed)), broken_connections: agg(rs.map((r) => r.broken_connections)),
    inflight_lost: agg(rs.map((r) => r.inflight_lost)), max_gap_ms: agg(rs.map((r) => r.max_gap_ms)),
    new_connections_ms: { ...agg(nc), never: nc.filter((x) => x === null).length, before_heal: rs.filter((r) => r.recovered_before_heal).length },
    switched_ms: agg(rs.map((r) => r.switched_ms)), failback_ms: agg(rs.map((r) => r.failback_ms)),
    stream_verified_runs: rs.filter((r) => r.stream_verified).length,
  };
}

/** The --json line: per setup, totals of the counts and the worst times over all its runs (both modes). */
function quickJson(runsBySetup: Map<Setup, FailoverRun[]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [s, rs] of runsBySetup) {
    const sum = (k: 'requests' | 'failed' | 'broken_connections' | 'inflight_lost') => rs.reduce((a, r) => a + r[k], 0);
    const nc = rs.map((r) => r.new_connections_ms);
    out[s] = {
      requests: sum('requests'), failed: sum('failed'), broken_connections: sum('broken_connections'), inflight_lost: sum('inflight_lost'),
      max_gap_ms: Math.max(...rs.map((r) => r.max_gap_ms)),
      new_connections_ms: nc.some((x) => x === null) ? null : Math.max(...(nc as number[])),
      stream_verified: rs.every((r) => r.stream_verified),
      runs: rs.length,
      by_mode: Object.fromEntries(modes.map((m) => {
        const mr = rs.filter((r) => r.mode === m);
        return [m, mr.map((r) => ({ requests: r.requests, failed: r.failed, broken_connections: r.broken_connections, inflight_lost: r.inflight_lost, max_gap_ms: r.max_gap_ms, new_connections_ms: r.new_connections_ms, switched_ms: r.switched_ms }))];
      })),
    };
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------

type Result = Omit<MdInput, 'charts' | 'modes' | 'setups'>;

/** bench/RESULTS.md and one latency chart per failure mode, from a result (also from a saved bench/out/bench.json). */
function writeReportFiles(result: Result): void {
  const runsAll = result.failover.runs;
  const setupsRun = SETUPS.filter((s) => runsAll.some((r) => r.setup === s));
  const modesRun = (['carrier', 'silent'] as Mode[]).filter((m) => runsAll.some((r) => r.mode === m));
  const charts: string[] = [];
  for (const m of modesRun) {
    const lines = setupsRun.map((s) => {
      const mr = runsAll.filter((r) => r.setup === s && r.mode === m);
      // the run with the median largest gap represents the setup
      const pick = [...mr].sort((a, b) => a.max_gap_ms - b.max_gap_ms)[(mr.length - 1) >> 1];
      return pick && { label: s, color: COLORS[s] ?? '#000', series: pick.series };
    }).filter((x): x is NonNullable<typeof x> => !!x);
    if (!lines.length) continue;
    const file = `latency-${m}.svg`;
    writeFileSync(join(BENCH_DIR, file), latencyChart(lines, {
      title: `Request latency around a ${m} cut of a's public port`,
      subtitle: `P stream (4 connections, a request every 10 ms each); per setup the run with the median largest gap; ${String(result.machine.date).slice(0, 10)}`,
      markers: [{ at_ms: 0, label: 'cut' }, { at_ms: result.failover.schedule.outage_ms, label: 'heal' }],
    }));
    charts.push(file);
  }
  writeFileSync(join(BENCH_DIR, 'RESULTS.md'), renderMarkdown({ ...result, charts, modes: modesRun, setups: setupsRun }));
  log(`wrote ${join(BENCH_DIR, 'RESULTS.md')}`);
}

async function main(): Promise<void> {
  if (flag('--render')) {
    // Re-render the report from the last full run's JSON (no measurement).
    writeReportFiles(JSON.parse(readFileSync(join(OUT_DIR, 'bench.json'), 'utf8')) as Result);
    return;
  }
  requireRootPrivileges('npm run bench');
  const t0 = Date.now();
  ensurePackages([['keepalived', 'keepalived'], ['iperf3', 'iperf3'], ['ip', 'iproute2']]);
  const facts = machine();
  log(`hanet bench (${quick ? 'quick' : 'full'}): ${facts.nproc} CPUs, kernel ${facts.kernel}, node ${facts.node}, ${facts.keepalived}`);
  const labs = ['bscale', 'kbf0', 'kbf1', 'kbf2', 'kbf3', 'kbf4', 'kbf5', 'kbl0', 'kbl1', 'kbt0', 'kbm0', ...L3_LABS];
  const cleanup = async () => { for (const n of labs) await labDown({ name: n }).catch(() => undefined); };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));
  process.once('SIGTERM', () => void cleanup().then(() => process.exit(143)));

  const failover = new Map<Setup, FailoverRun[]>();
  const fo = quick
    ? { runs, modes, preMs: 800, outageMs: 5000, postMs: 800, requestTimeoutMs: 3000, kaFailbackWaitMs: 15_000, log }
    : { runs, modes, preMs: 1500, outageMs: 5000, postMs: 1500, requestTimeoutMs: 3000, log };
  let latency: LatencyResult[] = [];
  let footprint: Footprint[] | undefined;
  let throughput: ThroughputResult | undefined;
  let limits: LimitsResult | undefined;
  let scale: ScaleResult[] | undefined;
  let l3: L3Result | undefined;
  try {
    if (parts.has('failover')) {
      log(`failover: ${setups.join(', ')} x ${modes.join(', ')} x ${runs} run(s); cut at +${fo.preMs} ms, heal ${fo.outageMs} ms later`);
      for (const [i, s] of setups.entries()) failover.set(s, await runSetup(s, `kbf${i}`, fo));
    }
    if (parts.has('latency')) {
      const lo = quick ? { cycles: 2, phaseMs: 2000, idleMs: 1500, log } : { cycles: 6, phaseMs: 4000, idleMs: 5000, log };
      if (opt('--lat-cycles')) lo.cycles = Number(opt('--lat-cycles'));
      if (opt('--lat-phase-ms')) lo.phaseMs = Number(opt('--lat-phase-ms'));
      log(`latency: direct vs through the helper, ${lo.cycles} cycle(s) of ${lo.phaseMs} ms phases`);
      const veth = await runLatency('veth', 'kbl0', lo, true);
      const rtt = await runLatency('rtt10', 'kbl1', lo, false);
      latency = [veth.latency, rtt.latency];
      footprint = veth.footprint;
    }
    if (parts.has('throughput')) {
      const to = quick ? { cycles: 1, seconds: 2, log } : { cycles: 3, seconds: 4, log };
      if (opt("--tp-cycles")) to.cycles = Number(opt("--tp-cycles"));
      log(`throughput: iperf3 ${to.seconds} s per direction and phase, ${to.cycles} cycle(s)`);
      throughput = await runThroughput('kbt0', to);
    }
    if (parts.has('limits')) {
      const lo = quick ? { runs: 2, idleSeconds: 8, saturateMinutes: 0 } : { runs: 5, idleSeconds: 30, saturateMinutes: 5, probeMs: 5 };
      log(`limits: failovers at 1 ms resolution (${lo.runs} per mode), idle footprint, ${lo.saturateMinutes} min with both cores saturated`);
      limits = await runLimits({ ...lo, name: 'kbm0', log });
    }
    if (parts.has('scale')) {
      const base = quick ? SCALE_QUICK : SCALE_DEFAULTS;
      const so = { ...base, servers: Number(opt('--scale-servers') ?? base.servers), failing: Number(opt('--scale-failing') ?? base.failing), links: opt('--scale-links') ?? base.links };
      scale = [];
      // Each fabric with the default heartbeats; L2 also with heartbeats 3x apart (what a heartbeat costs at this scale).
      const fabrics = (opt('--scale-fabrics') ?? 'l2,l3').split(',') as Array<'l2' | 'l3'>;
      const variants: Array<Pick<ScaleOptions, 'fabric' | 'heartbeat'>> = [...fabrics.map((fabric) => ({ fabric })), ...(fabrics.includes('l2') && !quick ? [{ fabric: 'l2' as const, heartbeat: { intervalMs: 150, timeoutMs: 600 } }] : [])];
      for (const v of variants) {
        log(`scale: ${so.servers} servers (${v.fabric}, links ${so.links}${v.heartbeat ? `, heartbeat ${v.heartbeat.intervalMs}/${v.heartbeat.timeoutMs} ms` : ''}), ${so.failing} failing at once (${so.mode})`);
        scale.push(await runScale({ ...so, ...v }, log));
      }
    }
    if (parts.has('l3')) {
      const l3o = quick ? { runs, modes, preMs: 800, outageMs: 2000, postMs: 500, requestTimeoutMs: 3000, log } : fo;
      log(`l3: none, bgp-move, hanet on the l3 fabric x ${modes.join(', ')} x ${runs} run(s); heal ${l3o.outageMs} ms after the cut`);
      l3 = await runL3(l3o);
    }
  } finally {
    await cleanup();
  }
  const elapsed = Math.round((Date.now() - t0) / 1000);

  const summary: Record<string, Record<string, ModeSummary>> = {};
  for (const [s, rs] of failover) summary[s] = Object.fromEntries(modes.map((m) => [m, summarize(rs.filter((r) => r.mode === m))]));
  const result = {
    kind: quick ? 'quick' : 'full', machine: facts, elapsed_s: elapsed,
    failover: {
      schedule: { pre_ms: fo.preMs, outage_ms: fo.outageMs, post_ms: fo.postMs, request_timeout_ms: fo.requestTimeoutMs }, summary, runs: [...failover.values()].flat(),
      ipv6_vs_ipv4: ipv6VsIpv4([...failover.values()].flat(), modes),
    },
    latency, footprint, throughput, limits, scale, l3,
    updates: undefined as Array<{ parts: string[]; date: string; elapsed_s: number }> | undefined,
  };
  const v6vs4 = result.failover.ipv6_vs_ipv4; // this run's, before older results are merged in
  // A full run of some parts keeps the other parts of the last full run, so RESULTS.md stays whole.
  const lastFile = join(OUT_DIR, 'bench.json');
  if (!quick && existsSync(lastFile)) {
    const last = JSON.parse(readFileSync(lastFile, 'utf8')) as typeof result;
    if (!parts.has('failover')) result.failover = last.failover;
    if (!parts.has('latency')) { result.latency = last.latency; result.footprint = last.footprint; }
    if (!parts.has('throughput')) result.throughput = last.throughput;
    if (!parts.has('limits')) result.limits = last.limits;
    if (!parts.has('scale')) result.scale = last.scale;
    if (!parts.has('l3')) result.l3 = last.l3;
    // The report says which parts are from which run: the last full run's date and length, and the parts re-run since.
    if (!['failover', 'latency', 'throughput', 'limits', 'scale', 'l3'].every((p) => parts.has(p))) {
      result.updates = [...(last.updates ?? []).filter((u) => u.parts.join() !== [...parts].join()), { parts: [...parts], date: String(facts.date), elapsed_s: elapsed }];
      result.machine = { ...facts, date: last.machine.date ?? String(facts.date) };
      result.elapsed_s = last.elapsed_s;
    }
  }
  mkdirSync(OUT_DIR, { recursive: true });
  const outFile = join(OUT_DIR, quick ? 'bench-quick.json' : 'bench.json');
  writeFileSync(outFile, JSON.stringify(result, null, 1) + '\n');
  log(`wrote ${outFile} (${elapsed} s)`);

  if (writeReport) writeReportFiles(result);

  if (json) {
    const q = quickJson(failover);
    if (limits) {
      // Issue #13: the 1 ms gaps (median over the runs) under hanet, and the idle daemon's footprint (per daemon).
      q.hanet = { ...(q.hanet as object | undefined), gap_1ms: { carrier: limits.gap_1ms.carrier.medianMs, silent: limits.gap_1ms.silent.medianMs } };
      q.footprint = { idle_cpu_pct: limits.footprint.native.idle_cpu_pct, rss_mib: limits.footprint.native.rss_mib, pss_mib: limits.footprint.native.pss_mib };
    }
    if (scale) q.scale = scale.map((x) => ({ fabric: x.fabric, servers: x.servers, failing: x.failing, median_gap_ms: x.median_gap_ms, max_gap_ms: x.max_gap_ms, failed: x.failed, broken: x.broken, lost: x.lost, idle_cpu_pct: x.idle.cpu_pct, idle_pss_mib: x.idle.pss_mib }));
    process.stdout.write(JSON.stringify({ ...q, ipv6_vs_ipv4: v6vs4, ...(l3 ? { l3: l3Json(l3) } : {}) }) + '\n');
  }
  else {
    for (const [s, ms] of Object.entries(summary))
      for (const [m, x] of Object.entries(ms))
        process.stdout.write(`${s.padEnd(16)} ${m.padEnd(8)} gap ${x.max_gap_ms.median}/${x.max_gap_ms.max} ms  new conn ${x.new_connections_ms.median}/${x.new_connections_ms.max} ms  failed ${x.failed.median}/${x.failed.max}  broken ${x.broken_connections.median}/${x.broken_connections.max}  lost ${x.inflight_lost.median}/${x.inflight_lost.max}  (median/max)\n`);
    for (const [m, c] of Object.entries(v6vs4))
      process.stdout.write(`IPv6 vs IPv4 ${m.padEnd(8)} median gap ${c.ipv6_median_gap_ms} vs ${c.ipv4_median_gap_ms} ms (x${c.ratio}): ${c.within_20pct ? 'within' : 'NOT within'} 20%\n`);
    for (const l of latency) process.stdout.write(`latency ${l.path}: p50 ${l.direct.p50_ms} -> ${l.helper.p50_ms} ms (x${l.p50_ratio}), p99 ${l.direct.p99_ms} -> ${l.helper.p99_ms} ms (x${l.p99_ratio})\n`);
    for (const [s, ms] of Object.entries(l3?.summary ?? {}))
      for (const [m, x] of Object.entries(ms))
        process.stdout.write(`l3 ${s.padEnd(13)} ${m.padEnd(8)} gap ${x.max_gap_ms.median}/${x.max_gap_ms.max} ms  new conn ${x.new_connections_ms.median}/${x.new_connections_ms.max} ms  failed ${x.failed.median}/${x.failed.max}  broken ${x.broken_connections.median}/${x.broken_connections.max}  lost ${x.inflight_lost.median}/${x.inflight_lost.max}  (median/max)\n`);
    if (throughput) process.stdout.write(`throughput through the helper: upload x${throughput.upload_ratio}, download x${throughput.download_ratio}\n`);
  }
  if (!existsSync(outFile)) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
