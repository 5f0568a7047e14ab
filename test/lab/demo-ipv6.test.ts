// `hanet demo --ipv6 --json` end to end (root): the story on the IPv6-only lab pair6 prints one JSON object that
// says nothing was lost, with the clients on a's IPv6 address; the exit status follows the verdict.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requireRoot } from '../helpers.js';
import { hanetArgv, labDown } from '../../src/lab/lab.js';
import type { DemoResult } from '../../src/lab/demo.js';

const run = promisify(execFile);

test('hanet demo --ipv6 --json: nothing lost over IPv6', async (t) => {
  if (!requireRoot(t)) return;
  try {
    const [cmd, ...args] = hanetArgv();
    // The exit status follows the verdict: a non-zero one rejects, with the output in the error.
    const { stdout: out } = await run(cmd!, [...args, 'demo', '--ipv6', '--json', '--name', 'odemo6', '--outage', '1000'], { timeout: 120_000 });
    const r = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as DemoResult;
    t.diagnostic(JSON.stringify({ ok: r.ok, requests: r.requests, gap: r.max_gap_ms, takeover_ms: r.takeover_ms }));
    assert.equal(r.ok, true);
    assert.equal(r.topology, 'pair6');
    assert.equal(r.target, '[2001:db8::11]:7100', 'the clients used IPv6');
    assert.ok(r.requests > 100, 'the workload ran');
    assert.deepEqual([r.failed, r.broken_connections, r.inflight_lost, r.stream_verified], [0, 0, 0, true]);
    assert.ok(r.max_gap_ms < r.max_gap_budget_ms, `gap ${r.max_gap_ms} ms`);
    assert.deepEqual(r.steps.filter((s) => ['cut', 'takeover', 'heal', 'failback'].includes(s.step)).map((s) => s.step), ['cut', 'takeover', 'heal', 'failback']);
  } finally {
    await labDown({ name: 'odemo6' }).catch(() => undefined);
  }
});
