// NDP codec tests: IPv6 packets captured with tcpdump in lab namespaces (Linux 6.18's own NS/NA, proxied NAs),
// the RFC 4861 rules the encoder enforces and the decoder checks, and fast-check properties (garbage never throws).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeNdp, encodeNdp, icmpv6Checksum, multicastMac, neighborSolicitation, unsolicitedAdvertisement,
  type NdpMessage,
} from '../../src/proto/ndp.js';
import { fromHex, toHex } from '../../src/proto/netlink.js';
import { formatIp } from '../../src/core/ip.js';

const hex = (s: string): Uint8Array => fromHex(s.replace(/\s+/g, ''));
const reason = (b: Uint8Array): string => { const r = decodeNdp(b); return r.ok ? 'ok' : r.error.reason; };

// Captured on the router's port of a bridge LAN: router 2001:db8:1::1 (02:00:00:00:00:01), hosts ::11 and ::12.
const KERNEL_NS = hex(`6000 0000 0020 3aff 2001 0db8 0001 0000 0000 0000 0000 0001 ff02 0000 0000 0000 0000 0001 ff00 0011
  8700 1c07 0000 0000 2001 0db8 0001 0000 0000 0000 0000 0011 0101 0200 0000 0001`);
const KERNEL_NA = hex(`6000 0000 0020 3aff 2001 0db8 0001 0000 0000 0000 0000 0011 2001 0db8 0001 0000 0000 0000 0000 0001
  8800 8a41 6000 0000 2001 0db8 0001 0000 0000 0000 0000 0011 0201 0200 0000 0011`);
// A router's answer to an NS from '::': to all-nodes, Solicited clear, Router and Override set.
const NA_TO_ALL_NODES = hex(`6000 0000 0020 3aff 2001 0db8 0001 0000 0000 0000 0000 0012 ff02 0000 0000 0000 0000 0000 0000 0001
  8800 78f5 a000 0000 2001 0db8 0001 0000 0000 0000 0000 0012 0201 0200 0000 0012`);
// Helper ::12 answering for proxied ::11 (ip -6 neigh add proxy): Solicited only (Override clear), its own MAC.
const PROXIED_NA = hex(`6000 0000 0020 3aff 2001 0db8 0001 0000 0000 0000 0000 0012 2001 0db8 0001 0000 0000 0000 0000 0001
  8800 aa3f 4000 0000 2001 0db8 0001 0000 0000 0000 0000 0011 0201 0200 0000 0012`);
// The same helper answering a unicast NS (a router's entry in PROBE): no target link-layer option.
const PROXIED_NA_UNICAST = hex(`6000 0000 0018 3aff fe80 0000 0000 0000 0000 00ff fe00 0012 fe80 0000 0000 0000 0000 00ff fe00 0001
  8800 0ecd 4000 0000 2001 0db8 0001 0000 0000 0000 0000 0011`);
// Linux's DAD probe: from '::', with the RFC 7527 nonce option (14) that the decoder skips.
const KERNEL_DAD_NS = hex(`6000 0000 0020 3aff 0000 0000 0000 0000 0000 0000 0000 0000 ff02 0000 0000 0000 0000 0001 ffc3 1e9e
  8700 ab8d 0000 0000 fe80 0000 0000 0000 7c39 87ff fec3 1e9e 0e01 3019 a922 a858`);

test('decodes the kernel NS and NA of an address resolution', () => {
  assert.deepEqual(decodeNdp(KERNEL_NS), { ok: true, value: {
    kind: 'ns', source: '2001:db8:1::1', destination: 'ff02::1:ff00:11', target: '2001:db8:1::11', sourceMac: '02:00:00:00:00:01',
  } });
  assert.deepEqual(decodeNdp(KERNEL_NA), { ok: true, value: {
    kind: 'na', source: '2001:db8:1::11', destination: '2001:db8:1::1', target: '2001:db8:1::11',
    router: false, solicited: true, override: true, targetMac: '02:00:00:00:00:11',
  } });
});

test('encodes byte for byte what the kernel sends', () => {
  for (const p of [KERNEL_NS, KERNEL_NA, NA_TO_ALL_NODES, PROXIED_NA, PROXIED_NA_UNICAST]) {
    const d = decodeNdp(p);
    assert.ok(d.ok);
    assert.equal(toHex(encodeNdp(d.value)), toHex(p));
  }
});

test('proxied and all-nodes answers: flags and the missing link-layer option', () => {
  const all = decodeNdp(NA_TO_ALL_NODES);
  assert.ok(all.ok && all.value.kind === 'na');
  assert.deepEqual([all.value.router, all.value.solicited, all.value.override, all.value.destination], [true, false, true, 'ff02::1']);
  const px = decodeNdp(PROXIED_NA);
  assert.ok(px.ok && px.value.kind === 'na');
  assert.deepEqual([px.value.target, px.value.router, px.value.solicited, px.value.override, px.value.targetMac],
    ['2001:db8:1::11', false, true, false, '02:00:00:00:00:12']);
  const pu = decodeNdp(PROXIED_NA_UNICAST);
  assert.ok(pu.ok && pu.value.kind === 'na');
  assert.equal(pu.value.targetMac, undefined);
  assert.equal(pu.value.source, 'fe80::ff:fe00:12');
});

test('a DAD probe with a nonce option decodes (unknown options skipped)', () => {
  assert.deepEqual(decodeNdp(KERNEL_DAD_NS), { ok: true, value: {
    kind: 'ns', source: '::', destination: 'ff02::1:ffc3:1e9e', target: 'fe80::7c39:87ff:fec3:1e9e',
  } });
});

test('probe: to the solicited-node address; source link-layer option only with a source address', () => {
  const anon = neighborSolicitation('2001:db8:1::1', '02:00:00:00:00:11');
  assert.deepEqual(anon, { kind: 'ns', source: '::', destination: 'ff02::1:ff00:1', target: '2001:db8:1::1' });
  assert.equal(toHex(encodeNdp(anon)).length, (40 + 24) * 2);
  const ll = neighborSolicitation('2001:db8:1::1', '02:00:00:00:00:11', 'fe80::ff:fe00:11');
  assert.equal(ll.sourceMac, '02:00:00:00:00:11');
  const bytes = encodeNdp(ll);
  assert.equal(bytes[7], 255, 'hop limit');
  assert.equal(toHex(bytes.subarray(64)), '0101020000000011', 'SLLA option');
  assert.deepEqual(decodeNdp(bytes), { ok: true, value: ll });
  assert.equal(multicastMac(ll.destination), '33:33:ff:00:00:01');
  assert.equal(multicastMac('ff02::1'), '33:33:00:00:00:01');
  assert.equal(multicastMac('2001:db8::1'), undefined);
});

test('unsolicited NA: all-nodes, Override set, Solicited and Router clear, target link-layer option', () => {
  const na = unsolicitedAdvertisement('2001:db8:1::11', '02:00:00:00:00:12');
  assert.deepEqual(na, { kind: 'na', source: '2001:db8:1::11', destination: 'ff02::1', target: '2001:db8:1::11', router: false, solicited: false, override: true, targetMac: '02:00:00:00:00:12' });
  const b = encodeNdp(na);
  assert.equal(b[IPV6(0)], 136);
  assert.equal(b[IPV6(4)], 0x20, 'only the O flag');
  assert.equal(toHex(b.subarray(64)), '0201020000000012');
  assert.deepEqual(decodeNdp(b), { ok: true, value: na });
  assert.equal(encodeNdp(unsolicitedAdvertisement('2001:db8:1::11', '02:00:00:00:00:12', { router: true }))[IPV6(4)], 0xa0);
});
const IPV6 = (icmpOffset: number): number => 40 + icmpOffset;

test('the encoder refuses what RFC 4861 forbids', () => {
  const mac = '02:00:00:00:00:11';
  assert.throws(() => encodeNdp({ kind: 'ns', source: '::', destination: 'ff02::1:ff00:1', target: '2001:db8::1', sourceMac: mac }), RangeError);
  assert.throws(() => encodeNdp({ kind: 'ns', source: '::', destination: '2001:db8::1', target: '2001:db8::1' }), RangeError);
  assert.throws(() => encodeNdp({ kind: 'ns', source: 'fe80::1', destination: 'ff02::1:ff00:1', target: '2001:db8::1' }), RangeError);
  assert.throws(() => encodeNdp({ ...unsolicitedAdvertisement('2001:db8::1', mac), solicited: true }), RangeError);
  assert.throws(() => encodeNdp(unsolicitedAdvertisement('ff02::1', mac)), RangeError);
  assert.throws(() => encodeNdp(unsolicitedAdvertisement('10.0.0.1', mac)), RangeError);
  assert.throws(() => encodeNdp(unsolicitedAdvertisement('2001:db8::1', 'zz:00:00:00:00:00')), RangeError);
  assert.throws(() => neighborSolicitation('10.0.0.1', mac), RangeError);
  // a unicast NS (reachability confirmation) may omit the option
  assert.doesNotThrow(() => encodeNdp({ kind: 'ns', source: 'fe80::1', destination: '2001:db8::1', target: '2001:db8::1' }));
});

/** A copy of `p` with `edit` applied and the checksum recomputed (so only the edited rule can fail). */
function edited(p: Uint8Array, edit: (b: Uint8Array) => void): Uint8Array {
  const b = Uint8Array.from(p);
  edit(b);
  const plen = (b[4]! << 8) | b[5]!;
  const icmp = b.subarray(40, 40 + plen);
  icmp[2] = 0; icmp[3] = 0;
  const ck = icmpv6Checksum(b.subarray(8, 24), b.subarray(24, 40), icmp);
  icmp[2] = ck >> 8; icmp[3] = ck & 0xff;
  return b;
}

test('typed rejections', () => {
  assert.equal(reason(new Uint8Array(39)), 'short');
  assert.equal(reason(edited(KERNEL_NA, (b) => { b[0] = 0x45; })), 'not-ipv6');
  assert.equal(reason(KERNEL_NA.subarray(0, 70)), 'truncated');
  assert.equal(reason(edited(KERNEL_NA, (b) => { b[6] = 0; })), 'not-icmpv6');          // a hop-by-hop header first
  assert.equal(reason(edited(KERNEL_NA, (b) => { b[7] = 254; })), 'bad-hop-limit');      // forwarded: not on-link
  assert.equal(reason((() => { const b = Uint8Array.from(KERNEL_NA); b[60] = b[60]! ^ 1; return b; })()), 'bad-checksum');
  assert.equal(reason(edited(KERNEL_NA, (b) => { b[40] = 128; })), 'not-ndp');           // echo request
  assert.equal(reason(edited(KERNEL_NA, (b) => { b[41] = 1; })), 'bad-code');
  assert.equal(reason(edited(KERNEL_NA, (b) => { b[48] = 0xff; })), 'bad-target');
  assert.equal(reason(edited(KERNEL_NA, (b) => { b[65] = 0; })), 'bad-option');          // zero-length option
  assert.equal(reason(edited(KERNEL_NA, (b) => { b[65] = 2; })), 'bad-option');          // runs past the end
  assert.equal(reason(edited(KERNEL_NA, (b) => { b.set([0xff, 2], 24); })), 'bad-destination'); // solicited to multicast
  assert.equal(reason(edited(KERNEL_NS, (b) => { b.fill(0, 8, 24); })), 'bad-source');   // '::' with SLLA
  assert.equal(reason(edited(KERNEL_DAD_NS, (b) => { b[37] = 0x55; })), 'bad-destination'); // DAD NS not to solicited-node
  assert.equal(reason(edited(KERNEL_NA, (b) => { b[5] = 20; })), 'short');               // ICMPv6 shorter than an NA
  // an Ethernet-padded frame: bytes past the payload length are ignored
  const padded = new Uint8Array(KERNEL_NA.length + 6);
  padded.set(KERNEL_NA);
  assert.equal(reason(padded), 'ok');
});

test('property: the decoder never throws on garbage, nor on mutated valid packets', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (b) => { decodeNdp(b); }), { numRuns: 3000 });
  const base = fc.constantFrom(KERNEL_NS, KERNEL_NA, NA_TO_ALL_NODES, PROXIED_NA, PROXIED_NA_UNICAST, KERNEL_DAD_NS);
  fc.assert(fc.property(base, fc.array(fc.tuple(fc.nat(90), fc.nat(255)), { maxLength: 6 }), fc.boolean(), (p, muts, fix) => {
    const b = (fix ? edited : (x: Uint8Array, f: (y: Uint8Array) => void) => { const y = Uint8Array.from(x); f(y); return y; })(
      p, (y) => { for (const [i, v] of muts) if (i < y.length && i >= 6) y[i] = v; });
    const r = decodeNdp(b);
    if (r.ok) assert.ok(r.value.kind === 'ns' || r.value.kind === 'na');
  }), { numRuns: 3000 });
});

test('property: encode -> decode round-trips every valid message', () => {
  const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
  const unicast = bytes16.filter((b) => b[0] !== 0xff && b.some((x) => x !== 0)).map((b) => formatIp(b)!);
  const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'));
  const ns = fc.tuple(unicast, mac, fc.option(unicast, { nil: undefined }))
    .map(([t, m, s]): NdpMessage => neighborSolicitation(t, m, s));
  const na = fc.tuple(unicast, unicast, fc.boolean(), fc.boolean(), fc.boolean(), fc.option(mac, { nil: undefined }))
    .map(([src, t, r, s, o, m]): NdpMessage => {
      const v: NdpMessage = { kind: 'na', source: src, destination: s ? src : 'ff02::1', target: t, router: r, solicited: s, override: o };
      if (m !== undefined) v.targetMac = m;
      return v;
    });
  fc.assert(fc.property(fc.oneof(ns, na), (m) => {
    const b = encodeNdp(m);
    assert.equal(icmpv6Checksum(b.subarray(8, 24), b.subarray(24, 40), b.subarray(40)), 0);
    assert.deepEqual(decodeNdp(b), { ok: true, value: m });
  }), { numRuns: 2000 });
});
