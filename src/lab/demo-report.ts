// The HTML report of `hanet demo`: one self-contained file (inline CSS and SVG, no scripts, nothing fetched) with
// the verdict, the numbers, a latency-over-time chart of the workload's timeline with the demo's steps on the same
// time axis, and the timeline of steps and daemon events. Pure: a DemoResult in, a string out (tests feed it
// constructed results; a browser test checks that the chart renders).
import type { CoreLogEvent } from '../core/types.js';
import type { DemoResult, DemoStep } from './demo.js';

export interface DemoReportInput {
  result: DemoResult;
  /** Daemon events by node (from `hanet events`), shown in the timeline. */
  events?: Record<string, CoreLogEvent[]>;
  /** When the report was made (ISO); default now. */
  generatedAt?: string;
}

const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const fmt = (x: number | undefined, d = 1): string => (x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));

/** Steps drawn as vertical markers on the chart, and their colours. */
const MARKED: Record<string, string> = { cut: '#c0392b', takeover: '#2874a6', heal: '#1e8449', failback: '#7d3c98' };

/** Daemon events worth a line in the report's timeline (not the protocol chatter). */
const SHOWN_EVENTS = new Set(['iface-failed', 'iface-recovered', 'local-backup', 'takeover-requested', 'takeover-acked', 'takeover-refused', 'helper-switch',
  'unserved', 'failback', 'release-acked', 'help-start', 'help-release', 'lease-expired', 'help-link-down', 'help-route-removed', 'peer-down', 'peer-up', 'announced', 'kernel-failed']);

export interface ChartGeometry { width: number; height: number; points: number }

/**
 * The chart: x = seconds on the demo's clock, y = the largest latency of the long-lived (P) requests sent in each
 * timeline bucket, on a log scale (the baseline is a fraction of a millisecond, a failover gap hundreds of
 * milliseconds); failed requests as red marks on the x axis; cut/takeover/heal/failback as vertical lines.
 */
export function latencyChart(r: DemoResult, size = { width: 900, height: 320 }): { svg: string; geometry: ChartGeometry } {
  const { width: W, height: H } = size;
  const m = { left: 58, right: 16, top: 16, bottom: 40 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const tl = r.timeline;
  const origin = r.workload_origin_ms ?? r.steps.find((s) => s.step === 'workload started')?.at_ms ?? 0;
  const bucket = tl?.bucket_ms ?? 10;
  const lat = tl?.p_max_latency_ms ?? [];
  const t0 = origin / 1000;
  const t1 = Math.max(t0 + (lat.length * bucket) / 1000, ...r.steps.map((s) => s.at_ms / 1000), t0 + 1);
  const x = (t: number) => m.left + ((t - t0) / (t1 - t0)) * pw;
  const maxLat = Math.max(1, ...lat);
  const lo = 0.01;
  const hi = 10 ** Math.ceil(Math.log10(maxLat * 1.2));
  const y = (v: number) => m.top + ph - ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * ph;

  // The latency path: one point per bucket that had a P reply; buckets without one break the line.
  const segs: string[] = [];
  let points = 0;
  let pen = false;
  lat.forEach((v, i) => {
    if (!(v > 0)) { pen = false; return; }
    const t = t0 + ((i + 0.5) * bucket) / 1000;
    segs.push(`${pen ? 'L' : 'M'}${x(t).toFixed(1)} ${y(v).toFixed(1)}`);
    pen = true;
    points++;
  });

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" id="latency-chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="latency over time">`);
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="#fbfbfb" stroke="#ccc"/>`);
  // y ticks (decades)
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    const yy = y(d).toFixed(1);
    parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${yy}" y2="${yy}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 6}" y="${yy}" dy="4" text-anchor="end" class="tick">${d >= 1 ? d.toFixed(0) : d.toFixed(2)}</text>`);
  }
  // x ticks
  const span = t1 - t0;
  const step = [0.5, 1, 2, 5, 10, 20, 30, 60, 120].find((s) => span / s <= 12) ?? 300;
  for (let t = Math.ceil(t0 / step) * step; t <= t1 + 1e-9; t += step) {
    const xx = x(t).toFixed(1);
    parts.push(`<line x1="${xx}" x2="${xx}" y1="${m.top + ph}" y2="${m.top + ph + 4}" stroke="#888"/>`);
    parts.push(`<text x="${xx}" y="${m.top + ph + 16}" text-anchor="middle" class="tick">${Number(t.toFixed(1))}</text>`);
  }
  parts.push(`<text x="${m.left + pw / 2}" y="${H - 6}" text-anchor="middle" class="axis">time since the demo started (s)</text>`);
  parts.push(`<text transform="translate(14 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle" class="axis">largest request latency (ms, log)</text>`);
  // steps (labels on alternating rows: a takeover follows its cut within a few pixels)
  let k = 0;
  for (const s of r.steps) {
    const c = MARKED[s.step];
    if (!c) continue;
    const xx = x(s.at_ms / 1000).toFixed(1);
    parts.push(`<line class="step" x1="${xx}" x2="${xx}" y1="${m.top}" y2="${m.top + ph}" stroke="${c}" stroke-dasharray="4 3"/>`);
    parts.push(`<text x="${xx}" y="${m.top + 12 + (k++ % 2) * 14}" dx="3" class="steplabel" fill="${c}">${esc(s.step)}</text>`);
  }
  // failed requests
  (tl?.failed ?? []).forEach((n, i) => {
    if (!n) return;
    const xx = x(t0 + ((i + 0.5) * bucket) / 1000).toFixed(1);
    parts.push(`<rect class="failed" x="${xx}" y="${m.top + ph - 8}" width="3" height="8" fill="#e74c3c"><title>${n} failed</title></rect>`);
  });
  parts.push(`<path id="latency-path" d="${segs.join(' ')}" fill="none" stroke="#1f618d" stroke-width="1.3" stroke-linejoin="round"/>`);
  parts.push('</svg>');
  return { svg: parts.join('\n'), geometry: { width: W, height: H, points } };
}

interface Row { atMs: number; source: string; what: string; detail: string }

function timelineRows(r: DemoResult, events: Record<string, CoreLogEvent[]> | undefined): Row[] {
  const rows: Row[] = r.steps.map((s: DemoStep) => ({ atMs: s.at_ms, source: 'demo', what: s.step, detail: s.detail ?? '' }));
  // Daemon events carry wall-clock times; the demo's time 0 on the wall clock is the workload's start minus its
  // origin on the demo clock.
  const start = Date.parse(r.started_at ?? '');
  if (events && Number.isFinite(start) && r.workload_origin_ms !== undefined) {
    const zero = start - r.workload_origin_ms;
    for (const [node, evs] of Object.entries(events)) {
      for (const e of evs) {
        if (!SHOWN_EVENTS.has(e.type) || typeof e.time !== 'string') continue;
        const { type, at, time, ...rest } = e;
        void at; void time;
        const detail = Object.entries(rest).map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
        rows.push({ atMs: Date.parse(e.time) - zero, source: node, what: type, detail });
      }
    }
  }
  return rows.sort((a, b) => a.atMs - b.atMs);
}

export function renderDemoReport(input: DemoReportInput): string {
  const r = input.result;
  const { svg, geometry } = latencyChart(r);
  const verdict = r.ok ? 'NOTHING LOST' : 'LOSS DETECTED';
  const nums: Array<[string, string, boolean?]> = [
    ['requests', String(r.requests)],
    ['failed', String(r.failed), r.failed > 0],
    ['broken connections', String(r.broken_connections), r.broken_connections > 0],
    ['in-flight requests lost', String(r.inflight_lost), r.inflight_lost > 0],
    ['byte stream verified', r.stream_verified ? 'yes' : 'NO', !r.stream_verified],
    ['largest gap between replies', `${fmt(r.max_gap_ms)} ms (budget ${r.max_gap_budget_ms} ms)`, r.max_gap_ms >= r.max_gap_budget_ms],
    ['latency p50 / p99', `${fmt(r.latency_ms?.p50, 2)} / ${fmt(r.latency_ms?.p99, 2)} ms`],
    ['takeover seen after', r.takeover_ms.map((x) => `${x} ms`).join(', ') || '-'],
    ['failback seen after', r.failback_ms.map((x) => `${x} ms`).join(', ') || '-'],
    ['workload duration', `${fmt(r.duration_ms / 1000, 2)} s`],
  ];
  const rows = timelineRows(r, input.events);
  const generated = input.generatedAt ?? new Date().toISOString();
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hanet demo: ${esc(verdict)}</title>
<style>
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 960px; color: #222; padding: 0 12px; }
  h1 { font-size: 22px; margin: 0 0 4px; }
  .verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; color: #fff; background: ${r.ok ? '#1e8449' : '#c0392b'}; }
  .sub { color: #666; margin-bottom: 18px; }
  table { border-collapse: collapse; margin: 8px 0 20px; }
  td, th { padding: 3px 12px 3px 0; text-align: left; vertical-align: top; }
  th { border-bottom: 1px solid #ccc; font-weight: 600; }
  td.bad { color: #c0392b; font-weight: 600; }
  .tick { font-size: 11px; fill: #555; }
  .axis { font-size: 12px; fill: #333; }
  .steplabel { font-size: 11px; }
  .t { font-variant-numeric: tabular-nums; text-align: right; }
  .src { color: #555; }
  code { font-size: 12px; }
</style>
</head>
<body>
<h1>hanet demo <span class="verdict" id="verdict">${esc(verdict)}</span></h1>
<div class="sub">${esc(r.mode)} failure of a's public port, ${r.cycles} cycle${r.cycles === 1 ? '' : 's'}, clients on c against ${esc(r.target)}${r.topology ? ` (topology ${esc(r.topology)})` : ''} — report made ${esc(generated)}</div>
<h2>What the clients saw</h2>
<table id="numbers">
${nums.map(([k, v, bad]) => `<tr><td>${esc(k)}</td><td class="${bad ? 'bad' : ''}">${esc(v)}</td></tr>`).join('\n')}
</table>
<h2>Latency over time</h2>
<p>The largest latency of the long-lived connections' requests (a request every few ms on each) sent in each ${r.timeline?.bucket_ms ?? 10} ms, on a log scale; ${geometry.points} points. Red marks on the axis: failed requests.</p>
${svg}
<h2>Timeline</h2>
<table id="timeline">
<tr><th class="t">t (s)</th><th>who</th><th>what</th><th>detail</th></tr>
${rows.map((x) => `<tr><td class="t">${fmt(x.atMs / 1000, 3)}</td><td class="src">${esc(x.source)}</td><td>${esc(x.what)}</td><td><code>${esc(x.detail)}</code></td></tr>`).join('\n')}
</table>
</body>
</html>
`;
}
