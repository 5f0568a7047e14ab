// `hanet demo` end to end (root): the CLI runs the story on a lab, writes the HTML report whose path it prints,
// and the report holds the chart of the run and the daemons' takeover events.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireRoot } from '../helpers.js';
import { hanetArgv, labDown } from '../../src/lab/lab.js';

test('hanet demo: nothing lost, and an HTML report with the latency chart and the takeover timeline', async (t) => {
  if (!requireRoot(t)) return;
  const dir = mkdtempSync(join(tmpdir(), 'hanet-demo-'));
  const report = join(dir, 'report.html');
  try {
    const [cmd, ...args] = hanetArgv();
    const child = spawn(cmd!, [...args, 'demo', '--name', 'odemo', '--outage', '1000', '--report', report], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const killer = setTimeout(() => child.kill('SIGINT'), 120_000);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    clearTimeout(killer);
    t.diagnostic(out);
    assert.equal(code, 0, `demo exit code; stderr:\n${err}`);
    assert.match(out, /NOTHING LOST/);
    assert.match(out, new RegExp(`report\\s+${report.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`), 'the report path is printed');
    assert.ok(existsSync(report));
    const html = readFileSync(report, 'utf8');
    const d = /<path id="latency-path" d="([^"]*)"/.exec(html)?.[1] ?? '';
    assert.ok(d.split(/[ML]/).filter((x) => x.trim()).length > 300, 'a point per 10 ms bucket of the run');
    for (const s of ['cut', 'takeover', 'heal', 'failback']) assert.match(html, new RegExp(`class="steplabel"[^>]*>${s}<`));
    assert.match(html, /<td class="src">a<\/td><td>takeover-acked<\/td>/, "a's events in the timeline");
    assert.match(html, /<td class="src">b<\/td><td>help-start<\/td>/, "b's events in the timeline");
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await labDown({ name: 'odemo' }).catch(() => undefined);
  }
});
