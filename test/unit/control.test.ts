// Tests of the control protocol codec, wire version 2 (round trips, golden bytes, v1 refused, garbage/truncation/bit
// flips) and the ControlSender. The ReplayGuard (session binding) has its own file, replay.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import {
  ControlSender, DECODE_REASONS, decodeControl, deriveControlKey, encodeControl, NO_NONCE, type DecodeResult,
} from '../../src/proto/control.js';
import type { PeerMessage } from '../../src/core/messages.js';
import { isHanetError } from '../../src/errors.js';

const clusterKey = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const key = deriveControlKey(clusterKey);
const otherKey = deriveControlKey(Buffer.alloc(32, 0xaa));
const T0 = 1_700_000_000_000;
const NONCE = '1112131415161718';
const ECHO = '2122232425262728';
const hdr = (seq = 1n, over: Partial<{ sender: string; recipient: string; session: string; nonce: string; echo: string; sentAt: number }> = {}) =>
  ({ sender: 'a', recipient: 'b', session: '0102030405060708', nonce: NONCE, echo: ECHO, seq, sentAt: T0, ...over });

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
function craft(typeCode: number, body: Buffer, k = key, o: { version?: number; nonce?: string } = {}): Buffer {
  const head = Buffer.concat([
    Buffer.from('HNT'), Buffer.from([o.version ?? 2, typeCode, 0, 1]), Buffer.from('a'), Buffer.from([1]), Buffer.from('b'),
    Buffer.from('0102030405060708', 'hex'), Buffer.from(o.nonce ?? NONCE, 'hex'), Buffer.from(ECHO, 'hex'),
    Buffer.from('0000000000000001', 'hex'), Buffer.from('0000018bcfe56800', 'hex'),
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
    assert.deepEqual(r.envelope, { version: 2, type: msg.type, flags: 0, sender: 'a', recipient: 'b', session: '0102030405060708', nonce: NONCE, echo: ECHO, seq: BigInt(i + 1), sentAt: T0 });
  });
});

test('golden vector: the wire format (version 2) does not drift', () => {
  // Verified independently with Python's hmac/hashlib (HKDF-SHA256 with empty salt, info "hanet control v2"; the
  // HMAC over header + body). Changed deliberately for v2 (issue #11): version 2, nonce and echo after the session.
  assert.equal(key.macKey.toString('hex'), '2dbdd7a2055ae45ae5c68b9042d61cbf51e4192aa52bd7f662a8c67e0f702ac8');
  const golden =
    '484e54' + '02' + '02' + '00' + '01' + '61' + '01' + '62' + '0102030405060708' + '1112131415161718' + '2122232425262728' +
    '0000000000000001' + '0000018bcfe56800' + '006d' +
    '7b22636c61696d4964223a22612d31222c226c616e223a226c616e30222c22616464726573736573223a5b2231302e302e302e31312f3234225d2c' +
    '226f776e65724c696e6b41646472657373223a223139322e3136382e3130302e31222c226c656173654d73223a333030307d' +
    '8fa6539ef363677d739c06fa51cb10c699c9a6775f537bd1c2f244de4b18a1dc';
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
    ['version 1', Buffer.concat([good.subarray(0, 3), Buffer.from([1]), good.subarray(4)]), 'bad-version'],
    ['version 3', Buffer.concat([good.subarray(0, 3), Buffer.from([3]), good.subarray(4)]), 'bad-version'],
    ['nonce 0', craft(4, Buffer.from('{"claimId":"x"}'), key, { nonce: NO_NONCE }), 'bad-header'],
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

test('a version 1 message (the v1 golden vector) is refused as bad-version', () => {
  const v1 = '484e540102000161016201020304050607080000000000000001' + '0000018bcfe56800006d' +
    '7b22636c61696d4964223a22612d31222c226c616e223a226c616e30222c22616464726573736573223a5b2231302e302e302e31312f3234225d2c' +
    '226f776e65724c696e6b41646472657373223a223139322e3136382e3130302e31222c226c656173654d73223a333030307d' +
    'c09fa30279844b094007fd445543f5acff551380a08fbd7dcd64dd83675af6a5';
  const r = decodeControl(key, Buffer.from(v1, 'hex'));
  assert.deepEqual(r.ok ? 'accepted' : [r.reason, r.detail], ['bad-version', 'version 1']);
});

test('unknown body fields are ignored (forward compatibility within a version)', () => {
  const r = decodeControl(key, craft(4, Buffer.from('{"claimId":"x","future":1}')));
  assert.ok(r.ok);
  assert.deepEqual(r.message, { type: 'release', claimId: 'x' });
});

test('encoding an invalid message throws HANET_ERR_PROTOCOL', () => {
  assert.throws(() => encodeControl(key, hdr(), { type: 'release', claimId: '' }), (e) => isHanetError(e, 'HANET_ERR_PROTOCOL'));
  assert.throws(() => encodeControl(key, hdr(0n), samples[0]!), (e) => isHanetError(e, 'HANET_ERR_PROTOCOL'));
  assert.throws(() => encodeControl(key, hdr(1n, { sender: 'A B' }), samples[0]!), (e) => isHanetError(e, 'HANET_ERR_PROTOCOL'));
  assert.throws(() => encodeControl(key, hdr(1n, { nonce: NO_NONCE }), samples[0]!), (e) => isHanetError(e, 'HANET_ERR_PROTOCOL'));
  assert.throws(() => encodeControl(key, hdr(1n, { echo: 'xyz' }), samples[0]!), (e) => isHanetError(e, 'HANET_ERR_PROTOCOL'));
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
  const hex8 = fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.from(b).toString('hex'));
  fc.assert(fc.property(arbMsg, fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }), fc.nat(), hex8, hex8, (msg, seq, sentAt, nonce, echo) => {
    fc.pre(nonce !== NO_NONCE);
    const r = decodeControl(key, encodeControl(key, hdr(seq, { sentAt, nonce, echo }), msg));
    assert.ok(r.ok);
    assert.equal(r.envelope.nonce, nonce);
    assert.equal(r.envelope.echo, echo);
    assert.deepEqual(r.message, JSON.parse(JSON.stringify(msg))); // fast-check makes null-prototype objects
    assert.equal(r.envelope.seq, seq);
    assert.equal(r.envelope.sentAt, sentAt);
  }), { numRuns: 500 });
});

test('ControlSender numbers messages from 1, keeps one session, and carries the binding it is given', () => {
  const s = new ControlSender({ node: 'a', key, now: () => T0 });
  const r1 = decodeControl(key, s.encode('b', samples[0]!, { nonce: NONCE, echo: NO_NONCE }).bytes);
  const r2 = decodeControl(key, s.encode('c', samples[0]!, { nonce: ECHO, echo: NONCE }).bytes);
  assert.ok(r1.ok && r2.ok);
  assert.equal(r1.envelope.seq, 1n);
  assert.equal(r2.envelope.seq, 2n);
  assert.equal(r1.envelope.session, r2.envelope.session);
  assert.match(r1.envelope.session, /^[0-9a-f]{16}$/);
  assert.deepEqual([r1.envelope.nonce, r1.envelope.echo, r2.envelope.nonce, r2.envelope.echo], [NONCE, NO_NONCE, ECHO, NONCE]);
  assert.equal(r2.envelope.recipient, 'c');
  assert.equal(r1.envelope.sentAt, T0);
  assert.throws(() => s.encode('b', { type: 'release', claimId: '' }, { nonce: NONCE, echo: NO_NONCE }));
  assert.equal(s.nextSeq, 3n, 'a failed encode does not use a sequence number');
});
