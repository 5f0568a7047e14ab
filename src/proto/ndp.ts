// Pure codec for IPv6 Neighbor Discovery (RFC 4861) Neighbor Solicitations and Advertisements, as whole IPv6
// packets (the level an AF_PACKET SOCK_DGRAM socket with ETH_P_IPV6 carries): header, ICMPv6 checksum, options.
// Builders for probes and unsolicited advertisements; decoding is total (typed rejections, never throws).
import { canonicalIp, formatIp, ipBytes, isMulticast, solicitedNode } from '../core/ip.js';
import { formatMac, parseMac } from './inet.js';

export const ETHERTYPE_IPV6 = 0x86dd;
export const IPPROTO_ICMPV6 = 58;
export const ICMPV6_NS = 135;
export const ICMPV6_NA = 136;
/** RFC 4861 7.1: NDP is sent with hop limit 255 and a receiver drops anything else (proves it is on-link). */
export const ND_HOP_LIMIT = 255;
export const IPV6_HEADER_LEN = 40;
/** Type (1) + code (1) + checksum (2) + reserved/flags (4) + target (16). */
export const ND_MESSAGE_LEN = 24;
export const OPT_SOURCE_LLA = 1;
export const OPT_TARGET_LLA = 2;
export const ALL_NODES = 'ff02::1';
export const UNSPECIFIED = '::';

const NA_ROUTER = 0x80, NA_SOLICITED = 0x40, NA_OVERRIDE = 0x20;

export interface NeighborSolicitation {
  kind: 'ns';
  /** '::' for a probe that must not create cache entries (then no source link-layer option is allowed). */
  source: string;
  /** the target's solicited-node multicast address, or the target itself (unicast reachability probe) */
  destination: string;
  target: string;
  /** Source Link-Layer Address option; RFC 4861 7.2.2: MUST be present in a multicast NS with a real source. */
  sourceMac?: string;
}

export interface NeighborAdvertisement {
  kind: 'na';
  source: string;
  destination: string;
  target: string;
  /** R: the sender is a router; clear for a host address (a host that sees R go 1 -> 0 drops it as a router). */
  router: boolean;
  /** S: an answer to a solicitation; never set with a multicast destination. */
  solicited: boolean;
  /** O: replace the cached link-layer address; without it a receiver keeps a different address it already has. */
  override: boolean;
  /** Target Link-Layer Address option; a receiver without it has nothing to learn. */
  targetMac?: string;
}

export type NdpMessage = NeighborSolicitation | NeighborAdvertisement;

export type NdpDecodeReason =
  | 'short' | 'not-ipv6' | 'truncated' | 'not-icmpv6' | 'bad-hop-limit' | 'bad-checksum' | 'not-ndp' | 'bad-code'
  | 'bad-target' | 'bad-option' | 'bad-source' | 'bad-destination';
export interface NdpDecodeError { reason: NdpDecodeReason; message: string }
export type NdpDecoded<T> = { ok: true; value: T } | { ok: false; error: NdpDecodeError };
const fail = <T>(reason: NdpDecodeReason, message: string): NdpDecoded<T> => ({ ok: false, error: { reason, message } });

/** The Internet checksum of an ICMPv6 message over the IPv6 pseudo-header (RFC 8200 8.1); 0 when `msg` is valid. */
export function icmpv6Checksum(src: Uint8Array, dst: Uint8Array, msg: Uint8Array): number {
  let sum = 0;
  const add = (b: Uint8Array): void => {
    for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i]! << 8) | b[i + 1]!;
    if (b.length % 2 === 1) sum += b[b.length - 1]! << 8;
  };
  add(src);
  add(dst);
  sum += (msg.length >>> 16) + (msg.length & 0xffff) + IPPROTO_ICMPV6;
  add(msg);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** RFC 2464 7: the Ethernet address of an IPv6 multicast address, 33:33 and its last 32 bits. */
export function multicastMac(ip: string): string | undefined {
  const b = ipBytes(6, ip);
  if (!b || b[0] !== 0xff) return undefined;
  return formatMac(Uint8Array.of(0x33, 0x33, b[12]!, b[13]!, b[14]!, b[15]!));
}

const isUnspecified = (ip: string): boolean => canonicalIp(ip, 6) === UNSPECIFIED;
const isSolicitedNodeOf = (dst: string, target: string): boolean => canonicalIp(dst, 6) === solicitedNode(target);

/**
 * Encodes an IPv6 packet (header + ICMPv6 NS/NA, checksum filled in, hop limit 255). Throws RangeError on an invalid
 * address or on a message RFC 4861 forbids sending (a programming error, not input bytes).
 */
export function encodeNdp(m: NdpMessage): Uint8Array {
  const src = v6(m.source), dst = v6(m.destination), target = v6(m.target);
  if (isMulticast(m.target)) throw new RangeError(`NDP target ${m.target} is multicast`);
  const mac = m.kind === 'ns' ? m.sourceMac : m.targetMac;
  if (m.kind === 'ns' && isUnspecified(m.source)) {
    if (mac !== undefined) throw new RangeError('NS from the unspecified address must not carry a source link-layer option');
    if (!isSolicitedNodeOf(m.destination, m.target)) throw new RangeError('NS from the unspecified address must go to the solicited-node address');
  }
  if (m.kind === 'ns' && !isUnspecified(m.source) && isMulticast(m.destination) && mac === undefined) {
    throw new RangeError('multicast NS with a source address needs the source link-layer option');
  }
  if (m.kind === 'na' && m.solicited && isMulticast(m.destination)) throw new RangeError('a solicited NA cannot go to a multicast address');
  const icmp = new Uint8Array(ND_MESSAGE_LEN + (mac !== undefined ? 8 : 0));
  icmp[0] = m.kind === 'ns' ? ICMPV6_NS : ICMPV6_NA;
  if (m.kind === 'na') icmp[4] = (m.router ? NA_ROUTER : 0) | (m.solicited ? NA_SOLICITED : 0) | (m.override ? NA_OVERRIDE : 0);
  icmp.set(target, 8);
  if (mac !== undefined) {
    icmp[24] = m.kind === 'ns' ? OPT_SOURCE_LLA : OPT_TARGET_LLA;
    icmp[25] = 1; // length in units of 8 bytes: type, length, 6-byte Ethernet address
    icmp.set(macBytes(mac), 26);
  }
  const ck = icmpv6Checksum(src, dst, icmp);
  icmp[2] = ck >> 8; icmp[3] = ck & 0xff;
  const out = new Uint8Array(IPV6_HEADER_LEN + icmp.length);
  out[0] = 0x60; // version 6, traffic class 0, flow label 0
  out[4] = icmp.length >> 8; out[5] = icmp.length & 0xff;
  out[6] = IPPROTO_ICMPV6;
  out[7] = ND_HOP_LIMIT;
  out.set(src, 8);
  out.set(dst, 24);
  out.set(icmp, IPV6_HEADER_LEN);
  return out;
}

/**
 * Decodes an IPv6 packet carrying an NS or NA and validates it as RFC 4861 7.1.1/7.1.2 require a receiver to
 * (hop limit 255, checksum, code 0, non-multicast target, option lengths, the unspecified-source and solicited-flag
 * rules). Extension headers are not followed (rejected as 'not-icmpv6'); bytes past the payload length are ignored.
 */
export function decodeNdp(p: Uint8Array): NdpDecoded<NdpMessage> {
  if (p.length < IPV6_HEADER_LEN) return fail('short', `IPv6 header needs ${IPV6_HEADER_LEN} bytes, got ${p.length}`);
  if (p[0]! >> 4 !== 6) return fail('not-ipv6', `IP version ${p[0]! >> 4}`);
  const plen = (p[4]! << 8) | p[5]!;
  if (IPV6_HEADER_LEN + plen > p.length) return fail('truncated', `payload length ${plen}, ${p.length - IPV6_HEADER_LEN} bytes present`);
  if (p[6] !== IPPROTO_ICMPV6) return fail('not-icmpv6', `next header ${p[6]}`);
  if (p[7] !== ND_HOP_LIMIT) return fail('bad-hop-limit', `hop limit ${p[7]} (NDP needs 255)`);
  const srcB = p.subarray(8, 24), dstB = p.subarray(24, 40);
  const icmp = p.subarray(IPV6_HEADER_LEN, IPV6_HEADER_LEN + plen);
  if (icmp.length < 4) return fail('short', `ICMPv6 message of ${icmp.length} bytes`);
  const type = icmp[0]!;
  if (type !== ICMPV6_NS && type !== ICMPV6_NA) return fail('not-ndp', `ICMPv6 type ${type}`);
  if (icmp.length < ND_MESSAGE_LEN) return fail('short', `ICMPv6 ${type} needs ${ND_MESSAGE_LEN} bytes, got ${icmp.length}`);
  if (icmpv6Checksum(srcB, dstB, icmp) !== 0) return fail('bad-checksum', 'ICMPv6 checksum mismatch');
  if (icmp[1] !== 0) return fail('bad-code', `ICMPv6 code ${icmp[1]}`);
  const source = formatIp(srcB)!, destination = formatIp(dstB)!, target = formatIp(icmp.subarray(8, 24))!;
  if (isMulticast(target)) return fail('bad-target', `target ${target} is multicast`);
  let mac: string | undefined;
  const wanted = type === ICMPV6_NS ? OPT_SOURCE_LLA : OPT_TARGET_LLA;
  for (let off = ND_MESSAGE_LEN; off < icmp.length;) {
    if (off + 2 > icmp.length) return fail('bad-option', `option header cut at byte ${off}`);
    const len = icmp[off + 1]! * 8;
    if (len === 0) return fail('bad-option', `zero-length option at byte ${off}`);
    if (off + len > icmp.length) return fail('bad-option', `option of ${len} bytes runs past the message`);
    // Ethernet link-layer options are 8 bytes; another length is another link type's and tells us nothing.
    if (icmp[off] === wanted && len === 8 && mac === undefined) mac = formatMac(icmp.subarray(off + 2, off + 8));
    off += len;
  }
  if (type === ICMPV6_NS) {
    if (isUnspecified(source)) {
      if (mac !== undefined) return fail('bad-source', 'NS from the unspecified address with a source link-layer option');
      if (!isSolicitedNodeOf(destination, target)) return fail('bad-destination', `DAD NS to ${destination}, not the solicited-node address`);
    }
    const ns: NeighborSolicitation = { kind: 'ns', source, destination, target };
    if (mac !== undefined) ns.sourceMac = mac;
    return { ok: true, value: ns };
  }
  const flags = icmp[4]!;
  const solicited = (flags & NA_SOLICITED) !== 0;
  if (solicited && isMulticast(destination)) return fail('bad-destination', `solicited NA to multicast ${destination}`);
  const na: NeighborAdvertisement = {
    kind: 'na', source, destination, target, router: (flags & NA_ROUTER) !== 0, solicited, override: (flags & NA_OVERRIDE) !== 0,
  };
  if (mac !== undefined) na.targetMac = mac;
  return { ok: true, value: na };
}

/**
 * A Neighbor Solicitation for `target` to its solicited-node multicast address. With `source` (e.g. the interface's
 * link-local address) it carries the source link-layer option, as RFC 4861 7.2.2 requires, and is answered by
 * unicast to that source; from '::' (the default) it carries none and the answer goes to all-nodes (ff02::1).
 */
export function neighborSolicitation(target: string, ownMac: string, source: string = UNSPECIFIED): NeighborSolicitation {
  const destination = solicitedNode(target);
  if (destination === undefined) throw new RangeError(`invalid IPv6 address '${target}'`);
  const ns: NeighborSolicitation = { kind: 'ns', source, destination, target };
  if (!isUnspecified(source)) ns.sourceMac = ownMac;
  return ns;
}

/**
 * An unsolicited Neighbor Advertisement "`address` is at `ownMac`" to all-nodes: Override set (receivers replace a
 * cached address), Solicited clear, Router clear unless asked (a host address), the target link-layer option, and
 * the address itself as source, as Linux's own unsolicited NAs do.
 */
export function unsolicitedAdvertisement(address: string, ownMac: string, opts: { router?: boolean } = {}): NeighborAdvertisement {
  return {
    kind: 'na', source: address, destination: ALL_NODES, target: address,
    router: opts.router ?? false, solicited: false, override: true, targetMac: ownMac,
  };
}

function v6(s: string): Uint8Array {
  const b = ipBytes(6, s);
  if (!b) throw new RangeError(`invalid IPv6 address '${s}'`);
  return b;
}
function macBytes(s: string): Uint8Array {
  const b = parseMac(s);
  if (!b) throw new RangeError(`invalid MAC address '${s}'`);
  return b;
}
