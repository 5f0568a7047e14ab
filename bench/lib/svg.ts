// A small SVG line chart for the suite's report: request latency over time around the cut, one line per setup
// (log-scale latency axis), with the requests that failed marked in a band above the plot. No dependencies.
import type { Series } from './failover.js';

export interface ChartLine { label: string; color: string; series: Series }
export interface ChartOptions { title: string; subtitle?: string; markers?: Array<{ at_ms: number; label: string }>; width?: number; height?: number }

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export const COLORS: Record<string, string> = { none: '#888888', 'keepalived-0.01': '#d62728', 'keepalived-1': '#ff7f0e', hanet: '#1f77b4', 'hanet-ipv6': '#17becf' };

export function latencyChart(lines: ChartLine[], o: ChartOptions): string {
  const W = o.width ?? 960, H = o.height ?? 420;
  const m = { l: 70, r: 170, t: 58, b: 46 };
  const band = 14 * lines.length + 8; // failed-request band above the plot
  const px0 = m.l, px1 = W - m.r, py0 = m.t + band, py1 = H - m.b;
  const first = lines[0]?.series;
  const x0 = first?.from_ms ?? 0;
  const x1 = first ? first.from_ms + first.bucket_ms * first.p_max_latency_ms.length : 1;
  const yMin = 0.01, yMax = 10_000;
  const X = (t: number) => px0 + ((t - x0) / (x1 - x0)) * (px1 - px0);
  const Y = (ms: number) => py1 - ((Math.log10(Math.min(yMax, Math.max(yMin, ms))) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * (py1 - py0);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${m.l}" y="20" font-size="15" font-weight="bold">${esc(o.title)}</text>`);
  if (o.subtitle) out.push(`<text x="${m.l}" y="38" fill="#444">${esc(o.subtitle)}</text>`);
  // grid: decades on y, seconds on x
  for (let e = Math.log10(yMin); e <= Math.log10(yMax); e++) {
    const y = Y(10 ** e);
    out.push(`<line x1="${px0}" x2="${px1}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e4e4e4"/>`);
    const lbl = 10 ** e >= 1000 ? `${10 ** e / 1000} s` : `${10 ** e} ms`;
    out.push(`<text x="${px0 - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#555">${lbl}</text>`);
  }
  for (let t = Math.ceil(x0 / 1000) * 1000; t <= x1; t += 1000) {
    const x = X(t);
    out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${py0}" y2="${py1}" stroke="#e4e4e4"/>`);
    out.push(`<text x="${x.toFixed(1)}" y="${py1 + 16}" text-anchor="middle" fill="#555">${t / 1000} s</text>`);
  }
  out.push(`<text x="${(px0 + px1) / 2}" y="${H - 8}" text-anchor="middle" fill="#333">time of sending, relative to the cut</text>`);
  out.push(`<text transform="translate(16 ${(py0 + py1) / 2}) rotate(-90)" text-anchor="middle" fill="#333">largest P latency per ${first?.bucket_ms ?? 0} ms</text>`);
  out.push(`<rect x="${px0}" y="${py0}" width="${px1 - px0}" height="${py1 - py0}" fill="none" stroke="#999"/>`);
  for (const mk of o.markers ?? []) {
    const x = X(mk.at_ms);
    out.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${m.t}" y2="${py1}" stroke="#333" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${(x + 4).toFixed(1)}" y="${m.t - 4}" fill="#333">${esc(mk.label)}</text>`);
  }
  out.push(`<text x="${px0 - 6}" y="${m.t + 14}" text-anchor="end" fill="#555">failed</text>`);
  lines.forEach((ln, i) => {
    const s = ln.series;
    // failures: one tick per bucket with failed P requests, in this line's row of the band
    const rowY = m.t + 6 + i * 14;
    out.push(`<line x1="${px0}" x2="${px1}" y1="${rowY + 5}" y2="${rowY + 5}" stroke="#f2f2f2"/>`);
    s.failed.forEach((f, k) => {
      if (!f) return;
      const x = X(s.from_ms + k * s.bucket_ms);
      out.push(`<rect x="${x.toFixed(1)}" y="${rowY}" width="${Math.max(1.5, X(s.from_ms + (k + 1) * s.bucket_ms) - x).toFixed(1)}" height="10" fill="${ln.color}"/>`);
    });
    // latency line, broken where a bucket had no successful request
    let d = '';
    let pen = false;
    s.p_max_latency_ms.forEach((v, k) => {
      if (v === null) { pen = false; return; }
      const x = X(s.from_ms + (k + 0.5) * s.bucket_ms), y = Y(v);
      d += `${pen ? 'L' : 'M'}${x.toFixed(1)} ${y.toFixed(1)} `;
      pen = true;
    });
    out.push(`<path d="${d.trim()}" fill="none" stroke="${ln.color}" stroke-width="1.4" stroke-linejoin="round"/>`);
    const ly = py0 + 20 + i * 18;
    out.push(`<line x1="${px1 + 8}" x2="${px1 + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${ln.color}" stroke-width="3"/>`);
    out.push(`<text x="${px1 + 36}" y="${ly}">${esc(ln.label)}</text>`);
    out.push(`<text x="${px1 + 8}" y="${rowY + 9}" font-size="10" fill="${ln.color}">failed P: ${esc(ln.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
