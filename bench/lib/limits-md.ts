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
  return L;
}
