// udp link datagrams: AES-256-GCM sealing with keys of a pair of live sessions, one receive state per link (no
// cyclable session cache), replay window, and garbage/tampering property tests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  deriveTunnelKey, encodeTunnelControl, ReplayWindow, REPLAY_WINDOW_PACKETS, TunnelOpener, TunnelSealer, TUNNEL_OVERHEAD, tunnelMtu, TUNNEL_DROP_REASONS,
} from '../../src/proto/udp-tunnel.js';

const key = Buffer.alloc(32, 7);
const pkt = (n: number, fill = 0x45): Buffer => Buffer.alloc(n, fill);
const A = { node: 'a', session: '0102030405060708' };
const B = { node: 'b', session: '1112131415161718' };
/** a seals for b (session pair A, B) on link l; b opens what a's session A sends. */
const sealer = (from = A, to = B, link = 'l') => new TunnelSealer(key, link, from, to);
const opener = (to = B, link = 'l', from = 'a') => new TunnelOpener(key, link, from, to);

test('seal/open round trip; header layout; overhead and MTU', () => {
  const d = sealer().seal(pkt(100));
  assert.equal(d.length, 100 + TUNNEL_OVERHEAD);
  assert.equal(d.subarray(0, 17).toString('hex'), '01' + A.session + '0000000000000001');
  const o = opener();
  const r = o.open(d, A.session);
  assert.ok(r.ok);
  assert.deepEqual(r.packet, pkt(100));
  assert.equal(o.session, A.session);
  assert.equal(tunnelMtu(1500), 1439);
  assert.notEqual(d.subarray(17, 117).toString('hex'), pkt(100).toString('hex'), 'the ciphertext is not the plaintext');
});

test('keys: both sessions, the direction and the link are in the key', () => {
  const k = deriveTunnelKey(key, 'l', A, B);
  assert.notDeepEqual(k, deriveTunnelKey(key, 'l', B, A));
  assert.notDeepEqual(k, deriveTunnelKey(key, 'l2', A, B));
  assert.notDeepEqual(k, deriveTunnelKey(key, 'l', A, { ...B, session: '1112131415161719' }));
  assert.notDeepEqual(k, deriveTunnelKey(key, 'l', { ...A, session: '0102030405060709' }, B));
  assert.notDeepEqual(k, deriveTunnelKey(Buffer.alloc(32, 8), 'l', A, B));
});

test('a packet sealed for another direction, link, key, or an earlier session of the receiver does not open', () => {
  const d = sealer().seal(pkt(60));
  assert.deepEqual(new TunnelOpener(key, 'l', 'b', A).open(sealer(B, A).seal(pkt(60)), A.session), { ok: false, reason: 'stale-session' }, 'reflected: b->a under a\'s session id');
  assert.deepEqual(opener(B, 'l2').open(d, A.session), { ok: false, reason: 'bad-tag' }, 'other link');
  assert.deepEqual(new TunnelOpener(Buffer.alloc(32, 8), 'l', 'a', B).open(d, A.session), { ok: false, reason: 'bad-tag' }, 'other key');
  assert.deepEqual(opener({ ...B, session: '2122232425262728' }).open(d, A.session), { ok: false, reason: 'bad-tag' }, 'sealed for an earlier session of the receiver');
  assert.deepEqual(opener().open(d, undefined), { ok: false, reason: 'no-session' }, 'no peer session adopted yet');
});

test('only the adopted peer session opens: packets of every earlier session are refused, in any order, forever', () => {
  const o = opener();
  // Five sessions of a, one after the other (a restarted four times); b adopted each in turn.
  const sessions = ['a1', 'a2', 'a3', 'a4', 'a5'].map((_, i) => ({ node: 'a', session: `00000000000000a${i}` }));
  const captured = sessions.map((s) => { const x = sealer(s); return Array.from({ length: 10 }, () => x.seal(pkt(40))); });
  sessions.forEach((s, i) => { for (const d of captured[i]!) assert.ok(o.open(d, s.session).ok); });
  const live = sessions[4]!;
  // The attack of issue #11: replay the old sessions' packets, oldest first, to cycle a session cache.
  let accepted = 0;
  for (let round = 0; round < 3; round++) for (const ds of captured) for (const d of ds) if (o.open(d, live.session).ok) accepted++;
  assert.equal(accepted, 0);
  const r = o.open(captured[0]![0]!, live.session);
  assert.deepEqual(r, { ok: false, reason: 'stale-session' });
  assert.ok(o.open(sealer(live).seal(pkt(40)), live.session).ok === false, 'a second sealer of the same session restarts its counter: refused as a replay');
});

test('replay: a packet opens once; old packets beyond the window are refused; reordering within it is fine', () => {
  const s = sealer();
  const o = opener();
  const ds = Array.from({ length: 5 }, () => s.seal(pkt(40)));
  assert.ok(o.open(ds[4]!, A.session).ok);
  assert.ok(o.open(ds[1]!, A.session).ok, 'reordered');
  assert.deepEqual(o.open(ds[1]!, A.session), { ok: false, reason: 'replay' });
  for (let i = 0; i < REPLAY_WINDOW_PACKETS + 1; i++) assert.ok(o.open(s.seal(pkt(20)), A.session).ok);
  assert.deepEqual(o.open(ds[0]!, A.session), { ok: false, reason: 'too-old' });
  // A tampered packet does not move the window: the genuine one still opens afterwards.
  const next = s.seal(pkt(30));
  const bad = Buffer.from(next); bad[20] = bad[20]! ^ 1;
  assert.deepEqual(o.open(bad, A.session), { ok: false, reason: 'bad-tag' });
  assert.ok(o.open(next, A.session).ok);
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
  const o = opener();
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), fc.boolean(), (g, typed, sameSession) => {
    const d = Buffer.from(g);
    if (typed && d.length) d[0] = 1;
    if (sameSession && d.length >= 9) d.write(A.session, 1, 'hex');
    const r = o.open(d, A.session);
    assert.equal(r.ok, false);
    if (!r.ok) assert.ok((TUNNEL_DROP_REASONS as readonly string[]).includes(r.reason));
  }), { numRuns: 500 });
});

test('property: any single-byte change to a sealed packet is refused', () => {
  const s = sealer();
  fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (p, pos, x) => {
    const d = s.seal(p);
    const i = pos % d.length;
    d[i] = d[i]! ^ x;
    assert.equal(opener().open(d, A.session).ok, false);
  }), { numRuns: 500 });
});

test('control datagrams are type 02 followed by the control message', () => {
  assert.equal(encodeTunnelControl(Buffer.from('HNT')).toString('hex'), '02484e54');
});
