// Unit tests of the workload over IPv6 (issue #12), on loopback: the service listens on both families by default,
// the client reaches it over ::1 and 127.0.0.1, targets are written with the IPv6 address in brackets, and the CLI
// takes `[::1]:PORT` and refuses an unbracketed IPv6 target. Skips where this machine has no IPv6 loopback.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { hostPort, runClient, type ClientConfig } from '../../src/lab/workload/client.js';
import { startService } from '../../src/lab/workload/service.js';
import type { WorkloadReport } from '../../src/lab/workload/report.js';

async function ipv6Loopback(t: TestContext): Promise<boolean> {
  const ok = await new Promise<boolean>((resolve) => {
    const s = net.createServer().once('error', () => resolve(false)).listen({ port: 0, host: '::1' }, () => s.close(() => resolve(true)));
  });
  if (!ok) t.skip('no IPv6 loopback (::1) on this machine');
  return ok;
}

const cfg = (host: string, port: number): ClientConfig => ({
  host, port, persistent: { connections: 2, intervalMs: 5 }, perRequest: { intervalMs: 20 }, slow: { concurrency: 2, holdMs: 50 }, bulk: { rateBytesPerSec: 256 * 1024 },
  requestTimeoutMs: 2000, durationMs: 600,
});
const clean = (r: WorkloadReport) => r.failed === 0 && r.broken_connections === 0 && r.inflight_lost === 0 && r.stream_verified;

test('hostPort brackets IPv6 addresses only', () => {
  assert.equal(hostPort('2001:db8::11', 7100), '[2001:db8::11]:7100');
  assert.equal(hostPort('::1', 1), '[::1]:1');
  assert.equal(hostPort('10.0.0.11', 7100), '10.0.0.11:7100');
});

test('the service listens on both families by default: one service answers an IPv6 and an IPv4 client at once', async (t) => {
  if (!(await ipv6Loopback(t))) return;
  const svc = await startService({ port: 0 });
  try {
    assert.equal(svc.address, '::', 'the unspecified IPv6 address (IPv4 clients arrive on it as ::ffff:a.b.c.d)');
    const [r6, r4] = await Promise.all([runClient(cfg('::1', svc.port)).finished, runClient(cfg('127.0.0.1', svc.port)).finished]);
    for (const [r, target] of [[r6, `[::1]:${svc.port}`], [r4, `127.0.0.1:${svc.port}`]] as const) {
      assert.equal(r.target, target);
      assert.ok(clean(r), JSON.stringify({ failed: r.failed, failures: r.failures, broken: r.broken_connections }));
      for (const k of ['P', 'N', 'S', 'B'] as const) assert.ok(r.streams[k].ok > 0, `${target}: ${k} ran`);
    }
    assert.ok(svc.stats().connections.P >= 4, 'both clients\' P connections reached the one service');
  } finally {
    await svc.close();
  }
});

test('CLI: `lab client --target [::1]:PORT` runs over IPv6; an IPv6 target without brackets is refused', async (t) => {
  if (!(await ipv6Loopback(t))) return;
  const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const svc = await startService({ port: 0, bind: '::1' });
  try {
    // Asynchronously: the service runs in this process.
    const run = (target: string) => new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const c = spawn(process.execPath, [main, 'lab', 'client', '--target', target, '--duration', '0.5', '--hold', '50', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '', stderr = '';
      c.stdout.on('data', (d: Buffer) => (stdout += d));
      c.stderr.on('data', (d: Buffer) => (stderr += d));
      c.once('exit', (status) => resolve({ status, stdout, stderr }));
    });
    const ok = await run(`[::1]:${svc.port}`);
    assert.equal(ok.status, 0, ok.stderr);
    const r = JSON.parse(ok.stdout.trim().split('\n').at(-1)!) as WorkloadReport;
    assert.equal(r.target, `[::1]:${svc.port}`);
    assert.ok(clean(r) && r.requests > 20, JSON.stringify(r.failures));
    const bad = await run(`2001:db8::11:${svc.port}`);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /IPv6 address in brackets/);
  } finally {
    await svc.close();
  }
});
