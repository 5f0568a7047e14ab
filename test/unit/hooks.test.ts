// Notify hooks with real processes (no root): the environment a script gets, asynchronous start, timeout kill of
// the whole process group, failures logged, and the bounded queue.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HookRunner, hookEnv } from '../../src/daemon/hooks.js';
import type { Logger } from '../../src/daemon/daemon.js';
import type { CoreLogEvent } from '../../src/core/types.js';
import type { HookResult } from '../../src/daemon/metrics.js';

function script(dir: string, name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return p;
}

function recorder() {
  const lines: Array<{ level: string; obj: Record<string, unknown>; msg?: string }> = [];
  const log: Logger = {
    info: (obj, msg) => lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
    warn: (obj, msg) => lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
    error: (obj, msg) => lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg }),
    debug: (obj, msg) => lines.push({ level: 'debug', obj: obj as Record<string, unknown>, msg }),
  };
  return { lines, log };
}

const ev = (type: CoreLogEvent['type'], rest: Record<string, unknown> = {}): CoreLogEvent => ({ type, at: 1, time: '2025-01-02T03:04:05.678Z', ...rest });

test('hookEnv: owner and helper events, addresses from the event or the LAN', () => {
  const e1 = hookEnv('a', ev('takeover-acked', { lan: 'lan0', helper: 'b', link: 'ab', claimId: 'a-x-1', ms: 1.5 }), { lan0: ['10.0.0.11'] });
  assert.equal(e1.HANET_EVENT, 'takeover-acked');
  assert.equal(e1.HANET_NODE, 'a');
  assert.equal(e1.HANET_ROLE, 'owner');
  assert.equal(e1.HANET_PEER, 'b');
  assert.equal(e1.HANET_LAN, 'lan0');
  assert.equal(e1.HANET_ADDRESSES, '10.0.0.11');
  assert.equal(e1.HANET_TIME, '2025-01-02T03:04:05.678Z');
  assert.equal(e1.HANET_CLAIM_ID, 'a-x-1');
  assert.equal(JSON.parse(e1.HANET_EVENT_JSON!).ms, 1.5);
  const e2 = hookEnv('b', ev('help-start', { owner: 'a', lan: 'lan0', addresses: ['10.0.0.11', '10.0.0.21/24'] }));
  assert.equal(e2.HANET_ROLE, 'helper');
  assert.equal(e2.HANET_PEER, 'a');
  assert.equal(e2.HANET_ADDRESSES, '10.0.0.11 10.0.0.21');
  const e3 = hookEnv('a', ev('iface-failed', { iface: 'eth0', lan: 'lan0', reason: 'carrier-down' }), { lan0: ['10.0.0.11'] });
  assert.equal(e3.HANET_IFACE, 'eth0');
  assert.equal(e3.HANET_REASON, 'carrier-down');
  assert.equal(hookEnv('a', ev('peer-down', { link: 'ab', peer: 'b' })).HANET_PEER, 'b');
});

test('hook: runs asynchronously with the event as argument and HANET_* in its environment; output of a failing hook is logged', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hanet-hook-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'out');
  const cmd = script(dir, 'notify.sh', `echo "$1 $HANET_EVENT $HANET_NODE $HANET_PEER $HANET_ADDRESSES" >> ${out}\n[ "$1" = failback ] && { echo oops >&2; exit 3; }\nexit 0`);
  const { lines, log } = recorder();
  const results: Array<[string, HookResult]> = [];
  const h = new HookRunner({ command: cmd, timeoutMs: 5000, events: ['takeover-acked', 'failback'], maxConcurrent: 1, maxQueue: 8, node: 'a', lanAddresses: { lan0: ['10.0.0.11'] }, log, onResult: (e, r) => results.push([e, r]) });
  h.handle(ev('takeover-acked', { lan: 'lan0', helper: 'b' }));
  h.handle(ev('peer-up', { peer: 'b' })); // not configured: ignored
  assert.equal(existsSync(out), false, 'nothing is spawned inside the event listener');
  h.handle(ev('failback', { lan: 'lan0', iface: 'eth0' }));
  await h.idle();
  assert.equal(readFileSync(out, 'utf8'), 'takeover-acked takeover-acked a b 10.0.0.11\nfailback failback a  10.0.0.11\n', 'in order, one at a time');
  assert.deepEqual(results, [['takeover-acked', 'ok'], ['failback', 'failed']]);
  const warn = lines.find((l) => l.level === 'warn');
  assert.equal(warn?.obj.code, 3);
  assert.equal(warn?.obj.output, 'oops');
});

test('hook: killed with its process group after the timeout; a missing executable is an error, not a crash', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hanet-hook-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const pidFile = join(dir, 'pid');
  const cmd = script(dir, 'slow.sh', `sleep 30 &\necho $! > ${pidFile}\nwait`);
  const { log } = recorder();
  const results: Array<[string, HookResult, number | undefined]> = [];
  const h = new HookRunner({ command: cmd, timeoutMs: 300, killGraceMs: 200, events: ['iface-failed'], maxConcurrent: 1, maxQueue: 8, node: 'a', log, onResult: (e, r, ms) => results.push([e, r, ms]) });
  h.handle(ev('iface-failed'));
  await h.idle();
  assert.equal(results[0]?.[1], 'timeout');
  assert.ok(results[0]![2]! >= 300 && results[0]![2]! < 3000, `killed after ${results[0]![2]} ms`);
  const grandchild = Number(readFileSync(pidFile, 'utf8'));
  let alive = true;
  for (let i = 0; i < 100 && alive; i++) {
    try { process.kill(grandchild, 0); await new Promise((r) => setTimeout(r, 20)); } catch { alive = false; }
  }
  assert.equal(alive, false, 'the script\'s own child was killed too');

  const missing = new HookRunner({ command: join(dir, 'nope'), timeoutMs: 300, events: ['iface-failed'], maxConcurrent: 1, maxQueue: 8, node: 'a', log, onResult: (e, r) => results.push([e, r, undefined]) });
  missing.handle(ev('iface-failed'));
  await missing.idle();
  assert.equal(results[1]?.[1], 'error');
});

test('hook queue: bounded; a burst keeps the newest events and counts the dropped ones', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hanet-hook-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = join(dir, 'out');
  const cmd = script(dir, 'n.sh', `echo "$HANET_IFACE" >> ${out}`);
  const { lines, log } = recorder();
  const results: HookResult[] = [];
  const h = new HookRunner({ command: cmd, timeoutMs: 5000, events: ['iface-failed'], maxConcurrent: 1, maxQueue: 2, node: 'a', log, onResult: (_e, r) => results.push(r) });
  for (let i = 0; i < 10; i++) h.handle(ev('iface-failed', { iface: `eth${i}` }));
  await h.idle();
  assert.equal(readFileSync(out, 'utf8'), 'eth8\neth9\n');
  assert.equal(results.filter((r) => r === 'dropped').length, 8);
  assert.equal(results.filter((r) => r === 'ok').length, 2);
  assert.equal(lines.filter((l) => l.level === 'warn' && /queue full/.test(l.msg ?? '')).length, 1, 'the drop is logged once, not per event');
});
