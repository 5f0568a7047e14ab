// SerialLink on fakes (an in-memory line and TUN, fake time): control and IP cross the line, control goes before
// queued IP, the IP queue is bounded, a lost line turns the TUN carrier off and is reopened by itself.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { SerialLink, LinePacer, defaultSerialMtu } from '../../src/links/serial.js';
import type { ByteLine } from '../../src/os/linux/serial.js';
import { waitFor } from '../helpers.js';
import type { PacketPort, TunStats } from '../../src/os/linux/tun.js';
import { ControlSender, deriveControlKey } from '../../src/proto/control.js';
import type { PeerMessage } from '../../src/core/messages.js';
import { ReplayGuard } from '../../src/proto/replay.js';
import { FRAME_CONTROL, FRAME_IP, SerialDeframer, type Frame } from '../../src/proto/serial-frame.js';

class FakeTun implements PacketPort {
  readonly name = 'ser0';
  carrier: boolean[] = [];
  written: Buffer[] = [];
  private cb: ((p: Buffer) => void) | undefined;
  constructor(readonly mtu = 576) {}
  onPacket(cb: (p: Buffer) => void): void { this.cb = cb; }
  inject(p: Buffer): void { this.cb?.(p); }
  write(p: Uint8Array): boolean { this.written.push(Buffer.from(p)); return true; }
  setCarrier(on: boolean): void { this.carrier.push(on); }
  stats(): TunStats { return { rxPackets: 0, rxBytes: 0, txPackets: this.written.length, txBytes: 0, txErrors: 0 }; }
  close(): void {}
}

/** One end of an in-memory line: what is written goes to `peer` (if connected), synchronously. */
class FakeLine implements ByteLine {
  peer: FakeLine | undefined;
  sent: Buffer[] = [];
  private data: ((b: Buffer) => void) | undefined;
  private hup: ((why: string) => void) | undefined;
  closed = false;
  write(b: Buffer): number { if (this.closed) return 0; this.sent.push(Buffer.from(b)); this.peer?.data?.(Buffer.from(b)); return b.length; }
  onData(cb: (b: Buffer) => void): void { this.data = cb; }
  onHangup(cb: (why: string) => void): void { this.hup = cb; }
  whenWritable(cb: () => void): void { setImmediate(cb); }
  outq(): number { return 0; }
  close(): void { this.closed = true; }
  hangup(): void { this.close(); this.hup?.('EOF'); }
}

const key = deriveControlKey(Buffer.alloc(32, 1));
const ipPacket = (n: number, tag = 0): Buffer => { const b = Buffer.alloc(n, tag); b[0] = 0x45; return b; };
const hb: PeerMessage = { type: 'heartbeat', ready: true, lans: {}, canHelp: true, helping: [], claims: [] };

function pair(t: TestContext, opts: { clock?: () => number; queueMs?: number } = {}) {
  const la = new FakeLine();
  const lb = new FakeLine();
  la.peer = lb; lb.peer = la;
  const ta = new FakeTun();
  const tb = new FakeTun();
  const mk = (node: string, peer: string, tun: FakeTun, line: FakeLine) => new SerialLink({
    name: 'ab', peer, key, sender: new ControlSender({ node, key }), guard: new ReplayGuard(), device: `/dev/fake-${node}`, baud: 115200, tun,
    openLine: () => { line.closed = false; return line; }, ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.queueMs !== undefined ? { queueMs: opts.queueMs } : {}),
  });
  const a = mk('a', 'b', ta, la);
  const b = mk('b', 'a', tb, lb);
  t.after(() => { void a.close(); void b.close(); });
  return { a, b, ta, tb, la, lb };
}

test('control messages and IP packets cross the line; the TUN carrier follows the line', async (t) => {
  const { a, b, ta, tb } = pair(t);
  const got: string[] = [];
  b.onMessage((m) => got.push(`${m.envelope.sender}:${m.message.type}`));
  // The session-binding handshake, one explicit heartbeat each way: b refuses a's first (it names no nonce of b's)
  // but learns a's nonce; b's heartbeat is accepted by a, which answers at once with its last heartbeat.
  a.send(hb);
  b.send(hb);
  await waitFor(() => a.stats().received >= 1 && got.length >= 1, { timeoutMs: 2000, what: 'the handshake' });
  assert.equal(got[0], 'a:heartbeat');
  assert.equal(b.stats().rejected.unbound, 1);
  assert.ok((a.stats().handshakeAnswers ?? 0) >= 1, 'a answered at once');
  ta.inject(ipPacket(100, 7));
  await waitFor(() => tb.written.length === 1, { timeoutMs: 2000, what: 'the IP packet (paced behind the heartbeats)' });
  assert.deepEqual(tb.written[0], ipPacket(100, 7));
  assert.deepEqual(ta.carrier, [false, true], 'down until the line opened, then up');
  await waitFor(() => b.stats().serial.rx.frames === a.stats().serial.txFrames, { timeoutMs: 2000, what: 'every frame a wrote deframed at b' });
  assert.ok(a.stats().serial.txFrames >= 3);
});

test('control goes before queued IP, a newer heartbeat replaces a queued one, and the IP queue is bounded', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let now = 0;
  const { a, ta, la } = pair(t, { clock: () => now, queueMs: 250 });
  for (let i = 0; i < 20; i++) ta.inject(ipPacket(500, i));
  a.send(hb);
  a.send({ ...hb, canHelp: false });
  a.send({ type: 'release', claimId: 'c1' });
  const s = a.stats().serial;
  // 250 ms at 11520 B/s = 2880 bytes: 5 frames of ~510 bytes queued, 1 on the line, the rest dropped.
  assert.ok(s.ipDropped['queue-full'] >= 12, `dropped ${s.ipDropped['queue-full']}`);
  assert.equal(s.controlDropped, 1, 'the first heartbeat was replaced');
  // Let the line run: advance the clock and the timers together.
  for (let i = 0; i < 200; i++) { now += 5; t.mock.timers.tick(5); }
  const frames: Frame[] = [];
  const d = new SerialDeframer(16384, (f) => frames.push(f));
  for (const c of la.sent) d.push(c);
  const order = frames.map((f) => (f.type === FRAME_CONTROL ? 'C' : 'I')).join('');
  assert.match(order, /^ICCI+$/, `first IP frame was already on the line, then both control frames: ${order}`);
  assert.equal(a.stats().serial.queuedBytes, 0);
  void FRAME_IP;
});

test('a lost line: carrier off at once, queues dropped, reopened by itself', async (t) => {
  const { a, ta, la } = pair(t);
  la.hangup();
  assert.equal(a.lineUp, false);
  assert.deepEqual(ta.carrier, [false, true, false]);
  await waitFor(() => a.lineUp, { timeoutMs: 2000, what: 'reopen' });
  const s = a.stats().serial;
  assert.equal(s.hangups, 1);
  assert.equal(s.opens, 2);
  assert.deepEqual(ta.carrier, [false, true, false, true]);
});

test('pacing: a frame is written when the line will be free within the lead time', () => {
  const p = new LinePacer(115200, 10);
  assert.ok(p.waitMs(0) <= 0);
  p.sent(0, 1152); // 100 ms of line
  assert.equal(Math.round(p.waitMs(0)), 90);
  assert.ok(p.waitMs(90) <= 0);
  assert.equal(defaultSerialMtu(115200), 576);
  assert.equal(defaultSerialMtu(9600), 296);
  assert.equal(defaultSerialMtu(921600), 1500);
});
