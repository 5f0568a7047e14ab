// Benchmark (not a test; issue 15, docs/l3.md): hanet's L3 takeover (the helper announces a host route when hanet
// detects the failure) against the alternative of a pre-announced, less-preferred backup path (AS-path prepend) that
// becomes best when the owner's own announcement is withdrawn (BFD on its session), on the same `l3` lab, same
// P/N/S/B workload against a (10.1.0.10), same carrier and silent failures of a:eth0.
// Usage (root): node dist/bench/l3-prepend.js [--runs N] [--modes carrier,silent] [--bfd-ms MS] [--outage MS] [--json]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { labUp, type LabHandle } from '../src/lab/lab.js';
import { defaultTopology } from '../src/lab/topology.js';
import { startCluster, type Cluster } from '../src/lab/cluster.js';
import { birdConf, birdDir, birdSocket, idleSessions } from '../src/lab/bird.js';
import { run } from '../src/lab/iproute.js';
import { startWorkload } from '../src/lab/workload/index.js';
import { hrNow, median, onClientAxis, r2, readRequestLog, sleep, until } from './lib/common.js';
import { ipMonitor, type IpMonitor } from './lib/ip-monitor.js';

type Variant = 'hanet' | 'prepend';
type Mode = 'carrier' | 'silent';
const MODES: readonly Mode[] = ['carrier', 'silent'];
const args = process.argv.slice(2);
/** --modes carrier,silent (default both): for trying one mode. */
const modes = (args.includes('--modes') ? (args[args.indexOf('--modes') + 1] ?? '').split(',') : [...MODES]) as Mode[];
if (modes.length === 0 || modes.some((m) => !MODES.includes(m))) throw new Error(`--modes: a list of ${MODES.join(', ')}`);
const A = '10.1.0.10';
const LAB = 'kbpre';

interface Run {
  variant: Variant; mode: Mode; run: number;
  max_gap_ms: number; failed: number; broken_connections: number; inflight_lost: number; stream_verified: boolean; requests: number;
  /** the spine's route to a's /32 pointed at rack 2 (t2, 10.255.2.2), ms after the cut */
  spine_switched_ms: number;
  /** a's replies left through b (hanet: its takeover routes; prepend: BIRD withdrew the routes learnt from t1) */
  replies_moved_ms: number | null;
  /** after the heal, until the spine routed a's address through rack 1 again */
  failback_ms: number;
  /** where the largest P gap began, ms after the cut (from the request log): a takeover gap starts near 0, a
   * failback one near the heal */
  gap_from_cut_ms: number | null;
  /** prepend: b's session with t2 went down during the run (a BFD false alarm: b's link never failed) */
  backup_session_flapped: string | null;
  /** how the cut's instant was taken: the switch port's link event, or (fallback) when lab.fail returned */
  cut_from: 'link-event' | 'fail-returned';
}

const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`${name}: a positive number, got "${args[i + 1]}"`);
  return v;
};
const runs = opt('--runs', 5);
const bfdMs = opt('--bfd-ms', 20); // the fastest stable here: at 10 ms b's session dropped by itself (docs/l3.md)
const outageMs = opt('--outage', 1500);
const json = args.includes('--json');
/** --only prepend: skips the hanet series (for trying the prepend set-up alone). */
const variants: readonly Variant[] = args.includes('--only') ? [args[args.indexOf('--only') + 1] as Variant] : ['hanet', 'prepend'];
if (variants.some((v) => v !== 'hanet' && v !== 'prepend')) throw new Error('--only: hanet or prepend');
const say = (s: string): void => { if (!json) process.stderr.write(`${s}\n`); };

/** Fails the benchmark: the lab or BIRD did not behave as the measurement needs. */
class Misbehaved extends Error {}

const birdc = async (node: string, cmd: string[]): Promise<string> => {
  const r = await run('birdc', ['-s', birdSocket(LAB, node), ...cmd]);
  if (r.code !== 0) throw new Misbehaved(`birdc on ${node} ${cmd.join(' ')}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
};

// --- The prepend variant's BIRD configurations -------------------------------------------------------------------
// Both servers announce a's /32 all the time: a plainly, b with one extra AS (65022 twice). One prepend, not more:
// t2 must prefer b's path (2 ASes) over the one through the spine (65000 65001 65011) and so pass it to the spine,
// or the spine would hold no backup path and learn it only after t2 had first lost the spine's route (one more
// hop of convergence). BFD on the server-ToR sessions: a's session drops when BFD misses `multiplier` packets.
const FAST = 'connect delay time 1; connect retry time 1; error wait time 1, 10;';
const bfd = (iface: string): string => `protocol bfd { interface "${iface}" { interval ${bfdMs} ms; multiplier 3; }; }`;

const serverConf: Record<'a' | 'b', () => string> = {
  a: () => [
    `# Prepend variant, node a (bench/l3-prepend.ts): announces its own /32 to t1; the routes learnt from t1 carry its`,
    `# replies (static halves of the default route via b, metric 1000, take them when BIRD withdraws those routes).`,
    'router id 10.1.0.10;', 'protocol device { scan time 10; }', bfd('eth0'),
    `protocol static own4 { ipv4; route ${A}/32 blackhole; }`,
    'protocol kernel { ipv4 { import none; export where source = RTS_BGP; }; }',
    `protocol bgp up4 { local as 65011; neighbor 10.1.0.1 as 65001; ${FAST} bfd on;`,
    '  ipv4 { import where !(net ~ [ 10.1.0.0/24+ ]); export where proto = "own4"; }; }', ''].join('\n'),
  b: () => [
    `# Prepend variant, node b (bench/l3-prepend.ts): announces a's /32 to t2 all the time, one AS prepended; the kernel`,
    `# route to a over the private link is installed beside it (not by BIRD).`,
    'router id 10.2.0.10;', 'protocol device { scan time 10; }', bfd('eth0'),
    `protocol static backup4 { ipv4; route ${A}/32 via 192.168.100.1; }`,
    'filter backup_export { if proto = "backup4" then { bgp_path.prepend(65022); accept; } reject; }',
    `protocol bgp up4 { local as 65022; neighbor 10.2.0.1 as 65002; ${FAST} bfd on;`,
    '  ipv4 { import none; export filter backup_export; }; }', ''].join('\n'),
};

/** A ToR's lab configuration (src/lab/bird.ts) with BFD on its session to its server. */
function torConf(lab: LabHandle, tor: 't1' | 't2', server: string): string {
  const base = birdConf(lab.topology, LAB, tor);
  const at = `neighbor ${server} as `;
  if (!base.includes(at)) throw new Misbehaved(`${tor}'s lab BIRD configuration has no session with ${server}`);
  return `${base.replace(at, `bfd on; ${at}`)}\n${bfd('eth1')}\ntimeformat protocol iso long ms;\n`;
}

async function configure(node: string, text: string): Promise<void> {
  const file = join(birdDir(LAB), `${node}-prepend.conf`);
  writeFileSync(file, text);
  const check = await run('bird', ['-p', '-c', file]);
  if (check.code !== 0) throw new Misbehaved(`${file}: ${check.stderr.trim()}`);
  const out = await birdc(node, ['configure', `"${file}"`]);
  if (!/Reconfigur/.test(out)) throw new Misbehaved(`birdc configure on ${node}: ${out.trim()}`);
}

/** The ToRs' sessions with the servers as `birdc show protocols` has them (state and since when, to the ms). */
const serverSessions = async (): Promise<string> => (await Promise.all(['t1', 't2'].map(async (t) => (await birdc(t, ['show', 'protocols', 'n1'])).split('\n').find((l) => l.startsWith('n1')) ?? ''))).join(' | ');

const spineRoute = async (lab: LabHandle): Promise<string> => (await lab.exec('s', ['ip', 'route', 'show', `${A}/32`], { check: true })).stdout.trim();

/** Every BGP session Established, BFD up on both server sessions, the spine holding both paths to a's /32. */
async function prependSteady(lab: LabHandle): Promise<boolean> {
  for (const n of ['s', 't1', 't2', 'a', 'b']) if ((await idleSessions(LAB, n)).length) return false;
  for (const n of ['t1', 't2']) if (!/\sUp\s/.test(await birdc(n, ['show', 'bfd', 'sessions']))) return false;
  const paths = await birdc('s', ['show', 'route', `${A}/32`]);
  if (!paths.includes('10.255.1.2') || !paths.includes('10.255.2.2')) return false;
  if (!(await spineRoute(lab)).includes('via 10.255.1.2')) return false;
  return (await lab.exec('a', ['ip', 'route', 'show', '10.9.0.0/24'], { check: true })).stdout.includes('proto bird');
}

/** Switches the lab from hanet's L3 set-up to the prepend one (hanet stopped). */
async function setUpPrepend(lab: LabHandle): Promise<void> {
  for (const n of ['a', 'b'] as const) await configure(n, serverConf[n]());
  await configure('t1', torConf(lab, 't1', A));
  await configure('t2', torConf(lab, 't2', '10.2.0.10'));
  // b relays a's traffic over the private link all the time; a's replies fall back to b when BIRD withdraws.
  await lab.exec('b', ['sysctl', '-qw', 'net.ipv4.ip_forward=1'], { check: true });
  await lab.exec('b', ['ip', 'route', 'replace', `${A}/32`, 'via', '192.168.100.1', 'dev', 'eth1'], { check: true });
  // The halves of the default route, not a default: the lab's static default via t1 (which every heal re-adds) must
  // not win over them. Measured with a backup default instead: the heal's default via t1 took a's replies back onto
  // the uplink at once, before its ARP entry was back (flushed by the carrier loss): a ~550 ms gap at every carrier
  // heal that belongs to the lab, not to the design (a server of this design has no static default via its ToR).
  for (const half of ['0.0.0.0/1', '128.0.0.0/1']) await lab.exec('a', ['ip', 'route', 'replace', half, 'via', '192.168.100.2', 'dev', 'eth1', 'metric', '1000'], { check: true });
  if (!(await until(() => prependSteady(lab), 30_000, 100))) throw new Misbehaved('prepend set-up: sessions, BFD or the spine\'s two paths to a not there within 30 s');
}

// --- One run -------------------------------------------------------------------------------------------------------
interface Watch { spine: IpMonitor; a: IpMonitor; sw1: IpMonitor }
const ms = (from: bigint, to: bigint): number => r2(Number(to - from) / 1e6);
const TO_RACK2 = new RegExp(`^${A.replace(/\./g, '\\.')} via 10\\.255\\.2\\.2 `);
// hanet: a's takeover routes via b; prepend: the kernel drops the route to c's network that BIRD had from t1.
const REPLIES_MOVED = /^(?!Deleted).* via 192\.168\.100\.2 dev eth1 proto 78|^Deleted 10\.9\.0\.0\/24 .*proto bird/;

async function oneRun(lab: LabHandle, w: Watch, variant: Variant, mode: Mode, i: number, cluster?: Cluster): Promise<Run> {
  const normal = variant === 'hanet'
    ? async () => (await spineRoute(lab)) === '' && (await cluster!.status('a')).publics.every((p) => p.placement.kind === 'own') && (await cluster!.status('a')).claims.length === 0
    : () => prependSteady(lab);
  if (!(await until(normal, 20_000, 50))) throw new Misbehaved(`${variant} ${mode} run ${i}: the lab did not return to its normal state within 20 s`);
  const logDir = join(birdDir(LAB), '..', 'bench');
  mkdirSync(logDir, { recursive: true });
  const logPath = join(logDir, `${variant}-${mode}-${i}.jsonl`);
  const wl = await startWorkload(lab, { server: 'a', address: A, requestLog: logPath });
  const sessionsBefore = variant === 'prepend' ? await serverSessions() : '';
  let report;
  let flapped: string | null = null;
  let tBefore = 0n, tCut = 0n, tHeal = 0n, tBack = 0n;
  try {
    await sleep(1000); // the workload's baseline before the cut (a timeline, not synchronisation)
    tBefore = hrNow();
    await lab.fail('a:eth0', mode);
    const failReturned = hrNow();
    await sleep(outageMs - ms(tBefore, hrNow()));
    tHeal = hrNow();
    await lab.heal('a:eth0');
    const back = variant === 'hanet'
      ? async () => (await spineRoute(lab)) === '' && (await cluster!.status('a')).claims.length === 0
      : async () => (await spineRoute(lab)).includes('via 10.255.1.2');
    if (!(await until(back, 15_000, 5))) throw new Misbehaved(`${variant} ${mode} run ${i}: the spine did not route a's address through rack 1 again within 15 s of the heal`);
    tBack = hrNow();
    // b's session must not have moved (a's must, once down and once up): a change means BFD dropped b's session.
    if (variant === 'prepend') {
      const t2Before = sessionsBefore.split(' | ')[1], t2After = (await serverSessions()).split(' | ')[1];
      if (t2Before !== t2After) flapped = `${t2Before} -> ${t2After}`;
    }
    await sleep(500);
    // The cut is the switch port's change (down, or out of the bridge): its link event in sw1, else when fail returned.
    tCut = w.sw1.first(/./, tBefore, tHeal)?.at ?? failReturned;
  } finally {
    report = await wl.stop();
  }
  if (process.env.L3_PREPEND_DEBUG) {
    for (const [n, m] of Object.entries(w)) for (const e of m.events.filter((x: { at: bigint }) => x.at >= tBefore)) say(`  [${n}] ${ms(tCut, e.at)} ms: ${e.line}`);
    say(`  heal at ${ms(tCut, tHeal)} ms; a: ${(await lab.exec('a', ['sh', '-c', 'sysctl net.ipv4.conf.all.rp_filter net.ipv4.conf.eth1.rp_filter; ip route'])).stdout}`);
  }
  const flap = w.spine.first(TO_RACK2, tBefore - 1_000_000_000n, tBefore);
  if (flap) throw new Misbehaved(`${variant} ${mode} run ${i}: the spine switched to rack 2 before the cut (${flap.line}): sessions flapping`);
  const sw = w.spine.first(TO_RACK2, tBefore, tHeal);
  if (!sw) throw new Misbehaved(`${variant} ${mode} run ${i}: the spine never routed ${A}/32 through rack 2 during the outage${flapped ? ` (b's session flapped: ${flapped}; try a longer --bfd-ms)` : ''}`);
  const rep = w.a.first(REPLIES_MOVED, tBefore, tHeal);
  const gapAt = await largestGapStart(logPath, onClientAxis(report.origin_hrtime_ns ?? '0', tCut));
  return {
    variant, mode, run: i,
    max_gap_ms: report.max_gap_ms, failed: report.failed, broken_connections: report.broken_connections, inflight_lost: report.inflight_lost,
    stream_verified: report.stream_verified, requests: report.requests,
    spine_switched_ms: ms(tCut, sw.at), replies_moved_ms: rep ? ms(tCut, rep.at) : null, failback_ms: ms(tHeal, tBack),
    backup_session_flapped: flapped,
    gap_from_cut_ms: gapAt === null ? null : r2(gapAt),
    cut_from: w.sw1.first(/./, tBefore, tHeal) ? 'link-event' : 'fail-returned',
  };
}

/** The start of the largest interval between consecutive ok P replies of one slot, relative to `cutMs`. */
async function largestGapStart(logPath: string, cutMs: number): Promise<number | null> {
  const bySlot = new Map<number, number[]>();
  for (const r of await readRequestLog(logPath)) if (r.kind === 'P' && r.outcome === 'ok') bySlot.set(r.slot, [...(bySlot.get(r.slot) ?? []), r.done_ms]);
  let best: { gap: number; at: number } | null = null;
  for (const done of bySlot.values()) {
    done.sort((x, y) => x - y);
    for (let k = 1; k < done.length; k++) if (!best || done[k]! - done[k - 1]! > best.gap) best = { gap: done[k]! - done[k - 1]!, at: done[k - 1]! };
  }
  return best ? best.at - cutMs : null;
}

async function series(lab: LabHandle, w: Watch, variant: Variant, out: Run[], cluster?: Cluster): Promise<void> {
  for (const mode of modes) {
    for (let i = 1; i <= runs; i++) {
      const r = await oneRun(lab, w, variant, mode, i, cluster);
      out.push(r);
      say(`${variant.padEnd(7)} ${mode.padEnd(7)} run ${i}/${runs}: gap ${r.max_gap_ms.toFixed(1)} ms, spine ${r.spine_switched_ms} ms, replies ${r.replies_moved_ms ?? '-'} ms, largest gap from ${r.gap_from_cut_ms ?? '-'} ms after the cut, failed ${r.failed}, broken ${r.broken_connections}, lost ${r.inflight_lost}${r.stream_verified ? '' : ', stream NOT verified'}${r.backup_session_flapped ? `, b's session FLAPPED (${r.backup_session_flapped})` : ''}`);
    }
  }
}

interface Row { variant: Variant; mode: Mode; runs: number; flaps: number; gap_median_ms: number; gap_min_ms: number; gap_max_ms: number; lost: number; spine_median_ms: number; replies_median_ms: number | null }
function summarize(all: readonly Run[]): Row[] {
  return variants.flatMap((variant) => modes.map((mode) => {
    const rs = all.filter((r) => r.variant === variant && r.mode === mode);
    const gaps = rs.map((r) => r.max_gap_ms);
    const replies = rs.map((r) => r.replies_moved_ms).filter((x): x is number => x !== null);
    return {
      variant, mode, runs: rs.length, flaps: rs.filter((r) => r.backup_session_flapped).length, gap_median_ms: r2(median(gaps)), gap_min_ms: Math.min(...gaps), gap_max_ms: Math.max(...gaps),
      lost: rs.reduce((s, r) => s + r.failed + r.broken_connections + r.inflight_lost, 0),
      spine_median_ms: r2(median(rs.map((r) => r.spine_switched_ms))), replies_median_ms: replies.length ? r2(median(replies)) : null,
    };
  }));
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Misbehaved('needs root (it builds a lab of network namespaces)');
  const lab = await labUp(defaultTopology('l3'), { name: LAB, replace: true });
  const all: Run[] = [];
  let w: Watch | undefined;
  try {
    w = { spine: await ipMonitor(lab, 's', ['route']), a: await ipMonitor(lab, 'a', ['route']), sw1: await ipMonitor(lab, 'sw1', ['link']) };
    // hanet first, with the lab's own BIRD configurations (the helper's host route, announced on detection).
    if (variants.includes('hanet')) {
      const cluster = await startCluster(lab);
      try { await series(lab, w, 'hanet', all, cluster); } finally { await cluster.stop(); }
    }
    if (variants.includes('prepend')) {
      await setUpPrepend(lab);
      await series(lab, w, 'prepend', all);
    }
  } finally {
    for (const m of Object.values(w ?? {})) m.stop();
    await lab.down();
  }
  const rows = summarize(all);
  if (json) { process.stdout.write(`${JSON.stringify({ runs_per_mode: runs, bfd_interval_ms: bfdMs, outage_ms: outageMs, summary: rows, runs: all })}\n`); return; }
  console.log(`\n| variant | failure | runs | largest gap median | min - max | lost | spine switched (median) | replies moved (median) | b's session flapped |`);
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.variant} | ${r.mode} | ${r.runs} | ${r.gap_median_ms} ms | ${r.gap_min_ms} - ${r.gap_max_ms} ms | ${r.lost} | ${r.spine_median_ms} ms | ${r.replies_median_ms ?? '-'} ms | ${r.flaps} |`);
}

main().catch((err: unknown) => {
  process.stderr.write(`l3-prepend: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
