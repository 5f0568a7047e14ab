// Tests of the daemon's control socket against slow `events --follow` clients: one that never reads is dropped once
// its unread events pass the limit (the daemon's queue for it stays bounded and it stops listening), and one that
// reads late gets the notice as its last line. A fake daemon emits the events.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createConnection, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveControl, type ControlSource } from '../../src/daemon/control-socket.js';
import type { CoreLogEvent } from '../../src/core/types.js';
import { waitFor } from '../helpers.js';

class FakeDaemon {
  readonly listeners = new Set<(e: CoreLogEvent) => void>();
  status(): ReturnType<ControlSource['status']> { throw new Error('not used'); }
  recentEvents(): CoreLogEvent[] { return [{ type: 'ready', at: 0 }]; }
  onEvent(cb: (e: CoreLogEvent) => void): () => void { this.listeners.add(cb); return () => { this.listeners.delete(cb); }; }
  emit(n: number): void {
    // ~1 KiB events, like a kernel-changed event listing routes.
    for (let i = 0; i < n; i++) for (const l of this.listeners) l({ type: 'kernel-changed', at: i, ops: [`ip route replace ${'x'.repeat(1000)}`] });
  }
}

async function setup(t: TestContext, limit: number) {
  const dir = mkdtempSync(join(tmpdir(), 'hanet-ctl-'));
  const path = join(dir, 'hanet.sock');
  const daemon = new FakeDaemon();
  const server = await serveControl(path, daemon, { followBufferBytes: limit });
  t.after(async () => { await server.close(); rmSync(dir, { recursive: true, force: true }); });
  const follow = async (): Promise<Socket> => {
    const sock = createConnection(path);
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    sock.write(JSON.stringify({ cmd: 'events', follow: true }) + '\n');
    await waitFor(() => server.stats().followers === 1, { what: 'the follower registered' });
    return sock;
  };
  return { daemon, server, follow };
}

test('a follow client that never reads is dropped; what the daemon queues for it stays bounded', async (t) => {
  const limit = 64 * 1024;
  const { daemon, server, follow } = await setup(t, limit);
  const sock = await follow();
  sock.pause(); // never reads
  const closed = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  // 20 MiB of events: without a bound all of it would sit in the daemon.
  for (let i = 0; i < 200 && daemon.listeners.size > 0; i++) {
    daemon.emit(100);
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(daemon.listeners.size, 0, 'the daemon stopped sending to it');
  const st = server.stats();
  assert.deepEqual([st.followers, st.dropped], [0, 1]);
  assert.ok(st.maxQueuedBytes <= limit + 2048, `queued at most the limit plus one event: ${st.maxQueuedBytes}`);
  sock.resume();
  await closed;
});

test('a follow client that reads late gets the drop notice as its last line', async (t) => {
  const { daemon, follow } = await setup(t, 16 * 1024);
  const sock = await follow();
  sock.pause();
  let text = '';
  sock.on('data', (d: Buffer) => { text += d.toString('utf8'); });
  const ended = new Promise<void>((resolve) => sock.once('end', () => resolve()));
  while (daemon.listeners.size > 0) { daemon.emit(50); await new Promise((r) => setImmediate(r)); }
  sock.resume();
  await ended;
  const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { type: string; reason?: string; limitBytes?: number });
  assert.equal(lines[0]!.type, 'ready', 'the backlog came first');
  assert.ok(lines.length > 2);
  assert.deepEqual([lines.at(-1)!.type, lines.at(-1)!.reason, lines.at(-1)!.limitBytes], ['follow-dropped', 'client-too-slow', 16 * 1024]);
  assert.ok(lines.slice(1, -1).every((l) => l.type === 'kernel-changed'));
});

test('a client that keeps up is never dropped', async (t) => {
  const { daemon, server, follow } = await setup(t, 16 * 1024);
  const sock = await follow();
  let n = 0;
  let buf = '';
  sock.on('data', (d: Buffer) => { buf += d.toString('utf8'); let i; while ((i = buf.indexOf('\n')) >= 0) { buf = buf.slice(i + 1); n++; } });
  for (let i = 0; i < 50; i++) { daemon.emit(5); await waitFor(() => n >= 1 + (i + 1) * 5, { what: 'events read' }); }
  assert.deepEqual(server.stats().dropped, 0);
  assert.equal(daemon.listeners.size, 1);
  sock.destroy();
  await waitFor(() => daemon.listeners.size === 0, { what: 'unsubscribed on close' });
});
