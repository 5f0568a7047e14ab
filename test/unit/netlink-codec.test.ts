// Netlink codec tests: real messages captured from kernel 6.18 (hex) plus fast-check properties
// (garbage never throws; encode -> decode round-trips).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  IFF_LOWER_UP, IFF_UP, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_MULTI, NLMSG_DONE, NLMSG_ERROR, NTF_PROXY, RTM_NEWADDR, RTM_NEWLINK,
  RTM_NEWNEIGH, RTM_NEWROUTE, decodeAck, decodeAddr, decodeAttrs, decodeLink, decodeMessages, decodeNeigh, decodeRoute,
  decodeRtMessage, encodeAck, encodeAddr, encodeAttr, encodeLink, encodeMessage, encodeNeigh, encodeRoute, fromHex,
  toHex, attrNested, attrU32, type AddrMsg, type LinkMsg, type NeighMsg, type RouteMsg,
} from '../../src/proto/netlink.js';
import { formatIp, ipBytes } from '../../src/core/ip.js';
const parseIPv6 = (s: string) => ipBytes(6, s);
const formatIPv6 = (b: Uint8Array) => formatIp(b)!;

// Captured in a namespace with a veth pair: RTM_GETLINK veth0 reply (IFLA_EXT_MASK skip stats).
const LINK = '680400001000000007000000921c0000000001000300000003100000000000000a000300766574683000000008000d00e803000005001000030000000500110000000000050043000000000008000400dc050000080032004400000008003300ffff000008001b000000000008001e000000000008003d000000000008001f000200000008002800ffff0000080029000000010008003a000000010008003f0000000100080040000000010008003b00f8ff070008003c00ffff0000080042000000000008002000020000000500210000000000080023000100000008002f000000000008003000010000000600440000000000060045000000000005002700000000000a00010086a9858dbd4800000a000200ffffffffffff0000cc0017000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000640007000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000c002b0005000200000000001000120009000100766574680000000008000500020000000c0006006e6f717565756500c0011a008c00020088000100000000000000000000000000010000000100000001000000010000000000000001000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000010270000e8030000000000000000000000000000000000000100000030010a00080001000000000014000500ffff0000de9201006c6e0000e8030000f40002000000000040000000dc05000001000000010000000100000001000000ffffffffa00f0000e803000000000000803a0900805101000300000058020000100000000000000001000000010000000100000060ea000000000000000000000000000000000000000000000000000001000000000000000000000010270000e8030000010000000000000000000000010000000000000000000000010000000000000000000000000000000000000080ee360000000000000000000100000000000000000000000000000000000000000000000004000000000000ffff0000ffffffff010000000000000000000000000000001400070000000000000000000000000000000000050008000000000024000e00000000000000000000000000000000000000000000000000000000000000000004003e8004004180';
// RTM_NEWADDR (dump part) 10.0.0.11/24 on veth0, then NLMSG_DONE.
const ADDR = '500000001400020007000000921c00000218800003000000080001000a00000b080002000a00000b0a0003007665746830000000080008008000000014000600ffffffffffffffffde920100de920100';
const DONE = '140000000300020007000000921c000000000000';
// RTM_NEWROUTE 10.8.0.0/16 via 10.0.0.1 dev veth0 proto 78 metric 5 (second message of a dump datagram).
const ROUTE = '440000001800020007000000921c000002100000fe4e00011000000008000f00fe000000080001000a0800000800060005000000080005000a0000010800040003000000';
// RTM_NEWNEIGH proxy 10.0.0.99 dev veth0 (made by `ip neigh add proxy`, so no NDA_PROTOCOL).
const NEIGH = '240000001c00020007000000921c0000020000000300000000000801080001000a000063';
// NLMSG_ERROR -ENETUNREACH with NETLINK_CAP_ACK + extended ack "Nexthop has invalid gateway".
const ERR = '440000000200000307000000921c00009bffffff3c000000180005040700000000000000200001004e657874686f702068617320696e76616c6964206761746577617900';

const one = (hex: string) => {
  const r = decodeMessages(fromHex(hex));
  assert.ok(r.ok, 'framing');
  assert.equal(r.value.length, 1);
  return r.value[0]!;
};

test('captured RTM_NEWLINK reply decodes name, MAC, MTU, carrier, operstate, flags and nested kind', () => {
  const m = one(LINK);
  assert.equal(m.header.type, RTM_NEWLINK);
  assert.equal(m.header.seq, 7);
  const l = decodeLink(m.payload);
  assert.ok(l.ok);
  assert.equal(l.value.name, 'veth0');
  assert.equal(l.value.ifindex, 3);
  assert.equal(l.value.address, '86:a9:85:8d:bd:48');
  assert.equal(l.value.mtu, 1500);
  assert.equal(l.value.carrier, false);           // peer veth1 was down
  assert.equal(l.value.operstate, 3);             // IF_OPER_LOWERLAYERDOWN
  assert.equal(l.value.kind, 'veth');
  assert.equal(l.value.flags & IFF_UP, IFF_UP);
  assert.equal(l.value.flags & IFF_LOWER_UP, 0);
});

test('captured address, route, proxy neighbour and done messages', () => {
  const a = one(ADDR);
  assert.equal(a.header.type, RTM_NEWADDR);
  assert.equal(a.header.flags & NLM_F_MULTI, NLM_F_MULTI);
  assert.deepEqual(decodeAddr(a.payload), { ok: true, value: { family: 2, prefixLen: 24, flags: 128, scope: 0, ifindex: 3, address: '10.0.0.11', local: '10.0.0.11', label: 'veth0' } });

  const r = one(ROUTE);
  assert.equal(r.header.type, RTM_NEWROUTE);
  assert.deepEqual(decodeRoute(r.payload), { ok: true, value: {
    family: 2, dstLen: 16, srcLen: 0, tos: 0, table: 254, protocol: 78, scope: 0, type: 1, flags: 16, // RTNH_F_LINKDOWN: peer was down
    dst: '10.8.0.0', priority: 5, gateway: '10.0.0.1', oif: 3,
  } });

  const n = one(NEIGH);
  assert.equal(n.header.type, RTM_NEWNEIGH);
  const nd = decodeNeigh(n.payload);
  assert.ok(nd.ok);
  assert.equal(nd.value.flags & NTF_PROXY, NTF_PROXY);
  assert.equal(nd.value.dst, '10.0.0.99');
  assert.equal(nd.value.protocol, undefined);

  const d = decodeRtMessage(one(DONE));
  assert.ok(d.ok);
  assert.equal(d.value.kind, 'done');
  assert.equal(d.value.header.type, NLMSG_DONE);
});

test('several messages in one datagram are split', () => {
  const r = decodeMessages(fromHex(ADDR + DONE));
  assert.ok(r.ok);
  assert.deepEqual(r.value.map((m) => m.header.type), [RTM_NEWADDR, NLMSG_DONE]);
});

test('captured error ack carries errno and the extended ack message', () => {
  const m = one(ERR);
  assert.equal(m.header.type, NLMSG_ERROR);
  assert.equal(m.header.flags, NLM_F_CAPPED | NLM_F_ACK_TLVS);
  const a = decodeAck(m.payload, m.header.flags);
  assert.ok(a.ok);
  assert.equal(a.value.errno, 101); // ENETUNREACH
  assert.equal(a.value.extAckMsg, 'Nexthop has invalid gateway');
  assert.equal(a.value.request.type, RTM_NEWROUTE);
  assert.equal(a.value.request.seq, 7);
});

test('uncapped ack: TLVs after the echoed request body', () => {
  const request = { len: 60, type: RTM_NEWROUTE, flags: 0x405, seq: 9, pid: 0 };
  const { flags, payload } = encodeAck({ errno: 17, request, extAckMsg: 'File exists', extAckOffset: 28 }, { capped: false });
  assert.equal(flags & NLM_F_CAPPED, 0);
  const a = decodeAck(payload, flags);
  assert.deepEqual(a, { ok: true, value: { errno: 17, request, extAckMsg: 'File exists', extAckOffset: 28 } });
});

test('malformed input gives typed errors', () => {
  assert.equal((decodeMessages(fromHex('0100')) as { ok: false; error: { reason: string } }).error.reason, 'truncated-header');
  assert.equal((decodeMessages(fromHex('ff000000' + '00'.repeat(12))) as { ok: false; error: { reason: string } }).error.reason, 'bad-length');
  const badAttr = decodeAttrs(fromHex('0900010041'));
  assert.equal(badAttr.ok, false);
  // RTA_DST of 3 bytes in an IPv4 route
  const r = decodeRoute(fromHex('02180000fe4e0001000000000700010001020300'));
  assert.ok(!r.ok);
  assert.equal(r.error.reason, 'bad-value');
  assert.equal(decodeLink(new Uint8Array(3)).ok, false);
});

test('nested attributes: NLA_F_NESTED is reported and masked from the type', () => {
  const n = attrNested(18, [attrU32(1, 5)]);
  const r = decodeAttrs(n);
  assert.ok(r.ok);
  assert.equal(r.value[0]!.type, 18);
  assert.equal(r.value[0]!.nested, true);
  const inner = decodeAttrs(r.value[0]!.data);
  assert.ok(inner.ok);
  assert.equal(toHex(inner.value[0]!.data), '05000000');
});

test('IPv6 text round-trips through bytes (RFC 5952 form)', () => {
  for (const s of ['::', '::1', '2001:db8::1', 'fe80::448f:bff:fe4a:7348', '2001:db8:0:1:1:1:1:1', '1::', '::ffff:10.0.0.1']) {
    const b = parseIPv6(s);
    assert.ok(b, s);
    assert.equal(parseIPv6(formatIPv6(b))!.join(), b.join(), s);
  }
  assert.equal(formatIPv6(parseIPv6('2001:DB8:0:0:0:0:0:1')!), '2001:db8::1');
  assert.equal(parseIPv6('1::2::3'), undefined);
});

// ---- properties ----
const bytes = fc.uint8Array({ maxLength: 300 });

test('property: decoders never throw on garbage', () => {
  fc.assert(fc.property(bytes, fc.integer({ min: 0, max: 0xffff }), (b, flags) => {
    decodeMessages(b);
    decodeAttrs(b);
    decodeLink(b); decodeAddr(b); decodeRoute(b); decodeNeigh(b);
    decodeAck(b, flags);
    const framed = decodeMessages(b);
    if (framed.ok) for (const m of framed.value) decodeRtMessage(m);
    // a valid header around garbage payloads of every rtnetlink type
    for (const type of [2, 3, 16, 20, 24, 28]) {
      const r = decodeMessages(encodeMessage({ type, flags, seq: 1, pid: 0 }, b));
      assert.ok(r.ok);
      decodeRtMessage(r.value[0]!);
    }
  }), { numRuns: 2000 });
});

const ipv4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((t) => t.join('.'));
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIPv6(b));
const u8 = fc.nat(255);
const u32 = fc.nat(0xffffffff);
const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'));
const name = fc.stringMatching(/^[a-z][a-z0-9.-]{0,14}$/);
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const strip = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
const famAddr = fc.oneof(fc.constant(2).chain((f) => fc.tuple(fc.constant(f), ipv4)), fc.constant(10).chain((f) => fc.tuple(fc.constant(f), ipv6)));

test('property: link encode -> decode round-trips', () => {
  fc.assert(fc.property(fc.record({
    family: u8, ifindex: fc.integer({ min: -2147483648, max: 2147483647 }), type: fc.nat(0xffff), flags: u32, change: u32,
    name: opt(name), address: opt(mac), mtu: opt(u32), carrier: opt(fc.boolean()), operstate: opt(u8), kind: opt(name), extMask: opt(u32),
  }), (m) => {
    const msg = strip(m) as LinkMsg;
    assert.deepEqual(decodeLink(encodeLink(msg)), { ok: true, value: msg });
  }));
});

test('property: address encode -> decode round-trips (IPv4 and IPv6)', () => {
  fc.assert(fc.property(famAddr, famAddr, u8, u8, u8, u32, opt(name), opt(u8), fc.boolean(), ([family, local], [peerFamily, peer], prefixLen, flags, scope, ifindex, label, proto, withPeer) => {
    // IFA_ADDRESS differs from IFA_LOCAL on point-to-point links; only same-family peers are valid
    const address = withPeer && peerFamily === family ? peer : local;
    const msg = strip({ family, prefixLen, flags, scope, ifindex, local, address, label, proto }) as AddrMsg;
    assert.deepEqual(decodeAddr(encodeAddr(msg)), { ok: true, value: msg });
  }));
});

test('property: route encode -> decode round-trips (tables above 255 via RTA_TABLE)', () => {
  fc.assert(fc.property(famAddr, fc.boolean(), fc.boolean(), u8, u32, u8, u8, u8, opt(u32), opt(u32), (
    [family, dst], withGw, withSrc, dstLen, table, protocol, scope, type, oif, priority,
  ) => {
    const msg = strip({ family, dstLen, srcLen: 0, tos: 0, table, protocol, scope, type, flags: 0, dst, gateway: withGw ? dst : undefined, prefsrc: withSrc ? dst : undefined, oif, priority }) as RouteMsg;
    assert.deepEqual(decodeRoute(encodeRoute(msg)), { ok: true, value: msg });
  }));
});

test('property: neighbour encode -> decode round-trips', () => {
  fc.assert(fc.property(famAddr, fc.integer({ min: -2147483648, max: 2147483647 }), fc.nat(0xffff), u8, u8, opt(mac), opt(u8), ([family, dst], ifindex, state, flags, type, lladdr, protocol) => {
    const msg = strip({ family, ifindex, state, flags, type, dst, lladdr, protocol }) as NeighMsg;
    assert.deepEqual(decodeNeigh(encodeNeigh(msg)), { ok: true, value: msg });
  }));
});

test('property: message framing round-trips', () => {
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(0xffff), fc.nat(0xffff), u32, u32, fc.uint8Array({ maxLength: 64 })), { maxLength: 5 }), (msgs) => {
    const buf = new Uint8Array(msgs.reduce((n, [, , , , p]) => n + ((16 + p.length + 3) & ~3), 0));
    let o = 0;
    for (const [type, flags, seq, pid, p] of msgs) { const e = encodeMessage({ type, flags, seq, pid }, p); buf.set(e, o); o += e.length; }
    const r = decodeMessages(buf);
    assert.ok(r.ok);
    assert.deepEqual(r.value.map((m) => [m.header.type, m.header.flags, m.header.seq, m.header.pid, Array.from(m.payload)]),
      msgs.map(([type, flags, seq, pid, p]) => [type, flags, seq, pid, Array.from(p)]));
  }));
});

test('encodeAttr pads to 4 bytes', () => {
  assert.equal(toHex(encodeAttr(3, Uint8Array.of(0x61))), '0500030061000000');
});
