// ARP codec tests: hex frames (RFC 826 layout, as Linux sends them) and fast-check properties.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ARP_REPLY, ARP_REQUEST, arpProbe, arpReply, decodeArp, decodeEthernetArp, encodeArp, encodeEthernetArp, gratuitousArp,
} from '../../src/proto/arp.js';
import { fromHex, toHex } from '../../src/proto/netlink.js';

const MAC_A = 'ee:bf:8b:31:66:2f';

test('gratuitous ARP is a request with sender IP = target IP and zero target MAC', () => {
  const b = encodeArp(gratuitousArp('10.0.0.11', MAC_A));
  assert.equal(toHex(b), '0001080006040001' + 'eebf8b31662f' + '0a00000b' + '000000000000' + '0a00000b');
});

test('probe uses sender IP 0.0.0.0', () => {
  const b = encodeArp(arpProbe('10.0.0.2', MAC_A));
  assert.equal(toHex(b), '0001080006040001' + 'eebf8b31662f' + '00000000' + '000000000000' + '0a000002');
});

test('decodes a Linux reply to a probe (padded to the Ethernet minimum)', () => {
  // Linux answers a 0.0.0.0-sender probe to the prober's MAC with tip 0.0.0.0 (arp_process, sip == 0 branch).
  const payload = fromHex('0001080006040002a2ed2a5e44280a000002eebf8b31662f00000000' + '00'.repeat(18));
  const r = decodeArp(payload);
  assert.deepEqual(r, { ok: true, value: { op: ARP_REPLY, senderMac: 'a2:ed:2a:5e:44:28', senderIp: '10.0.0.2', targetMac: MAC_A, targetIp: '0.0.0.0' } });
});

test('whole Ethernet frame round-trip and rejects', () => {
  const e = { dst: 'ff:ff:ff:ff:ff:ff', src: MAC_A, arp: arpReply('10.0.0.1', MAC_A, '10.0.0.2', 'a2:ed:2a:5e:44:28') };
  const f = encodeEthernetArp(e);
  assert.equal(f.length, 60);
  assert.deepEqual(decodeEthernetArp(f), { ok: true, value: e });
  const ip = Uint8Array.from(f); ip[12] = 0x08; ip[13] = 0x00;
  assert.equal((decodeEthernetArp(ip) as { ok: false; error: { reason: string } }).error.reason, 'not-arp');
});

test('typed errors', () => {
  const reason = (b: Uint8Array) => { const r = decodeArp(b); return r.ok ? 'ok' : r.error.reason; };
  assert.equal(reason(new Uint8Array(27)), 'short');
  assert.equal(reason(fromHex('0006080006040001' + '00'.repeat(20))), 'not-ethernet-ipv4'); // IEEE 802 htype
  assert.equal(reason(fromHex('000186dd06100001' + '00'.repeat(20))), 'not-ethernet-ipv4');
  assert.equal(reason(fromHex('0001080006040000' + '00'.repeat(20))), 'bad-opcode');
  assert.throws(() => encodeArp(gratuitousArp('10.0.0.256', MAC_A)), RangeError);
  assert.throws(() => encodeArp(gratuitousArp('10.0.0.1', 'zz:00:00:00:00:00')), RangeError);
});

test('property: decoders never throw on garbage', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (b) => { decodeArp(b); decodeEthernetArp(b); }), { numRuns: 3000 });
});

test('property: encode -> decode round-trips', () => {
  const ip = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((t) => t.join('.'));
  const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'));
  fc.assert(fc.property(fc.record({ op: fc.integer({ min: 1, max: 0xffff }), senderMac: mac, senderIp: ip, targetMac: mac, targetIp: ip }), (p) => {
    assert.deepEqual(decodeArp(encodeArp(p)), { ok: true, value: { ...p } });
  }));
  assert.equal(ARP_REQUEST, 1);
});
