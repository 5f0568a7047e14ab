// The demo's HTML report from a saved demo result (test/fixtures/demo-result.json, a real `hanet demo --json` run)
// and from constructed ones: content, self-containment, and — in headless Chromium — that the chart renders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { renderDemoReport, latencyChart } from '../../src/lab/demo-report.js';
import type { DemoResult } from '../../src/lab/demo.js';
import type { CoreLogEvent } from '../../src/core/types.js';

interface ChartInfo { points: number; length: number; bbox: { w: number; h: number }; svg: { w: number; h: number }; steps: number; verdict: string | null | undefined; timelineRows: number }

const CHROMIUM = process.env.HANET_CHROMIUM ?? '/usr/bin/chromium';

const saved = (): DemoResult => JSON.parse(readFileSync(new URL('../../../test/fixtures/demo-result.json', import.meta.url), 'utf8')) as DemoResult;

/** Daemon events around the saved run's takeover, on the wall clock of its start. */
function eventsFor(r: DemoResult): Record<string, CoreLogEvent[]> {
  const zero = Date.parse(r.started_at) - r.workload_origin_ms!;
  const at = (step: string, plus: number) => new Date(zero + r.steps.find((s) => s.step === step)!.at_ms + plus).toISOString();
  return {
    a: [
      { type: 'iface-failed', at: 1, time: at('cut', 12), iface: 'eth0', lan: 'sw', reason: 'carrier-down' },
      { type: 'takeover-requested', at: 2, time: at('cut', 13), lan: 'sw', helper: 'b', addresses: ['10.0.0.11'] },
      { type: 'takeover-acked', at: 3, time: at('cut', 15), lan: 'sw', helper: 'b', ms: 2.1 },
      { type: 'kernel-changed', at: 4, time: at('cut', 14), ops: ['ip route replace 0.0.0.0/1 ...'] },
      { type: 'failback', at: 5, time: at('failback', -5), iface: 'eth0', lan: 'sw', from: 'remote' },
    ],
    b: [{ type: 'help-start', at: 1, time: at('cut', 14), owner: 'a', lan: 'sw', addresses: ['10.0.0.11'] }],
  };
}

/** Constructed: a run with a 400 ms outage in which requests failed. */
function constructedFailure(): DemoResult {
  const r = saved();
  const n = 600;
  const lat = Array.from({ length: n }, (_, i) => (i >= 300 && i < 340 ? 0 : i === 340 ? 420 : 0.3 + (i % 7) * 0.02));
  const failed = Array.from({ length: n }, (_, i) => (i >= 300 && i < 340 && i % 5 === 0 ? 1 : 0));
  return { ...r, ok: false, failed: 8, max_gap_ms: 420, timeline: { bucket_ms: 10, ok: lat.map(() => 3), failed, p_max_latency_ms: lat } };
}

test('report: verdict, numbers, chart path and timeline from a saved demo result; self-contained', () => {
  const r = saved();
  const html = renderDemoReport({ result: r, events: eventsFor(r), generatedAt: '2025-01-01T00:00:00.000Z' });
  assert.match(html, /<span class="verdict" id="verdict">NOTHING LOST<\/span>/);
  assert.match(html, new RegExp(`<td>requests</td><td class="">${r.requests}</td>`));
  const d = /<path id="latency-path" d="([^"]*)"/.exec(html)?.[1] ?? '';
  const points = d.split(/[ML]/).filter((x) => x.trim()).length;
  assert.ok(points > 200, `the chart has a point per timeline bucket: ${points}`);
  for (const step of ['cut', 'takeover', 'heal', 'failback']) assert.match(html, new RegExp(`class="steplabel"[^>]*>${step}<`), `step ${step} marked`);
  // The timeline merges the demo's steps and the daemons' events in time order.
  const rows = [...html.matchAll(/<tr><td class="t">([\d.-]+)<\/td><td class="src">(\w+)<\/td><td>([\w -]+)<\/td>/g)].map((m) => [Number(m[1]), m[2], m[3]] as const);
  const order = rows.map(([, who, what]) => `${who}:${what}`);
  assert.ok(order.indexOf('demo:cut') < order.indexOf('a:iface-failed') && order.indexOf('a:iface-failed') < order.indexOf('a:takeover-acked') && order.indexOf('a:takeover-acked') < order.indexOf('demo:heal'), order.join(' '));
  assert.ok(!order.includes('a:kernel-changed'), 'protocol chatter is left out');
  assert.deepEqual(rows.map(([t]) => t), [...rows.map(([t]) => t)].sort((x, y) => x - y));
  // Self-contained: no scripts, nothing loaded from elsewhere.
  assert.doesNotMatch(html, /<script|<link|src=|@import|url\(/i);
  assert.deepEqual([...html.matchAll(/https?:\/\/[^"'\s)]+/g)].map((m) => m[0]), ['http://www.w3.org/2000/svg']);
});

test('report: a run that lost requests says so and marks the failures', () => {
  const html = renderDemoReport({ result: constructedFailure() });
  assert.match(html, /LOSS DETECTED/);
  assert.match(html, /<td>failed<\/td><td class="bad">8<\/td>/);
  assert.equal((html.match(/class="failed"/g) ?? []).length, 8);
  const { geometry } = latencyChart(constructedFailure());
  assert.equal(geometry.points, 560, 'buckets without a P reply break the line');
});

test('report renders in headless Chromium: the chart is drawn with many points and a real size', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`no Chromium at ${CHROMIUM}: install it (Debian: apt-get install chromium) to run the browser check`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'hanet-report-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'report.html');
  const r = saved();
  writeFileSync(file, renderDemoReport({ result: r, events: eventsFor(r) }));
  const ctx = await chromium.launchPersistentContext(join(dir, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1000, height: 1400 },
  });
  try {
    const page = ctx.pages()[0] ?? await ctx.newPage();
    const requests: string[] = [];
    page.on('request', (req) => { if (!req.url().startsWith('file:')) requests.push(req.url()); });
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    // Evaluated in the page (a string: the test is compiled without DOM types).
    const chart = await page.evaluate<ChartInfo | undefined>(`(() => {
      const svg = document.querySelector('#latency-chart');
      const path = document.querySelector('#latency-path');
      if (!svg || !path) return undefined;
      const bb = path.getBBox();
      const rect = svg.getBoundingClientRect();
      const d = path.getAttribute('d') || '';
      return {
        points: d.split(/[ML]/).filter((x) => x.trim()).length,
        length: path.getTotalLength(),
        bbox: { w: bb.width, h: bb.height },
        svg: { w: rect.width, h: rect.height },
        steps: document.querySelectorAll('#latency-chart line.step').length,
        verdict: document.querySelector('#verdict')?.textContent,
        timelineRows: document.querySelectorAll('#timeline tr').length,
      };
    })()`);
    assert.ok(chart, 'the chart is in the page');
    t.diagnostic(JSON.stringify(chart));
    assert.ok(chart.points > 200, `points ${chart.points}`);
    assert.ok(chart.bbox.w > 300 && chart.bbox.h > 20, `the path has a real extent: ${JSON.stringify(chart.bbox)}`);
    assert.ok(chart.length > 500, `the line is drawn: length ${chart.length}`);
    assert.ok(chart.svg.w >= 800 && chart.svg.h >= 250, `the chart has its size on the page: ${JSON.stringify(chart.svg)}`);
    assert.equal(chart.steps, 4, 'cut, takeover, heal and failback marked');
    assert.equal(chart.verdict, 'NOTHING LOST');
    assert.ok(chart.timelineRows > 10);
    assert.deepEqual(requests, [], 'the report loads nothing from the network');
    if (process.env.HANET_REPORT_SCREENSHOT) await page.screenshot({ path: process.env.HANET_REPORT_SCREENSHOT, fullPage: true });
  } finally {
    await ctx.close();
  }
});

test('live view: redraws one screen in place with progress, node states and steps', async () => {
  const { createLiveView } = await import('../../src/lab/demo-live.js');
  const writes: string[] = [];
  const view = createLiveView({ out: { write: (s: string) => writes.push(s), columns: 120 }, title: 'hanet demo: test', intervalMs: 1_000_000 });
  const st = (node: string, failed: boolean) => ({
    node, ready: true, publics: [{ iface: 'eth0', lan: 'sw', addresses: ['10.0.0.11/24'], health: { healthy: !failed, usable: !failed, reason: failed ? 'carrier-down' : 'ok', since: 0 }, placement: failed ? { kind: 'remote', link: 'ab', peer: 'b' } : { kind: 'own' } }],
    links: [{ name: 'ab', kind: 'ethernet', peer: 'x', alive: true, carrierUp: true, lastHeartbeatAgoMs: 5, peerLans: {}, rtt: { lastMs: 1, avgMs: 1, samples: 3 }, rejected: {} }],
    claims: failed ? [{ lan: 'sw', helper: 'b', link: 'ab', claimId: 'c1', acked: true, since: 0, addresses: ['10.0.0.11'] }] : [],
    helping: [],
  });
  const cluster = { servers: ['a', 'b'], status: async (n: string) => st(n, n === 'a'), socketPath: () => '/nonexistent/hanet.sock' };
  const workload = { progress: () => ({ t: 1, ready: true, requests: 1234, ok: 1230, failed: 0, inflight: 4, broken_connections: 0 }) };
  view.step({ at_ms: 10, step: 'lab up', detail: 'x' });
  const stop = view.observe({ cluster: cluster as never, workload: workload as never });
  view.step({ at_ms: 3000, step: 'cut', detail: 'a:eth0 (carrier)' });
  await stop();
  view.close();
  const last = writes.at(-1)!;
  assert.match(last, /^\x1b\[\d+F\x1b\[J/, 'redrawn in place: cursor up over the last frame, clear');
  assert.match(last, /requests 1234\s+ok 1230\s+failed 0\s+in flight 4/);
  assert.match(last, /a\s+eth0 FAILED carrier-down -> served by b {2}\| {2}b carries 10\.0\.0\.11 \(acked\)/);
  assert.match(last, /b\s+eth0 healthy/);
  assert.match(last, /3\.00 s {2}cut: a:eth0 \(carrier\)/);
  assert.deepEqual(view.events, {}, 'events of unreachable daemons are left out');
});
