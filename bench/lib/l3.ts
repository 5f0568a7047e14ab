// Part `l3` of the suite (issue 15, docs/l3.md): on the routed fabric lab `l3` (c - spine s - ToRs t1, t2 with BIRD -
// a in rack 1, b in rack 2), the P/N/S/B workload against a's address while a's uplink fails, for three setups: no HA,
// an anycast/BGP move of the address to b (what MetalLB or kube-vip in BGP mode do), and hanet in L3 mode.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { hanetArgv, labUp, type LabHandle } from '../../src/lab/lab.js';
import { defaultTopology } from '../../src/lab/topology.js';
import { ipBatch } from '../../src/lab/iproute.js';
import { idleSessions } from '../../src/lab/bird.js';
import { startCluster, type Cluster } from '../../src/lab/cluster.js';
import { DEFAULTS, startWorkload, type WorkloadReport } from '../../src/lab/workload/index.js';
import type { Mode } from './failover.js';
import { hrNow, median, onClientAxis, readRequestLog, r2, sleep, until } from './common.js';

export type L3Setup = 'none' | 'bgp-move' | 'hanet';
/** Run order: hanet first, its measured detection times are the BGP move's trigger delays (fair detection). */
export const L3_SETUPS: readonly L3Setup[] = ['hanet', 'bgp-move', 'none'];
export const L3_LABS = ['kb3h', 'kb3m', 'kb3n'];
/** a's address on its rack subnet: the service address every setup's client targets. */
export const L3_A = '10.1.0.10';
const PORT = DEFAULTS.port;
/** The spine's next hop towards rack 2 (t2's uplink address). */
const VIA_RACK2 = 'via 10.255.2.2';
/** Detection delays when no hanet run of the mode measured one: hanet's defaults (carrier read every 10 ms; two
 * unanswered ARP probes 10 ms apart). */
export const DEFAULT_DETECTION_MS: Record<Mode, number> = { carrier: 10, silent: 20 };

export interface L3Run {
  setup: L3Setup; mode: Mode; run: number;
  requests: number; failed: number; broken_connections: number; inflight_lost: number; stream_verified: boolean;
  max_gap_ms: number;
  /** where the largest gap between replies of one P slot began, ms after the cut (from the request log): during the
   * failure (before heal_at_ms) or after the heal */
  max_gap_at_ms: number | null;
  /** cut -> completion of the first successful N request started after the cut command returned; null if none.
   * Times "after the cut" here are from the start of the cut command (section 1 counts from its end). */
  new_connections_ms: number | null;
  heal_at_ms: number;
  recovered_before_heal: boolean;
  /** hanet: a's iface-failed event after the cut (measured); bgp-move: the delay its move waited (given); none: null */
  detection_ms: number | null;
  /** hanet: takeover acknowledged; bgp-move: the address and its host route on b; ms after the cut */
  switched_ms: number | null;
  /** when the spine's /32 to a's address through rack 2 appeared (`ip monitor route` on s), ms after the cut */
  fabric_ms: number | null;
  /** after the heal, until a served again (ms); null if not within the wait */
  failback_ms: number | null;
  failures: Record<string, number>;
  latency_ms: { p50: number; p99: number };
  notes: string[];
}

export interface L3Options {
  runs: number; modes: Mode[]; preMs: number; outageMs: number; postMs: number; requestTimeoutMs: number;
  log?: (s: string) => void;
}

export interface Agg { median: number | null; max: number | null }
export interface L3Summary {
  runs: number; max_gap_ms: Agg; new_connections_ms: Agg & { never: number; before_heal: number }; failed: Agg; broken_connections: Agg; inflight_lost: Agg;
  requests: Agg; max_gap_at_ms: Agg; detection_ms: Agg; switched_ms: Agg; fabric_ms: Agg; failback_ms: Agg;
}
export interface L3Result {
  date: string;
  schedule: { pre_ms: number; outage_ms: number; post_ms: number; request_timeout_ms: number };
  /** the BGP move's trigger delay per mode and where it came from */
  move_detection: Partial<Record<Mode, { ms: number; from: 'hanet-median' | 'hanet-default' }>>;
  summary: Partial<Record<L3Setup, Partial<Record<Mode, L3Summary>>>>;
  runs: L3Run[];
}

const since = (t0: bigint): number => r2(Number(hrNow() - t0) / 1e6);

// ---------------------------------------------------------------------------------------------------------------
// The BGP move, also used by the lab test (test/lab/l3-bgp-move.test.ts)

/** Moves a's address to b as MetalLB-style BGP speakers do: the address on b's lo, and a kernel host route with
 * protocol 78, which b's BIRD learns and announces (the lab's server BIRD exports exactly those, src/lab/bird.ts). */
export async function moveToB(lab: LabHandle, address = L3_A): Promise<void> {
  const r = await ipBatch(lab.ns('b'), [`addr add ${address}/32 dev lo`, `route add ${address}/32 dev lo proto 78`]);
  if (r.code !== 0) throw new Error(`bgp move to b: ${r.stderr.trim()}`);
}
/** b withdraws the host route (BIRD withdraws the /32) and drops the address. Tolerates a partial move. */
export async function moveBack(lab: LabHandle, address = L3_A): Promise<void> {
  await ipBatch(lab.ns('b'), [`route del ${address}/32 dev lo proto 78`, `addr del ${address}/32 dev lo`], { force: true });
}

/** The workload's service on `node` (listening on every address), as the workload runs it on a. */
export async function serveOn(lab: LabHandle, node: string): Promise<ChildProcess> {
  const svc = lab.spawn(node, [...hanetArgv(), 'lab', 'serve', '--port', String(PORT), '--stop-on-eof'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const ok = await new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), 15_000);
    svc.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('READY')) { clearTimeout(t); resolve(true); } });
    svc.once('exit', () => { clearTimeout(t); resolve(false); });
  });
  if (!ok) { svc.kill('SIGKILL'); throw new Error(`workload service on ${node} did not start`); }
  return svc;
}
export function stopService(svc: ChildProcess): void {
  svc.stdin!.end();
  svc.kill('SIGTERM');
}

/** The spine's route to a's address now: the /32 through rack 2 while b (helper or new home) announces it. */
export async function spineHostRoute(lab: LabHandle, address = L3_A): Promise<string> {
  return (await lab.exec('s', ['ip', 'route', 'show', `${address}/32`], { timeoutMs: 5000 })).stdout.trim();
}

/** Timestamps of the spine's route changes for a's /32 (`ip monitor route` on s: no polling). */
function watchSpine(lab: LabHandle): { addedAfter(t0: bigint): number | null; stop(): void } {
  const adds: bigint[] = [];
  const mon = lab.spawn('s', ['ip', '-4', 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
  createInterface({ input: mon.stdout! }).on('line', (l) => {
    if (l.startsWith(`${L3_A} `) && l.includes(VIA_RACK2)) adds.push(hrNow());
  });
  return {
    addedAfter: (t0) => { const t = adds.find((x) => x >= t0); return t === undefined ? null : r2(Number(t - t0) / 1e6); },
    stop: () => void mon.kill('SIGTERM'),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Drivers

interface Driver {
  /** after the cut (monotonic t0, wall clock cutWall): when the setup switched, and its detection time */
  onCut(mode: Mode, t0: bigint, cutWall: number): Promise<{ switched: number | null; detection: number | null }>;
  onHeal(): Promise<void>;
  waitFailback(): Promise<number | null>;
  ready(): Promise<void>;
  stop(): Promise<void>;
}

const reachable = (lab: LabHandle) => lab.probe('c', L3_A, { port: PORT, timeoutMs: 300 });

async function makeDriver(setup: L3Setup, lab: LabHandle, detection: Record<Mode, number>): Promise<Driver> {
  if (setup === 'none') {
    return {
      onCut: async () => ({ switched: null, detection: null }),
      onHeal: async () => {},
      async waitFailback() { const t0 = hrNow(); return (await until(() => reachable(lab), 30_000, 25)) ? since(t0) : null; },
      async ready() { if (!(await until(() => reachable(lab), 30_000, 50))) throw new Error('l3 none: a not reachable'); },
      stop: async () => {},
    };
  }
  if (setup === 'hanet') {
    const cluster: Cluster = await startCluster(lab);
    const served = (s: Awaited<ReturnType<Cluster['status']>>) => s.claims.length === 0 && s.publics.every((p) => p.placement.kind === 'own');
    return {
      async onCut(_mode, t0, cutWall) {
        try {
          const s = await cluster.waitFor('a', (x) => x.claims.some((c) => c.acked), { timeoutMs: 10_000, what: 'takeover' });
          const switched = since(t0);
          // a's own record of when it saw the failure (wall clock, ms; the same clock as cutWall)
          const ev = s.events.filter((e) => e.type === 'iface-failed' && typeof e.time === 'string').map((e) => Date.parse(String(e.time))).filter((t) => t >= cutWall - 50).at(-1);
          return { switched, detection: ev === undefined ? null : ev - cutWall };
        } catch { return { switched: null, detection: null }; }
      },
      onHeal: async () => {},
      async waitFailback() {
        const t0 = hrNow();
        try { await cluster.waitFor('a', served, { timeoutMs: 15_000, what: 'failback' }); return since(t0); } catch { return null; }
      },
      async ready() { await cluster.waitFor('a', served, { timeoutMs: 15_000, what: 'a serving' }); },
      stop: () => cluster.stop(),
    };
  }
  // bgp-move: the service also runs on b, so once the address lives there new connections succeed (with new sockets).
  const svcB = await serveOn(lab, 'b');
  return {
    async onCut(mode, t0) {
      await sleep(detection[mode] - Number(hrNow() - t0) / 1e6);
      await moveToB(lab);
      return { switched: since(t0), detection: detection[mode] };
    },
    // Moved back at once on the heal (a generous failback: a real speaker waits for the node to be ready again).
    onHeal: () => moveBack(lab),
    async waitFailback() {
      const t0 = hrNow();
      return (await until(async () => (await spineHostRoute(lab)) === '' && (await reachable(lab)), 30_000, 25)) ? since(t0) : null;
    },
    async ready() {
      // b's session carries the move: it must be up (a's may still be reconnecting after a cut; it announces nothing).
      const ok = await until(async () => (await idleSessions(lab.name, 'b')).length === 0 && (await spineHostRoute(lab)) === '' && (await reachable(lab)), 30_000, 50);
      if (!ok) throw new Error('l3 bgp-move: not back to a before the run');
    },
    async stop() { stopService(svcB); await moveBack(lab); },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

async function oneRun(lab: LabHandle, d: Driver, setup: L3Setup, mode: Mode, run: number, o: L3Options, dir: string): Promise<L3Run> {
  await d.ready();
  const notes: string[] = [];
  const logPath = join(dir, `${setup}-${mode}-${run}.jsonl`);
  const spine = watchSpine(lab);
  const wl = await startWorkload(lab, { server: 'a', address: L3_A, requestTimeoutMs: o.requestTimeoutMs, requestLog: logPath });
  let report: WorkloadReport;
  let tCut = 0n, tFailed = 0n, tHeal = 0n;
  let sw: { switched: number | null; detection: number | null } = { switched: null, detection: null };
  let failback: number | null = null;
  try {
    await sleep(o.preMs);
    // Times are from the START of the cut command: the carrier goes down while it runs (hanet saw it up to 12 ms
    // before the command returned, measured), and the BGP move's timer runs from the same instant as hanet's.
    tCut = hrNow();
    const cut = d.onCut(mode, tCut, Date.now());
    await lab.fail('a:eth0', mode);
    tFailed = hrNow();
    await sleep(o.outageMs - Number(hrNow() - tCut) / 1e6);
    tHeal = hrNow();
    await lab.heal('a:eth0');
    sw = await cut;
    await d.onHeal();
    failback = await d.waitFailback();
    if (failback === null && setup !== 'none') notes.push('did not serve from a again within the wait after the heal');
    await sleep(o.postMs);
  } finally {
    report = await wl.stop();
    spine.stop();
  }
  const cutMs = onClientAxis(report.origin_hrtime_ns!, tCut);
  const log = await readRequestLog(logPath);
  // Only requests started once the cut command returned (the failure surely in place) count as new connections.
  const failedMs = onClientAxis(report.origin_hrtime_ns!, tFailed);
  const nOkAfter = log.filter((r) => r.kind === 'N' && r.outcome === 'ok' && r.sent_ms >= failedMs).map((r) => r.done_ms);
  const newConn = nOkAfter.length ? r2(Math.min(...nOkAfter) - cutMs) : null;
  const healAt = r2(Number(tHeal - tCut) / 1e6);
  let gapAt: { len: number; at: number } | undefined;
  for (const slot of new Set(log.filter((r) => r.kind === 'P').map((r) => r.slot))) {
    const done = log.filter((r) => r.kind === 'P' && r.slot === slot && r.outcome === 'ok').map((r) => r.done_ms).sort((a, b) => a - b);
    for (let i = 1; i < done.length; i++) if (!gapAt || done[i]! - done[i - 1]! > gapAt.len) gapAt = { len: done[i]! - done[i - 1]!, at: done[i - 1]! };
  }
  const failures: Record<string, number> = {};
  for (const [k, v] of Object.entries(report.failures)) failures[k] = v ?? 0;
  return {
    setup, mode, run,
    requests: report.requests, failed: report.failed, broken_connections: report.broken_connections, inflight_lost: report.inflight_lost,
    stream_verified: report.stream_verified, max_gap_ms: report.max_gap_ms, max_gap_at_ms: gapAt ? r2(gapAt.at - cutMs) : null,
    new_connections_ms: newConn, heal_at_ms: healAt, recovered_before_heal: newConn !== null && newConn < healAt,
    detection_ms: sw.detection, switched_ms: sw.switched, fabric_ms: spine.addedAfter(tCut), failback_ms: failback, failures,
    latency_ms: { p50: report.latency_ms.p50, p99: report.latency_ms.p99 },
    notes,
  };
}

async function runSetup(setup: L3Setup, labName: string, o: L3Options, detection: Record<Mode, number>): Promise<L3Run[]> {
  const lab = await labUp(defaultTopology('l3'), { name: labName, replace: true });
  const out: L3Run[] = [];
  try {
    const dir = join('/run/hanet-lab', labName, 'bench');
    mkdirSync(dir, { recursive: true });
    const d = await makeDriver(setup, lab, detection);
    try {
      for (const mode of o.modes) {
        for (let i = 1; i <= o.runs; i++) {
          const r = await oneRun(lab, d, setup, mode, i, o, dir);
          out.push(r);
          o.log?.(`  l3 ${setup.padEnd(9)} ${mode.padEnd(7)} run ${i}/${o.runs}: gap ${r.max_gap_ms.toFixed(0)} ms at ${r.max_gap_at_ms?.toFixed(0) ?? '-'} ms, new conn ${r.new_connections_ms?.toFixed(0) ?? '-'} ms, `
            + `detection ${r.detection_ms ?? '-'} ms, fabric ${r.fabric_ms ?? '-'} ms, failed ${r.failed}, broken ${r.broken_connections}, lost ${r.inflight_lost}`);
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

const agg = (xs: Array<number | null>): Agg => {
  const v = xs.filter((x): x is number => x !== null);
  return { median: v.length ? r2(median(v)) : null, max: v.length ? r2(Math.max(...v)) : null };
};
function summarize(rs: L3Run[]): L3Summary {
  const nc = rs.map((r) => r.new_connections_ms);
  const a = (k: 'max_gap_ms' | 'max_gap_at_ms' | 'failed' | 'broken_connections' | 'inflight_lost' | 'requests' | 'detection_ms' | 'switched_ms' | 'fabric_ms' | 'failback_ms') => agg(rs.map((r) => r[k]));
  return {
    runs: rs.length, max_gap_ms: a('max_gap_ms'), new_connections_ms: { ...agg(nc), never: nc.filter((x) => x === null).length, before_heal: rs.filter((r) => r.recovered_before_heal).length },
    failed: a('failed'), broken_connections: a('broken_connections'), inflight_lost: a('inflight_lost'), requests: a('requests'), max_gap_at_ms: a('max_gap_at_ms'),
    detection_ms: a('detection_ms'), switched_ms: a('switched_ms'), fabric_ms: a('fabric_ms'), failback_ms: a('failback_ms'),
  };
}

/** The whole part: every setup on a fresh `l3` lab, hanet first (its detection medians time the BGP move). */
export async function runL3(o: L3Options, setups: readonly L3Setup[] = L3_SETUPS): Promise<L3Result> {
  const runs: L3Run[] = [];
  const move: L3Result['move_detection'] = {};
  for (const [i, setup] of L3_SETUPS.entries()) {
    if (!setups.includes(setup)) continue;
    const detection = { ...DEFAULT_DETECTION_MS };
    if (setup === 'bgp-move') {
      for (const m of o.modes) {
        const measured = runs.filter((r) => r.setup === 'hanet' && r.mode === m).map((r) => r.detection_ms).filter((x): x is number => x !== null);
        if (measured.length) detection[m] = Math.max(0, r2(median(measured)));
        move[m] = { ms: detection[m], from: measured.length ? 'hanet-median' : 'hanet-default' };
      }
      o.log?.(`  l3 bgp-move: the move starts ${o.modes.map((m) => `${detection[m]} ms (${m})`).join(', ')} after the cut`);
    }
    runs.push(...(await runSetup(setup, L3_LABS[i]!, o, detection)));
  }
  const summary: L3Result['summary'] = {};
  for (const s of L3_SETUPS) {
    const rs = runs.filter((r) => r.setup === s);
    if (rs.length) summary[s] = Object.fromEntries(o.modes.map((m) => [m, summarize(rs.filter((r) => r.mode === m))]));
  }
  return {
    date: new Date().toISOString(),
    schedule: { pre_ms: o.preMs, outage_ms: o.outageMs, post_ms: o.postMs, request_timeout_ms: o.requestTimeoutMs },
    move_detection: move, summary, runs,
  };
}

/** The --json view: per setup and mode, the medians/maxima. */
export function l3Json(r: L3Result): Record<string, unknown> {
  return Object.fromEntries(Object.entries(r.summary).map(([s, ms]) => [s, Object.fromEntries(Object.entries(ms).map(([m, x]) => [m, {
    runs: x.runs, max_gap_ms: x.max_gap_ms, new_connections_ms: x.new_connections_ms, failed: x.failed, broken_connections: x.broken_connections,
    inflight_lost: x.inflight_lost, max_gap_at_ms: x.max_gap_at_ms, detection_ms: x.detection_ms, fabric_ms: x.fabric_ms,
  }]))]));
}

// ---------------------------------------------------------------------------------------------------------------
// bench/RESULTS.md section

const f = (x: number | null | undefined, d = 0): string => (x === null || x === undefined || !Number.isFinite(x) ? '–' : (Object.is(Number(x.toFixed(d)), -0) ? 0 : x).toFixed(d));
const mm = (a: Agg, d = 0): string => `${f(a.median, d)} / ${f(a.max, d)}`;

export function renderL3(r: L3Result): string[] {
  const s = r.schedule;
  const L: string[] = [];
  L.push('## 1b. L3 fabric: no HA / BGP move / hanet', '');
  L.push(`Lab \`l3\` (docs/l3.md; measured ${r.date.slice(0, 10)}): client c — spine s — ToRs t1, t2 (BIRD 2, eBGP, one AS each) — a in rack 1 `
    + `(10.1.0.10/24), b in rack 2 (10.2.0.10/24); private veth a–b. The same P/N/S/B workload as in section 1 against a's address ${L3_A}; `
    + `each run: cut of a's uplink (a:eth0) after ${s.pre_ms} ms, heal ${s.outage_ms / 1000} s after the cut, wait until a serves again, `
    + `${s.post_ms} ms more. Counts cover the whole run, failback included. Times "after the cut" are from the start of the cut `
    + 'command (section 1 counts from its end): a carrier loss happens while the command runs.', '');
  const md = Object.entries(r.move_detection).map(([m, x]) => `${m} ${f(x.ms, 1)} ms (${x.from === 'hanet-median' ? "hanet's median detection in this run" : "hanet's default detection; hanet not run"})`).join(', ');
  L.push('Setups: **none** — no HA: the fabric keeps routing rack 1\'s /24 to t1, a is unreachable for the whole failure. '
    + '**bgp-move** — what MetalLB or kube-vip in BGP mode do: the address moves to b — b adds it on its lo and a kernel host route '
    + '(protocol 78, which b\'s BIRD exports), the fabric routes the more specific /32 to rack 2, and the workload service also runs on b; '
    + `on the heal b withdraws it at once. Detection is made equal to hanet's: the move starts ${md || '(not run)'} after the cut `
    + '(a real speaker waits for BGP hold timers, BFD or a node-readiness timeout). **hanet** — the daemons in L3 mode: b installs the '
    + 'host route to a over the private link, BIRD announces it, b relays; a keeps its address and sockets.', '');
  for (const m of ['carrier', 'silent'] as const) {
    const rows = L3_SETUPS.filter((st) => r.summary[st]?.[m]);
    if (!rows.length) continue;
    L.push(`### ${m === 'carrier' ? 'Carrier loss of a\'s uplink' : 'Silent failure of a\'s uplink (carrier up, the ToR unreachable)'}`, '');
    L.push('| median / max over runs | runs | largest gap (ms) | it began at (ms) | new connections after (ms) | broken connections | in-flight lost | failed requests | requests | detection (ms) | spine /32 via rack 2 (ms) | failback (ms) |');
    L.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const st of rows) {
      const x = r.summary[st]![m]!;
      L.push(`| **${st}** | ${x.runs} | ${mm(x.max_gap_ms)} | ${mm(x.max_gap_at_ms)} | ${mm(x.new_connections_ms)}${x.new_connections_ms.before_heal < x.runs ? ` (${x.runs - x.new_connections_ms.before_heal} run(s) only after the heal)` : ''} | ${mm(x.broken_connections)} | ${mm(x.inflight_lost)} | ${mm(x.failed)} | ${mm(x.requests)} | ${mm(x.detection_ms, 1)} | ${mm(x.fabric_ms, 1)} | ${mm(x.failback_ms)} |`);
    }
    L.push('');
  }
  L.push('"it began at": where the largest gap between two replies of one P connection slot began, ms after the cut (from the request log; '
    + `the heal is at ${s.outage_ms} ms). "detection": hanet — a\'s \`iface-failed\` event (measured); bgp-move — the delay it was given. `
    + '"spine /32 via rack 2": when the spine\'s kernel got the host route through t2 (`ip monitor route` on s). "new connections after": '
    + 'until the first N request started after the cut command returned (the failure in place) succeeded. "failback": from the heal until '
    + 'a served again (hanet: its 1 s failback hold included; bgp-move: the /32 withdrawn from the spine and c connecting to a; none: c '
    + 'connecting to a).', '');
  L.push('With the same detection, a BGP move reroutes new connections about as fast as hanet (the /32 crosses b\'s BIRD, t2 and the spine in a '
    + 'few ms either way), but b has no socket for the connections made with a: it resets them (broken connections, in-flight requests lost), '
    + 'and moving back on the heal resets the connections made with b meanwhile. hanet moves nothing: a keeps its address and its sockets, '
    + 'b only routes. With no HA the gap is the failure itself, plus what TCP\'s retransmission backoff adds after the heal.', '');
  const notes: string[] = [];
  for (const m of ['carrier', 'silent'] as const) {
    for (const st of L3_SETUPS) {
      const rs = r.runs.filter((x) => x.setup === st && x.mode === m);
      if (!rs.length) continue;
      const why = rs.map((x) => Object.entries(x.failures).map(([k, v]) => `${k} ${v}`).join(', ') || 'nothing failed').join('; ');
      // A gap as long as the request timeout during the failure: a P connection got neither replies nor a reset.
      const stalled = st === 'none' ? [] : rs.filter((x) => x.max_gap_ms >= s.request_timeout_ms && (x.max_gap_at_ms ?? Infinity) < x.heal_at_ms).map((x) => `#${x.run}`);
      notes.push(`${m}, ${st}: failures per run — ${why}.${stalled.length ? ` In run(s) ${stalled.join(', ')} a P connection got neither a reply nor a reset from the cut until the client's ${s.request_timeout_ms} ms request timeout, which failed its pipelined requests.` : ''}${[...new Set(rs.flatMap((x) => x.notes))].map((n) => ` ${n}.`).join('')}`);
    }
  }
  L.push('What happened:', '', ...notes.map((n) => `- ${n}`), '');
  L.push('A connection whose client waits for a reply with nothing left to send (the S stream\'s requests, held 2 s by the service) sends '
    + 'the new home of the address nothing to reset: it fails at the client\'s request timeout. The BGP move\'s 20 timeouts per run fit the '
    + '10 S requests in flight at the move and the 10 at the move back (inferred from the counts, not traced packet by packet).', '');
  return L;
}
