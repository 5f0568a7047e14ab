// The RESULTS.md section of the limits measurements (issue #13): failovers at 1 ms resolution with their breakdown,
// the idle footprint (native link monitor vs the portable loop) and false failures with both cores saturated.
import type { LimitsResult } from '../limits.js';
import type { GapSummary } from './gap1ms-bench.js';

const f = (x: number | undefined, d = 1): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(d));
const med = (xs: Array<number | undefined>): number | undefined => {
  const v = xs.filter((x): x is number => x !== undefined && Number.isFinite(x)).sort((a, b) => a - b);
  return v.length ? v[(v.length - 1) >> 1] : undefined;
};

function gapTable(title: string, g: Record<'carrier' | 'silent', GapSummary>): string[] {
  const L = [title, '', '| failure | largest gap, median / max (ms) | detection | handshake | helper kernel | first packet | failback gap | runs |', '| --- | --- | --- | --- | --- | --- | --- | --- |'];
  for (const m of ['carrier', 'silent'] as const) {
    const s = g[m];
    L.push(`| ${m} | **${f(s.medianMs)}** / ${f(s.maxMs)} | ${f(med(s.runs.map((r) => r.detectMs)))} | ${f(med(s.runs.map((r) => r.handshakeMs)))} | ${f(med(s.runs.map((r) => r.helperKernelMs)))} | ${f(med(s.runs.map((r) => r.firstPacketMs)))} | ${f(med(s.runs.map((r) => r.failbackGapMs)))} | ${s.runs.length} |`);
  }
  return [...L, ''];
}

export function renderLimits(r: LimitsResult): string[] {
  const L: string[] = ['## Detection and takeover at 1 ms resolution, and the idle daemon', ''];
  L.push('Measured by `npm run bench:limits` (also part of `npm run bench`): in the `pair` lab a\'s switch port is cut by netlink '
    + '(carrier: the port set down; silent: taken off the bridge), timed on CLOCK_MONOTONIC; a probe stream every 1 ms each way between '
    + 'the client and a (native/gap1ms.c, real-time senders, kernel receive timestamps) gives the largest round-trip gap; the daemons\' '
    + 'events on the same clock break it down (medians over the runs, ms from the cut): detection = a\'s verdict; handshake = a\'s '
    + 'verdict to the helper\'s acknowledgement, which comes only once the helper\'s kernel holds the route and the proxy entry; helper '
    + 'kernel = the helper\'s reconcile; first packet = the first probe through the helper.', '');
  L.push(...gapTable('Default settings (carrier read and gateway/peer probes every 10 ms, 2 misses):', r.gap_1ms));
  if (r.gap_1ms_fast_probes) L.push(...gapTable(`Probes and carrier reads every ${r.gap_1ms_fast_probes.probeMs} ms:`, r.gap_1ms_fast_probes));
  L.push('Idle footprint per daemon (two daemons, a healthy `pair` cluster; CPU over the measuring window; RSS includes ~45 MiB of the '
    + 'node binary\'s pages, shared by every node process: PSS and private memory are the daemon\'s own):', '');
  L.push('| link watcher | CPU, % of a core | RSS MiB | PSS MiB | private MiB |', '| --- | --- | --- | --- | --- |');
  for (const w of ['native', 'poll'] as const) {
    const x = r.footprint[w];
    L.push(`| ${w === 'native' ? 'native link monitor (default)' : 'portable JavaScript loop (HANET_WATCHER=poll)'} | ${f(x.idle_cpu_pct, 2)} | ${f(x.rss_mib)} | ${f(x.pss_mib)} | ${f(x.private_mib)} |`);
  }
  L.push('');
  if (r.saturation) {
    const s = r.saturation;
    L.push(`With both cores saturated by two busy loops for ${s.minutes} min, the idle cluster saw **${s.falseFailures} false failures** `
      + `(${f(s.perHour, 0)} per hour; port failures, peer-downs and takeover requests counted: ${Object.entries(s.events).map(([k, v]) => `${k} ${v}`).join(', ')}).`, '');
  }
  L.push(...goals(r), ...inTheWay());
  return L;
}

/** The issue's goals against this run (medians; the footprint is the native monitor's, the daemons' mean). */
function goals(r: LimitsResult): string[] {
  const hs = (m: 'carrier' | 'silent'): number | undefined => med(r.gap_1ms[m].runs.map((x) => x.handshakeMs));
  const rows: Array<[string, number | undefined, number, string]> = [
    ['carrier cut → traffic back, median', r.gap_1ms.carrier.medianMs, 10, 'ms'],
    ['silent failure → traffic back, median (default 10 ms probes)', r.gap_1ms.silent.medianMs, 25, 'ms'],
    ...(r.gap_1ms_fast_probes ? [[`silent failure → traffic back, median (${r.gap_1ms_fast_probes.probeMs} ms probes)`, r.gap_1ms_fast_probes.silent.medianMs, 25, 'ms'] as [string, number | undefined, number, string]] : []),
    ['handshake (verdict → helper kernel → ack), median', med([hs('carrier'), hs('silent')]), 2, 'ms'],
    ['idle daemon CPU', r.footprint.native.idle_cpu_pct, 1, '% of a core'],
    ['idle daemon RSS', r.footprint.native.rss_mib, 60, 'MiB'],
    ...(r.saturation ? [['false failures with both cores saturated', r.saturation.falseFailures, 0, '']] as Array<[string, number, number, string]> : []),
  ];
  const L = ['Goals of the issue against this run:', '', '| goal | target | measured | |', '| --- | --- | --- | --- |'];
  for (const [what, v, target, unit] of rows) L.push(`| ${what} | ≤ ${target} ${unit} | ${f(v, unit === "" ? 0 : 1)} ${unit} | ${v !== undefined && v <= target ? 'met' : '**not met**'} |`);
  return [...L, ''];
}

/** What stands in the way of the goals not met (measured 2026-11-29 on this 2-core VM; see the closing note of #13). */
function inTheWay(): string[] {
  return [
    'What stands in the way (profiles of an idle daemon of the `pair` lab, 2026-11-29):',
    '',
    '- **Idle CPU (~2.5–3%)**: per thread over 20 s, the JavaScript thread 1.7%, the native monitor thread 0.55% (a wake-up every '
      + '10 ms: carrier read by pread of sysfs, one ARP probe per target, recvmmsg; ~8 syscalls per slot), V8\'s GC threads 0.35%. '
      + 'The JavaScript thread\'s steady cost is the heartbeats (20 sent and 20 received a second per link at the 50 ms default: HMAC, '
      + 'schema check, the core step, ~40 µs each) and their garbage. prom-client\'s event-loop-lag timer woke it 100 times a second '
      + 'until it was set to 1 s (2419 → 692 loop wake-ups in 10 s). Reaching 1% needs the heartbeats in the native thread too, or '
      + 'longer heartbeat intervals (slower peer-failure detection); the probe rate is what buys the silent-failure detection time.',
    '- **RSS (~67–69 MiB)**: a bare Node.js 20 process with the same V8 flags is 43 MiB (its binary\'s pages, shared by every node '
      + 'process: PSS counts them once); loading zod, pino, prom-client, yaml and commander brings it to 59 MiB (zod alone +11.7 MiB), '
      + 'the daemon\'s own code and state to ~67. `--jitless` would save ~6 MiB at a higher CPU cost per heartbeat. The daemon\'s own '
      + 'memory is its private ~23–25 MiB.',
    '- **Handshake (~3.5 ms)**: two processes exchange an authenticated UDP message each way and the helper applies one netlink batch '
      + '(~0.5 ms, column "helper kernel"); the rest is each event loop\'s wake-up and the message\'s encode, HMAC and decode. The '
      + 'silent-failure goal is met with 5 ms probes (the detection is two missed probes); the default stays 10 ms for the idle cost.',
    '',
  ];
}
