// Tests of the control protocol codec (round trips, golden bytes, garbage/truncation/bit flips) and the ReplayGuard.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import {
  ControlSender, DECODE_REASONS, decodeControl, deriveControlKey, encodeControl, type DecodeResult,
} from '../../src/proto/control.js';
import type { PeerMessage } from '../../src/core/messages.js';
import { ReplayGuard } from '../../src/proto/replay.js';
import { isHanetError } from '../../src/errors.js';

const clusterKey = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const key = deriveControlKey(clusterKey);
const otherKey = deriveControlKey(Buffer.alloc(32, 0xaa));
const T0 = 1_700_000_000_000;
const hdr = (seq = 1n, over: Partial<{ sender: string; recipient: string; session: string; sentAt: number }> = {}) =>
  ({ sender: 'a', recipient: 'b', session: '0102030405060708', seq, sentAt: T0, ...over });

const claim = { claimId: 'a-1', lan: 'lan0', addresses: ['10.0.0.11/24'], ownerLinkAddress: '192.168.100.1', leaseMs: 3000 };
const samples: PeerMessage[] = [
  { type: 'heartbeat', lans: { lan0: { healthy: true }, lan1: { healthy: false } }, canHelp: true, helping: [], claims: [] },
  { type: 'heartbeat', lans: {}, canHelp: false, helping: ['c', 'd'], claims: [claim, { ...claim, claimId: 'a-2', addresses: ['10.0.0.12'] }], echo: { seq: 41, at: T0 - 20, holdMs: 3 } },
  { type: 'takeover', ...claim },
  { type: 'takeover-ack', claimId: 'a-1', ok: true },
  { type: 'takeover-ack', claimId: 'a-1', ok: false, reason: 'cannot-help' },
  { type: 'release', claimId: 'a-1' },
  { type: 'release-ack', claimId: 'a-1' },
];

const DECODE = new Set<string>(DECODE_REASONS);
function assertRejected(r: DecodeResult, why: string): void {
  assert.equal(r.ok, false, `${why}: accepted`);
  if (!r.ok) assert.ok(DECODE.has(r.reason), `${why}: unknown reason ${r.reason}`);
}

/** Builds an authenticated envelope by hand (to test what only a key holder could send: bad types, bodies). */
function craft(typeCode: number, body: Buffer, k = key): Buffer {
  const head = Buffer.concat([
    Buffer.from('HNT'), Buffer.from([1, typeCode, 0, 1]), Buffer.from('a'), Buffer.from([1]), Buffer.from('b'),
    Buffer.from('0102030405060708', 'hex'), Buffer.from('0000000000000001', 'hex'), Buffer.from('0000018bcfe56800', 'hex'),
  ]);
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length);
  const m = Buffer.concat([head, len, body]);
  return Buffer.concat([m, createHmac('sha256', k.macKey).update(m).digest()]);
}

test('every message type round-trips', () => {
  samples.forEach((msg, i) => {
    const bytes = encodeControl(key, hdr(BigInt(i + 1)), msg);
    const r = decodeControl(key, bytes, { recipient: 'b' });
    assert.ok(r.ok, `${msg.type}: ${r.ok ? '' : r.reason}`);
    assert.deepEqual(r.message, msg);
    assert.deepEqual(r.envelope, { version: 1, type: msg.type, flags: 0, sender: 'a', recipient: 'b', session: '0102030405060708', seq: BigInt(i + 1), sentAt: T0 });
  });
});

test('golden vector: the wire format does not drift', () => {
  // Verified independently with Python's hmac/hashlib (HKDF-SHA256 with empty salt, info "hanet control v1").
  assert.equal(key.macKey.toString('hex'), 'dd9bde9d4a45076a8b2e949d768913bee0742e4bc0858b2f3594254aafd89d69');
  const golden =
    '484e54' + '01' + '02' + '00' + '01' + '61' + '01' + '62' + '0102030405060708' + '0000000000000001' + '0000018bcfe56800' + '006d' +
    '7b22636c61696d4964223a22612d31222c226c616e223a226c616e30222c22616464726573736573223a5b2231302e302e302e31312f3234225d2c' +
    '226f776e65724c696e6b41646472657373223a223139322e3136382e3130302e31222c226c656173654d73223a333030307d' +
    'c09fa30279844b094007fd445543f5acff551380a08fbd7dcd64dd83675af6a5';
  const bytes = encodeControl(key, hdr(1n), { type: 'takeover', ...claim });
  assert.equal(bytes.toString('hex'), golden);
  const r = decodeControl(key, Buffer.from(golden, 'hex'));
  assert.ok(r.ok);
  assert.deepEqual(r.message, { type: 'takeover', ...claim });
});

test('key order of the input does not change the bytes', () => {
  const a = encodeControl(key, hdr(), { type: 'takeover', ...claim });
  const b = encodeControl(key, hdr(), { leaseMs: 3000, ownerLinkAddress: '192.168.100.1', addresses: ['10.0.0.11/24'], lan: 'lan0', claimId: 'a-1', type: 'takeover' });
  assert.deepEqual(a, b);
});

test('forged message (wrong key) is rejected as bad-mac', () => {
  for (const msg of samples) {
    const r = decodeControl(key, encodeControl(otherKey, hdr(), msg));
    assert.deepEqual(r.ok ? 'accepted' : r.reason, 'bad-mac');
  }
});

test('message for another node is rejected as wrong-recipient', () => {
  const r = decodeControl(key, encodeControl(key, hdr(1n, { recipient: 'c' }), samples[0]!), { recipient: 'b' });
  assert.equal(r.ok ? 'accepted' : r.reason, 'wrong-recipient');
});

test('framing errors have their own reasons', () => {
  const good = encodeControl(key, hdr(), samples[0]!);
  const cases: Array<[string, Buffer, string]> = [
    ['empty', Buffer.alloc(0), 'truncated'],
    ['wrong magic', Buffer.concat([Buffer.from('XNT'), good.subarray(3)]), 'bad-magic'],
    ['short garbage', Buffer.from([0x00]), 'bad-magic'],
    ['version 2', Buffer.concat([good.subarray(0, 3), Buffer.from([2]), good.subarray(4)]), 'bad-version'],
    ['trailing byte', Buffer.concat([good, Buffer.from([0])]), 'bad-length'],
    ['oversize', Buffer.concat([good.subarray(0, 4), Buffer.alloc(20_000)]), 'oversize'],
    ['sender length 0', Buffer.concat([good.subarray(0, 6), Buffer.from([0]), good.subarray(7)]), 'bad-header'],
    ['unknown type', craft(9, Buffer.from('{}')), 'bad-type'],
    ['body not JSON', craft(4, Buffer.from('{"claimId":')), 'bad-body'],
    ['body not UTF-8', craft(4, Buffer.from([0xff, 0xfe])), 'bad-body'],
    ['body fails the schema', craft(4, Buffer.from('{"claimId":""}')), 'bad-body'],
    ['body is an array', craft(4, Buffer.from('[]')), 'bad-body'],
    ['address not IPv4', craft(2, Buffer.from(JSON.stringify({ ...claim, addresses: ['10.0.0.256'] }))), 'bad-body'],
  ];
  for (const [name, bytes, reason] of cases) {
    const r = decodeControl(key, bytes);
    assert.equal(r.ok ? 'accepted' : r.reason, reason, name);
  }
});

test('unknown body fields are ignored (forward compatibility within version 1)', () => {
  const r = decodeControl(key, craft(4, Buffer.from('{"claimId":"x","future":1}')));
  assert.ok(r.ok);
  assert.deepEqual(r.message, { type: 'release', claimId: 'x' });
});

test('encoding an invalid message throws HANET_ERR_PROTOCOL', () => {
  assert.throws(() => encodeControl(key, hdr(), { type: 'release', claimId: '' }), (e) => isHanetError(e, 'HANET_ERR_PROTOCOL'));
  assert.throws(() => encodeControl(key, hdr(0n), samples[0]!), (e) => isHanetError(e, 'HANET_ERR_PROTOCOL'));
  assert.throws(() => encodeControl(key, hdr(1n, { sender: 'A B' }), samples[0]!), (e) => isHanetError(e, 'HANET_ERR_PROTOCOL'));
  assert.throws(() => encodeControl(key, hdr(), { type: 'takeover', ...claim, addresses: Array.from({ length: 257 }, () => '10.0.0.1') }), (e) => isHanetError(e, 'HANET_ERR_PROTOCOL'));
});

test('truncation at every length is rejected as truncated', () => {
  for (const msg of samples) {
    const bytes = encodeControl(key, hdr(), msg);
    for (let n = 0; n < bytes.length; n++) {
      const r = decodeControl(key, bytes.subarray(0, n));
      assert.equal(r.ok ? 'accepted' : r.reason, 'truncated', `${msg.type} cut at ${n}`);
    }
  }
});

test('every single bit flip is rejected (exhaustive)', () => {
  for (const msg of samples) {
    const bytes = encodeControl(key, hdr(), msg);
    for (let i = 0; i < bytes.length * 8; i++) {
      const b = Buffer.from(bytes);
      b[i >> 3]! ^= 1 << (i & 7);
      assertRejected(decodeControl(key, b), `${msg.type} bit ${i}`);
    }
  }
});

test('property: random garbage is a typed rejection, never a throw', () => {
  const valid = encodeControl(key, hdr(), samples[1]!);
  fc.assert(fc.property(
    fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      // garbage behind a valid prefix, so the deeper framing paths are exercised too
      fc.tuple(fc.integer({ min: 0, max: valid.length }), fc.uint8Array({ maxLength: 300 }))
        .map(([n, tail]) => Buffer.concat([valid.subarray(0, n), tail])),
    ),
    (bytes) => {
      if (Buffer.from(bytes).equals(valid)) return; // the whole valid message with an empty tail
      assertRejected(decodeControl(key, bytes), 'garbage');
    },
  ), { numRuns: 3000 });
});

test('property: multiple random byte changes are rejected', () => {
  const valid = encodeControl(key, hdr(), samples[1]!);
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }),
    (edits) => {
      const b = Buffer.from(valid);
      for (const [at, x] of edits) b[at]! ^= x;
      if (b.equals(valid)) return; // edits cancelled out
      assertRejected(decodeControl(key, b), 'edited');
    },
  ), { numRuns: 2000 });
});

test('property: round trip of random valid messages', () => {
  const name = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,10}$/);
  const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
  const arbClaim = fc.record({
    claimId: fc.stringMatching(/^[A-Za-z0-9._:-]{1,20}$/), lan: name,
    addresses: fc.array(fc.oneof(ip, fc.tuple(ip, fc.nat(32)).map(([a, l]) => `${a}/${l}`)), { minLength: 1, maxLength: 4 }),
    ownerLinkAddress: ip, leaseMs: fc.integer({ min: 1, max: 3_600_000 }),
  });
  const arbMsg: fc.Arbitrary<PeerMessage> = fc.oneof(
    fc.record({
      type: fc.constant('heartbeat' as const),
      lans: fc.dictionary(name, fc.record({ healthy: fc.boolean() }), { maxKeys: 4 }),
      canHelp: fc.boolean(), helping: fc.array(name, { maxLength: 3 }), claims: fc.array(arbClaim, { maxLength: 3 }),
    }),
    arbClaim.map((c) => ({ type: 'takeover' as const, ...c })),
    fc.record({ type: fc.constant('release' as const), claimId: fc.stringMatching(/^[a-z0-9]{1,10}$/) }),
  );
  fc.assert(fc.property(arbMsg, fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }), fc.nat(), (msg, seq, sentAt) => {
    const r = decodeControl(key, encodeControl(key, hdr(seq, { sentAt }), msg));
    assert.ok(r.ok);
    assert.deepEqual(r.message, JSON.parse(JSON.stringify(msg))); // fast-check makes null-prototype objects
    assert.equal(r.envelope.seq, seq);
    assert.equal(r.envelope.sentAt, sentAt);
  }), { numRuns: 500 });
});

test('ControlSender numbers messages from 1 and keeps one session', () => {
  const s = new ControlSender({ node: 'a', key, now: () => T0 });
  const r1 = decodeControl(key, s.encode('b', samples[0]!).bytes);
  const r2 = decodeControl(key, s.encode('c', samples[0]!).bytes);
  assert.ok(r1.ok && r2.ok);
  assert.equal(r1.envelope.seq, 1n);
  assert.equal(r2.envelope.seq, 2n);
  assert.equal(r1.envelope.session, r2.envelope.session);
  assert.equal(r2.envelope.recipient, 'c');
  assert.throws(() => s.encode('b', { type: 'release', claimId: '' }));
  assert.equal(s.nextSeq, 3n, 'a failed encode does not use a sequence number');
});

// ---------------------------------------------------------------------------------------------------------------
// ReplayGuard

const clock = (t = T0) => { const c = { t, now: () => c.t }; return c; };
const m = (seq: number, over: Partial<{ sender: string; session: string; sentAt: number }> = {}) =>
  ({ sender: 'a', session: 's1', seq: BigInt(seq), sentAt: T0, ...over });
const verdict = (v: { ok: boolean; reason?: string }) => (v.ok ? 'ok' : v.reason);

test('replayed message is rejected as replay', () => {
  const g = new ReplayGuard({ now: clock().now });
  assert.equal(verdict(g.admit(m(1))), 'ok');
  assert.equal(verdict(g.admit(m(1))), 'replay');
  assert.equal(verdict(g.admit(m(2))), 'ok');
  assert.equal(verdict(g.admit(m(2))), 'replay');
  assert.equal(verdict(g.admit(m(1))), 'replay');
});

test('reordering within the window is accepted once; older than the window is too-old', () => {
  const g = new ReplayGuard({ now: clock().now });
  assert.equal(verdict(g.admit(m(100))), 'ok');
  assert.equal(verdict(g.admit(m(99))), 'ok');
  assert.equal(verdict(g.admit(m(37))), 'ok'); // 100 - 63: last slot of the window
  assert.equal(verdict(g.admit(m(37))), 'replay');
  assert.equal(verdict(g.admit(m(36))), 'too-old');
  assert.equal(verdict(g.admit(m(99))), 'replay');
  assert.equal(verdict(g.admit(m(200))), 'ok'); // a jump past the window forgets the old bits
  assert.equal(verdict(g.admit(m(150))), 'ok');
  assert.equal(verdict(g.admit(m(100))), 'too-old');
});

test('check() does not change state', () => {
  const g = new ReplayGuard({ now: clock().now });
  assert.equal(verdict(g.check(m(1))), 'ok');
  assert.equal(verdict(g.check(m(1))), 'ok');
  assert.equal(verdict(g.admit(m(1))), 'ok');
  assert.equal(verdict(g.check(m(1))), 'replay');
});

test('send time outside the skew is rejected as stale, both directions', () => {
  const c = clock();
  const g = new ReplayGuard({ now: c.now, maxSkewMs: 30_000 });
  assert.equal(verdict(g.admit(m(1, { sentAt: T0 - 30_001 }))), 'stale');
  assert.equal(verdict(g.admit(m(2, { sentAt: T0 + 30_001 }))), 'stale');
  assert.equal(verdict(g.admit(m(3, { sentAt: T0 - 30_000 }))), 'ok');
  c.t += 30_001;
  assert.equal(verdict(g.admit(m(4))), 'stale', 'a message held back for longer than the skew');
});

test('after a restart, replays from the earlier session are rejected', () => {
  const c = clock();
  const g = new ReplayGuard({ now: c.now });
  for (let i = 1; i <= 10; i++) assert.equal(verdict(g.admit(m(i, { sentAt: T0 + i }))), 'ok');
  c.t += 1000;
  // restart: new session, seq starts again at 1
  assert.equal(verdict(g.admit(m(1, { session: 's2', sentAt: T0 + 1000 }))), 'ok');
  assert.equal(verdict(g.admit(m(5, { sentAt: T0 + 5 }))), 'stale-session', 'seen message of the old session');
  assert.equal(verdict(g.admit(m(11, { sentAt: T0 + 11 }))), 'stale-session', 'unseen (captured) message of the old session');
  assert.equal(verdict(g.admit(m(1, { session: 's0', sentAt: T0 - 500 }))), 'stale-session', 'a session older than the current one, never seen');
  assert.equal(verdict(g.admit(m(2, { session: 's2', sentAt: T0 + 1001 }))), 'ok');
});

test('a sender silent longer than 2 * maxSkew starts afresh', () => {
  const c = clock();
  const g = new ReplayGuard({ now: c.now, maxSkewMs: 1000 });
  assert.equal(verdict(g.admit(m(5))), 'ok');
  c.t += 2001;
  assert.equal(verdict(g.admit(m(1, { session: 's2', sentAt: c.t }))), 'ok');
  assert.equal(verdict(g.admit(m(6, { sentAt: c.t }))), 'stale-session');
  assert.deepEqual(g.stats(), { senders: 1, sessions: 1 });
});

test('memory is bounded: sessions per sender and senders', () => {
  const c = clock();
  const g = new ReplayGuard({ now: c.now, maxSessionsPerSender: 8, maxSenders: 4 });
  for (let i = 0; i < 50; i++) {
    c.t += 1;
    assert.equal(verdict(g.admit(m(1, { session: `s${i}`, sentAt: c.t }))), 'ok');
  }
  assert.deepEqual(g.stats(), { senders: 1, sessions: 8 });
  for (let i = 0; i < 10; i++) { c.t += 1; g.admit(m(1, { sender: `n${i}`, sentAt: c.t })); }
  assert.deepEqual(g.stats().senders, 4);
});

test('senders are independent', () => {
  const g = new ReplayGuard({ now: clock().now });
  assert.equal(verdict(g.admit(m(1))), 'ok');
  assert.equal(verdict(g.admit(m(1, { sender: 'c' }))), 'ok');
});

test('property: the guard matches a reference model of the 64-entry window', () => {
  fc.assert(fc.property(fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 400 }), (seqs) => {
    const g = new ReplayGuard({ now: clock().now });
    const seen = new Set<number>();
    let highest = 0;
    for (const s of seqs) {
      let expect: string;
      if (seen.has(s)) expect = highest - s >= 64 ? 'too-old' : 'replay';
      else if (highest > 0 && highest - s >= 64) expect = 'too-old';
      else expect = 'ok';
      assert.equal(verdict(g.admit(m(s))), expect, `seq ${s} after highest ${highest}`);
      if (expect === 'ok') { seen.add(s); highest = Math.max(highest, s); }
    }
  }), { numRuns: 300 });
});
