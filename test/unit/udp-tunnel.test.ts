// udp link datagrams: AES-256-GCM sealing with per-session keys, replay window, and garbage/tampering property tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  encodeTunnelControl, ReplayWindow, REPLAY_WINDOW_PACKETS, TunnelOpener, TunnelSealer, TUNNEL_OVERHEAD, tunnelMtu, TUNNEL_DROP_REASONS,
} from '../../src/proto/udp-tunnel.js';

const key = Buffer.alloc(32, 7);
const pkt = (n: number, fill = 0x45): Buffer => Buffer.alloc(n, fill);

test('seal/open round trip; header layout; overhead and MTU', () => {
  const s = new TunnelSealer(key, 'a', 'b', Buffer.from('0102030405060708', 'hex'));
  const o = new TunnelOpener(key, 'a', 'b');
  const d = s.seal(pkt(100));
  assert.equal(d.length, 100 + TUNNEL_OVERHEAD);
  assert.equal(d.subarray(0, 17).toString('hex'), '01' + '0102030405060708' + '0000000000000001');
  const r = o.open(d);
  assert.ok(r.ok);
  assert.deepEqual(r.packet, pkt(100));
  assert.equal(r.session, '0102030405060708');
  assert.equal(tunnelMtu(1500), 1439);
  // the ciphertext is not the plaintext
  assert.notEqual(d.subarray(17, 117).toString('hex'), pkt(100).toString('hex'));
});

test('a packet sealed for b->a, another key, or another direction does not open', () => {
  const ab = new TunnelSealer(key, 'a', 'b');
  assert.deepEqual(new TunnelOpener(key, 'b', 'a').open(ab.seal(pkt(60))), { ok: false, reason: 'bad-tag' }, 'reflected');
  assert.deepEqual(new TunnelOpener(Buffer.alloc(32, 8), 'a', 'b').open(ab.seal(pkt(60))), { ok: false, reason: 'bad-tag' }, 'other key');
  assert.deepEqual(new TunnelOpener(key, 'a', 'c').open(ab.seal(pkt(60))), { ok: false, reason: 'bad-tag' }, 'other recipient');
});

test('replay: a packet opens once; old packets beyond the window are refused; reordering within it is fine', () => {
  const s = new TunnelSealer(key, 'a', 'b');
  const o = new TunnelOpener(key, 'a', 'b');
  const ds = Array.from({ length: 5 }, () => s.seal(pkt(40)));
  assert.ok(o.open(ds[4]!).ok);
  assert.ok(o.open(ds[1]!).ok, 'reordered');
  assert.deepEqual(o.open(ds[1]!), { ok: false, reason: 'replay' });
  for (let i = 0; i < REPLAY_WINDOW_PACKETS + 1; i++) assert.ok(o.open(s.seal(pkt(20))).ok);
  assert.deepEqual(o.open(ds[0]!), { ok: false, reason: 'too-old' });
  // A tampered packet does not move the window: the genuine one still opens afterwards.
  const next = s.seal(pkt(30));
  const bad = Buffer.from(next); bad[20] = bad[20]! ^ 1;
  assert.deepEqual(o.open(bad), { ok: false, reason: 'bad-tag' });
  assert.ok(o.open(next).ok);
});

test('a restarted peer (new session) is accepted at once', () => {
  const o = new TunnelOpener(key, 'a', 'b');
  assert.ok(o.open(new TunnelSealer(key, 'a', 'b').seal(pkt(40))).ok);
  assert.ok(o.open(new TunnelSealer(key, 'a', 'b').seal(pkt(40))).ok);
});

test('ReplayWindow: far jumps clear the window', () => {
  const w = new ReplayWindow();
  w.commit(1);
  w.commit(5000);
  assert.equal(w.check(1), 'too-old');
  assert.equal(w.check(4999), 'ok');
  assert.equal(w.check(5000), 'replay');
});

test('property: garbage and truncated datagrams never throw and are counted as a known reason', () => {
  const o = new TunnelOpener(key, 'a', 'b');
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (g, typed) => {
    const d = Buffer.from(g);
    if (typed && d.length) d[0] = 1;
    const r = o.open(d);
    assert.equal(r.ok, false);
    if (!r.ok) assert.ok((TUNNEL_DROP_REASONS as readonly string[]).includes(r.reason));
  }), { numRuns: 500 });
});

test('property: any single-byte change to a sealed packet is refused', () => {
  const s = new TunnelSealer(key, 'a', 'b');
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (p, pos, x) => {
    const d = s.seal(p);
    const i = pos % d.length;
    d[i] = d[i]! ^ x;
    const r = new TunnelOpener(key, 'a', 'b').open(d);
    assert.equal(r.ok, false);
  }), { numRuns: 500 });
});

test('control datagrams are type 02 followed by the control message', () => {
  assert.equal(encodeTunnelControl(Buffer.from('HNT')).toString('hex'), '02484e54');
});
