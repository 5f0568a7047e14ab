// Pure rtnetlink codec: nlmsghdr framing, nlmsgerr (+ extended ack), rtattr TLVs (nested) and the
// link/address/route/neighbour messages hanet uses. Bytes in, values out; decoders never throw on garbage.
//
// Netlink integers are in host byte order; every Linux target hanet runs on is little-endian, but we
// detect it once rather than assume. Addresses inside attributes are in network order (raw bytes).
import { formatIp, ipBytes } from '../core/ip.js';
import { AF_INET, AF_INET6, formatMac, parseMac } from './inet.js';

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---- constants (include/uapi/linux/netlink.h, rtnetlink.h, if_link.h, if_addr.h, neighbour.h) ----
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_ECHO = 0x8;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
/** Flags of an NLMSG_ERROR ack. */
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
export const RTM_NEWNEIGH = 28;
export const RTM_DELNEIGH = 29;
export const RTM_GETNEIGH = 30;

/** Multicast group numbers (for NETLINK_ADD_MEMBERSHIP). */
export const RTNLGRP_LINK = 1;
export const RTNLGRP_NEIGH = 3;
export const RTNLGRP_IPV4_IFADDR = 5;
export const RTNLGRP_IPV4_ROUTE = 7;
export const RTNLGRP_IPV6_IFADDR = 9;
export const RTNLGRP_IPV6_ROUTE = 11;

export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;
export const IFF_LOWER_UP = 0x10000;

export const IFLA_ADDRESS = 1;
export const IFLA_BROADCAST = 2;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_LINK = 5;
export const IFLA_OPERSTATE = 16;
export const IFLA_LINKINFO = 18;
export const IFLA_EXT_MASK = 29;
export const IFLA_CARRIER = 33;
export const IFLA_INFO_KIND = 1;
/** IFLA_EXT_MASK bit: leave out IFLA_STATS/STATS64 (keeps the 10 ms carrier poll's replies small). */
export const RTEXT_FILTER_SKIP_STATS = 1 << 3;

export const IF_OPER = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;

export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;
export const IFA_FLAGS = 8;
export const IFA_PROTO = 11;

export const RTA_DST = 1;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_TABLE = 15;

export const RT_TABLE_UNSPEC = 0;
export const RT_TABLE_COMPAT = 252;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
export const RTN_UNICAST = 1;
export const RTN_LOCAL = 2;
export const RTPROT_KERNEL = 2;
export const RTPROT_BOOT = 3;
export const RTPROT_STATIC = 4;

export const NDA_DST = 1;
export const NDA_LLADDR = 2;
export const NDA_PROTOCOL = 12;
export const NTF_PROXY = 0x08;
export const NUD_PERMANENT = 0x80;
export const NUD_NOARP = 0x40;
export const NUD_REACHABLE = 0x02;
export const NUD_STALE = 0x04;

export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

export const NLMSG_HDRLEN = 16;
export const align4 = (n: number): number => (n + 3) & ~3;

// ---- results ----
export type NlDecodeReason =
  | 'truncated-header'   // fewer bytes than a header/struct needs
  | 'bad-length'         // a length field points outside the buffer or below the minimum
  | 'bad-attribute'      // an rtattr is malformed
  | 'bad-value';         // an attribute has the wrong size for its type
export interface NlDecodeError { reason: NlDecodeReason; message: string; offset: number }
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: NlDecodeError };
const ok = <T>(value: T): Decoded<T> => ({ ok: true, value });
const fail = <T>(reason: NlDecodeReason, message: string, offset = 0): Decoded<T> => ({ ok: false, error: { reason, message, offset } });

// ---- byte helpers ----
const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
const u16 = (b: Uint8Array, o: number): number => dv(b).getUint16(o, LE);
const u32 = (b: Uint8Array, o: number): number => dv(b).getUint32(o, LE);
const i32 = (b: Uint8Array, o: number): number => dv(b).getInt32(o, LE);

// ---- nlmsghdr ----
export interface NlHeader { len: number; type: number; flags: number; seq: number; pid: number }
export interface NlMessage { header: NlHeader; payload: Uint8Array }

/** Splits a datagram into netlink messages. Any framing error makes the whole datagram an error. */
export function decodeMessages(buf: Uint8Array): Decoded<NlMessage[]> {
  const out: NlMessage[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < NLMSG_HDRLEN) return fail('truncated-header', `nlmsghdr needs 16 bytes, ${buf.length - off} left`, off);
    const len = u32(buf, off);
    if (len < NLMSG_HDRLEN || len > buf.length - off) return fail('bad-length', `nlmsg_len ${len} with ${buf.length - off} bytes left`, off);
    const header: NlHeader = { len, type: u16(buf, off + 4), flags: u16(buf, off + 6), seq: u32(buf, off + 8), pid: u32(buf, off + 12) };
    out.push({ header, payload: buf.subarray(off + NLMSG_HDRLEN, off + len) });
    off += align4(len);
  }
  return ok(out);
}

/** Encodes one message; `len` is computed. */
export function encodeMessage(h: Omit<NlHeader, 'len'>, payload: Uint8Array): Uint8Array {
  const len = NLMSG_HDRLEN + payload.length;
  const out = new Uint8Array(align4(len));
  const v = dv(out);
  v.setUint32(0, len, LE);
  v.setUint16(4, h.type, LE);
  v.setUint16(6, h.flags, LE);
  v.setUint32(8, h.seq >>> 0, LE);
  v.setUint32(12, h.pid >>> 0, LE);
  out.set(payload, NLMSG_HDRLEN);
  return out;
}

// ---- rtattr ----
export interface NlAttr { type: number; nested: boolean; data: Uint8Array }

/** Parses a run of rtattrs (type masked of NLA_F_NESTED / NLA_F_NET_BYTEORDER). */
export function decodeAttrs(buf: Uint8Array, base = 0): Decoded<NlAttr[]> {
  const out: NlAttr[] = [];
  let off = 0;
  while (off < buf.length) {
    // A trailing remainder shorter than an rtattr header is padding the kernel may leave; only a
    // non-zero remainder is garbage.
    if (buf.length - off < 4) {
      if (buf.subarray(off).every((x) => x === 0)) break;
      return fail('bad-attribute', 'trailing bytes after attributes', base + off);
    }
    const len = u16(buf, off);
    const rawType = u16(buf, off + 2);
    if (len < 4 || len > buf.length - off) return fail('bad-attribute', `rta_len ${len} with ${buf.length - off} bytes left`, base + off);
    out.push({ type: rawType & NLA_TYPE_MASK, nested: (rawType & NLA_F_NESTED) !== 0, data: buf.subarray(off + 4, off + len) });
    off += align4(len);
  }
  return ok(out);
}

/** One attribute, padded to 4 bytes. */
export function encodeAttr(type: number, data: Uint8Array, nested = false): Uint8Array {
  const len = 4 + data.length;
  if (len > 0xffff) throw new RangeError(`attribute ${type} too long (${len})`);
  const out = new Uint8Array(align4(len));
  const v = dv(out);
  v.setUint16(0, len, LE);
  v.setUint16(2, type | (nested ? NLA_F_NESTED : 0), LE);
  out.set(data, 4);
  return out;
}
export const attrU8 = (type: number, v: number): Uint8Array => encodeAttr(type, Uint8Array.of(v & 0xff));
export function attrU32(type: number, v: number): Uint8Array {
  const d = new Uint8Array(4);
  dv(d).setUint32(0, v >>> 0, LE);
  return encodeAttr(type, d);
}
export const attrStr = (type: number, s: string): Uint8Array => encodeAttr(type, concat([new TextEncoder().encode(s), Uint8Array.of(0)]));
export const attrNested = (type: number, children: Uint8Array[]): Uint8Array => encodeAttr(type, concat(children), true);

export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

const attrStringValue = (d: Uint8Array): string => {
  const z = d.indexOf(0);
  return new TextDecoder('utf-8', { fatal: false }).decode(z === -1 ? d : d.subarray(0, z));
};
const attrU32Value = (a: NlAttr, what: string): Decoded<number> =>
  a.data.length >= 4 ? ok(u32(a.data, 0)) : fail('bad-value', `${what}: u32 attribute of ${a.data.length} bytes`);
const attrU8Value = (a: NlAttr, what: string): Decoded<number> =>
  a.data.length >= 1 ? ok(a.data[0]!) : fail('bad-value', `${what}: u8 attribute of 0 bytes`);
const attrAddr = (a: NlAttr, family: number, what: string): Decoded<string> => {
  const want = family === AF_INET ? 4 : family === AF_INET6 ? 16 : a.data.length;
  const s = a.data.length === want ? formatIp(a.data) : undefined;
  return s !== undefined ? ok(s) : fail('bad-value', `${what}: ${a.data.length}-byte address for family ${family}`);
};

function addrBytes(family: number, s: string, what: string): Uint8Array {
  const b = family === AF_INET ? ipBytes(4, s) : family === AF_INET6 ? ipBytes(6, s) : undefined;
  if (!b) throw new RangeError(`${what}: '${s}' is not an address of family ${family}`);
  return b;
}

// ---- nlmsgerr ----
export interface NlAck {
  /** 0 for a positive ack, a positive errno for an error (the kernel sends -errno). */
  errno: number;
  /** Header of the request this answers. */
  request: NlHeader;
  /** Extended ack message (NLMSGERR_ATTR_MSG), when the kernel gave one. */
  extAckMsg?: string;
  /** Byte offset of the offending attribute in the request (NLMSGERR_ATTR_OFFS). */
  extAckOffset?: number;
}

/** Decodes the payload of an NLMSG_ERROR message (flags are the ack message's own header flags). */
export function decodeAck(payload: Uint8Array, flags: number): Decoded<NlAck> {
  if (payload.length < 4 + NLMSG_HDRLEN) return fail('truncated-header', `nlmsgerr needs 20 bytes, got ${payload.length}`);
  const err = i32(payload, 0);
  const reqLen = u32(payload, 4);
  const request: NlHeader = { len: reqLen, type: u16(payload, 8), flags: u16(payload, 10), seq: u32(payload, 12), pid: u32(payload, 16) };
  const ack: NlAck = { errno: err < 0 ? -err : err, request };
  if ((flags & NLM_F_ACK_TLVS) === 0) return ok(ack);
  // With NETLINK_CAP_ACK (or a positive ack) only the request header was echoed; otherwise the whole request.
  const tlvStart = (flags & NLM_F_CAPPED) !== 0 ? 4 + NLMSG_HDRLEN : 4 + align4(Math.max(reqLen, NLMSG_HDRLEN));
  if (tlvStart > payload.length) return fail('bad-length', `ack TLVs start at ${tlvStart} beyond ${payload.length}`);
  const attrs = decodeAttrs(payload.subarray(tlvStart), tlvStart);
  if (!attrs.ok) return attrs;
  for (const a of attrs.value) {
    if (a.type === NLMSGERR_ATTR_MSG) ack.extAckMsg = attrStringValue(a.data);
    else if (a.type === NLMSGERR_ATTR_OFFS && a.data.length >= 4) ack.extAckOffset = u32(a.data, 0);
  }
  return ok(ack);
}

export function encodeAck(ack: NlAck, opts: { capped?: boolean } = {}): { flags: number; payload: Uint8Array } {
  const head = new Uint8Array(4 + NLMSG_HDRLEN);
  const v = dv(head);
  v.setInt32(0, -ack.errno, LE);
  v.setUint32(4, ack.request.len >>> 0, LE);
  v.setUint16(8, ack.request.type, LE);
  v.setUint16(10, ack.request.flags, LE);
  v.setUint32(12, ack.request.seq >>> 0, LE);
  v.setUint32(16, ack.request.pid >>> 0, LE);
  const tlvs: Uint8Array[] = [];
  if (ack.extAckMsg !== undefined) tlvs.push(attrStr(NLMSGERR_ATTR_MSG, ack.extAckMsg));
  if (ack.extAckOffset !== undefined) tlvs.push(attrU32(NLMSGERR_ATTR_OFFS, ack.extAckOffset));
  let flags = opts.capped === false ? 0 : NLM_F_CAPPED;
  let body: Uint8Array = head;
  if (opts.capped === false) {
    // echo a request body of (len - 16) zero bytes
    body = concat([head, new Uint8Array(align4(Math.max(ack.request.len, NLMSG_HDRLEN)) - NLMSG_HDRLEN)]);
  }
  if (tlvs.length) flags |= NLM_F_ACK_TLVS;
  return { flags, payload: concat([body, ...tlvs]) };
}

/** NLMSG_DONE payload: an int error (0 or -errno) and, with NLM_F_ACK_TLVS, extended-ack TLVs. */
export function decodeDone(payload: Uint8Array, flags: number): { errno: number; extAckMsg?: string } {
  if (payload.length < 4) return { errno: 0 };
  const e = i32(payload, 0);
  const r: { errno: number; extAckMsg?: string } = { errno: e < 0 ? -e : 0 };
  if ((flags & NLM_F_ACK_TLVS) !== 0) {
    const attrs = decodeAttrs(payload.subarray(4), 4);
    if (attrs.ok) for (const a of attrs.value) if (a.type === NLMSGERR_ATTR_MSG) r.extAckMsg = attrStringValue(a.data);
  }
  return r;
}

// ---- links ----
export interface LinkMsg {
  family: number;          // AF_UNSPEC for links
  ifindex: number;
  type: number;            // ARPHRD_*
  flags: number;           // IFF_*
  change: number;
  name?: string;
  address?: string;        // link-layer address "aa:bb:.."
  mtu?: number;
  carrier?: boolean;
  operstate?: number;      // IF_OPER_* (6 = up)
  kind?: string;           // IFLA_LINKINFO/IFLA_INFO_KIND, e.g. 'veth'
  extMask?: number;        // IFLA_EXT_MASK (requests only)
}

export function decodeLink(p: Uint8Array): Decoded<LinkMsg> {
  if (p.length < 16) return fail('truncated-header', `ifinfomsg needs 16 bytes, got ${p.length}`);
  const m: LinkMsg = { family: p[0]!, type: u16(p, 2), ifindex: i32(p, 4), flags: u32(p, 8), change: u32(p, 12) };
  const attrs = decodeAttrs(p.subarray(16), 16);
  if (!attrs.ok) return attrs;
  for (const a of attrs.value) {
    switch (a.type) {
      case IFLA_IFNAME: m.name = attrStringValue(a.data); break;
      case IFLA_ADDRESS: m.address = formatMac(a.data); break;
      case IFLA_MTU: { const r = attrU32Value(a, 'IFLA_MTU'); if (!r.ok) return r; m.mtu = r.value; break; }
      case IFLA_CARRIER: { const r = attrU8Value(a, 'IFLA_CARRIER'); if (!r.ok) return r; m.carrier = r.value !== 0; break; }
      case IFLA_OPERSTATE: { const r = attrU8Value(a, 'IFLA_OPERSTATE'); if (!r.ok) return r; m.operstate = r.value; break; }
      case IFLA_EXT_MASK: { const r = attrU32Value(a, 'IFLA_EXT_MASK'); if (!r.ok) return r; m.extMask = r.value; break; }
      case IFLA_LINKINFO: {
        const inner = decodeAttrs(a.data);
        if (!inner.ok) return inner;
        const kind = inner.value.find((x) => x.type === IFLA_INFO_KIND);
        if (kind) m.kind = attrStringValue(kind.data);
        break;
      }
      default: break;
    }
  }
  return ok(m);
}

export function encodeLink(m: LinkMsg): Uint8Array {
  const h = new Uint8Array(16);
  const v = dv(h);
  h[0] = m.family;
  v.setUint16(2, m.type, LE);
  v.setInt32(4, m.ifindex, LE);
  v.setUint32(8, m.flags >>> 0, LE);
  v.setUint32(12, m.change >>> 0, LE);
  const attrs: Uint8Array[] = [];
  if (m.name !== undefined) attrs.push(attrStr(IFLA_IFNAME, m.name));
  if (m.address !== undefined) {
    const mac = parseMac(m.address) ?? hexColonBytes(m.address);
    attrs.push(encodeAttr(IFLA_ADDRESS, mac));
  }
  if (m.mtu !== undefined) attrs.push(attrU32(IFLA_MTU, m.mtu));
  if (m.carrier !== undefined) attrs.push(attrU8(IFLA_CARRIER, m.carrier ? 1 : 0));
  if (m.operstate !== undefined) attrs.push(attrU8(IFLA_OPERSTATE, m.operstate));
  if (m.extMask !== undefined) attrs.push(attrU32(IFLA_EXT_MASK, m.extMask));
  if (m.kind !== undefined) attrs.push(attrNested(IFLA_LINKINFO, [attrStr(IFLA_INFO_KIND, m.kind)]));
  return concat([h, ...attrs]);
}

function hexColonBytes(s: string): Uint8Array {
  if (s === '') return new Uint8Array(0);
  const parts = s.split(':');
  if (!parts.every((p) => /^[0-9a-f]{2}$/i.test(p))) throw new RangeError(`bad link-layer address '${s}'`);
  return Uint8Array.from(parts, (p) => parseInt(p, 16));
}

// ---- addresses ----
export interface AddrMsg {
  family: number;          // AF_INET / AF_INET6
  prefixLen: number;
  flags: number;           // IFA_F_* (low 8 bits; IFA_FLAGS attribute is not modelled)
  scope: number;
  ifindex: number;
  local?: string;          // IFA_LOCAL: the interface's own address (IPv4)
  address?: string;        // IFA_ADDRESS: peer/prefix address (equals local unless point-to-point)
  label?: string;
  proto?: number;          // IFA_PROTO (kernel >= 5.18): who installed it
}

export function decodeAddr(p: Uint8Array): Decoded<AddrMsg> {
  if (p.length < 8) return fail('truncated-header', `ifaddrmsg needs 8 bytes, got ${p.length}`);
  const m: AddrMsg = { family: p[0]!, prefixLen: p[1]!, flags: p[2]!, scope: p[3]!, ifindex: u32(p, 4) };
  const attrs = decodeAttrs(p.subarray(8), 8);
  if (!attrs.ok) return attrs;
  for (const a of attrs.value) {
    switch (a.type) {
      case IFA_LOCAL: { const r = attrAddr(a, m.family, 'IFA_LOCAL'); if (!r.ok) return r; m.local = r.value; break; }
      case IFA_ADDRESS: { const r = attrAddr(a, m.family, 'IFA_ADDRESS'); if (!r.ok) return r; m.address = r.value; break; }
      case IFA_LABEL: m.label = attrStringValue(a.data); break;
      case IFA_PROTO: { const r = attrU8Value(a, 'IFA_PROTO'); if (!r.ok) return r; m.proto = r.value; break; }
      default: break;
    }
  }
  return ok(m);
}

export function encodeAddr(m: AddrMsg): Uint8Array {
  const h = new Uint8Array(8);
  h[0] = m.family; h[1] = m.prefixLen; h[2] = m.flags; h[3] = m.scope;
  dv(h).setUint32(4, m.ifindex >>> 0, LE);
  const attrs: Uint8Array[] = [];
  if (m.local !== undefined) attrs.push(encodeAttr(IFA_LOCAL, addrBytes(m.family, m.local, 'IFA_LOCAL')));
  if (m.address !== undefined) attrs.push(encodeAttr(IFA_ADDRESS, addrBytes(m.family, m.address, 'IFA_ADDRESS')));
  if (m.label !== undefined) attrs.push(attrStr(IFA_LABEL, m.label));
  if (m.proto !== undefined) attrs.push(attrU8(IFA_PROTO, m.proto));
  return concat([h, ...attrs]);
}

// ---- routes ----
export interface RouteMsg {
  family: number;
  dstLen: number;
  srcLen: number;
  tos: number;
  /** Routing table: RTA_TABLE when present (tables > 255), else rtm_table. */
  table: number;
  protocol: number;        // rtm_protocol (RTPROT_*; hanet's is HANET_RTPROT)
  scope: number;
  type: number;            // RTN_*
  flags: number;
  dst?: string;
  gateway?: string;
  oif?: number;
  prefsrc?: string;
  priority?: number;
}

export function decodeRoute(p: Uint8Array): Decoded<RouteMsg> {
  if (p.length < 12) return fail('truncated-header', `rtmsg needs 12 bytes, got ${p.length}`);
  const m: RouteMsg = {
    family: p[0]!, dstLen: p[1]!, srcLen: p[2]!, tos: p[3]!, table: p[4]!, protocol: p[5]!, scope: p[6]!, type: p[7]!, flags: u32(p, 8),
  };
  const attrs = decodeAttrs(p.subarray(12), 12);
  if (!attrs.ok) return attrs;
  for (const a of attrs.value) {
    switch (a.type) {
      case RTA_DST: { const r = attrAddr(a, m.family, 'RTA_DST'); if (!r.ok) return r; m.dst = r.value; break; }
      case RTA_GATEWAY: { const r = attrAddr(a, m.family, 'RTA_GATEWAY'); if (!r.ok) return r; m.gateway = r.value; break; }
      case RTA_PREFSRC: { const r = attrAddr(a, m.family, 'RTA_PREFSRC'); if (!r.ok) return r; m.prefsrc = r.value; break; }
      case RTA_OIF: { const r = attrU32Value(a, 'RTA_OIF'); if (!r.ok) return r; m.oif = r.value; break; }
      case RTA_PRIORITY: { const r = attrU32Value(a, 'RTA_PRIORITY'); if (!r.ok) return r; m.priority = r.value; break; }
      case RTA_TABLE: { const r = attrU32Value(a, 'RTA_TABLE'); if (!r.ok) return r; m.table = r.value; break; }
      default: break;
    }
  }
  return ok(m);
}

export function encodeRoute(m: RouteMsg): Uint8Array {
  const h = new Uint8Array(12);
  h[0] = m.family; h[1] = m.dstLen; h[2] = m.srcLen; h[3] = m.tos;
  h[4] = m.table > 255 ? RT_TABLE_COMPAT : m.table;
  h[5] = m.protocol; h[6] = m.scope; h[7] = m.type;
  dv(h).setUint32(8, m.flags >>> 0, LE);
  const attrs: Uint8Array[] = [];
  if (m.dst !== undefined) attrs.push(encodeAttr(RTA_DST, addrBytes(m.family, m.dst, 'RTA_DST')));
  if (m.gateway !== undefined) attrs.push(encodeAttr(RTA_GATEWAY, addrBytes(m.family, m.gateway, 'RTA_GATEWAY')));
  if (m.prefsrc !== undefined) attrs.push(encodeAttr(RTA_PREFSRC, addrBytes(m.family, m.prefsrc, 'RTA_PREFSRC')));
  if (m.oif !== undefined) attrs.push(attrU32(RTA_OIF, m.oif));
  if (m.priority !== undefined) attrs.push(attrU32(RTA_PRIORITY, m.priority));
  // Always send RTA_TABLE: rtm_table is 8 bits, and it makes the table explicit in logs/captures.
  attrs.push(attrU32(RTA_TABLE, m.table));
  return concat([h, ...attrs]);
}

// ---- neighbours ----
export interface NeighMsg {
  family: number;
  ifindex: number;
  state: number;           // NUD_*
  flags: number;           // NTF_* (NTF_PROXY = 0x08 for proxy entries)
  type: number;
  dst?: string;
  lladdr?: string;
  protocol?: number;       // NDA_PROTOCOL
}

export function decodeNeigh(p: Uint8Array): Decoded<NeighMsg> {
  if (p.length < 12) return fail('truncated-header', `ndmsg needs 12 bytes, got ${p.length}`);
  const m: NeighMsg = { family: p[0]!, ifindex: i32(p, 4), state: u16(p, 8), flags: p[10]!, type: p[11]! };
  const attrs = decodeAttrs(p.subarray(12), 12);
  if (!attrs.ok) return attrs;
  for (const a of attrs.value) {
    switch (a.type) {
      case NDA_DST: { const r = attrAddr(a, m.family, 'NDA_DST'); if (!r.ok) return r; m.dst = r.value; break; }
      case NDA_LLADDR: m.lladdr = formatMac(a.data); break;
      case NDA_PROTOCOL: { const r = attrU8Value(a, 'NDA_PROTOCOL'); if (!r.ok) return r; m.protocol = r.value; break; }
      default: break;
    }
  }
  return ok(m);
}

export function encodeNeigh(m: NeighMsg): Uint8Array {
  const h = new Uint8Array(12);
  const v = dv(h);
  h[0] = m.family;
  v.setInt32(4, m.ifindex, LE);
  v.setUint16(8, m.state, LE);
  h[10] = m.flags; h[11] = m.type;
  const attrs: Uint8Array[] = [];
  if (m.dst !== undefined) attrs.push(encodeAttr(NDA_DST, addrBytes(m.family, m.dst, 'NDA_DST')));
  if (m.lladdr !== undefined) attrs.push(encodeAttr(NDA_LLADDR, parseMac(m.lladdr) ?? hexColonBytes(m.lladdr)));
  if (m.protocol !== undefined) attrs.push(attrU8(NDA_PROTOCOL, m.protocol));
  return concat([h, ...attrs]);
}

// ---- whole-message view ----
export type RtMessage =
  | { kind: 'link'; header: NlHeader; msg: LinkMsg }
  | { kind: 'addr'; header: NlHeader; msg: AddrMsg }
  | { kind: 'route'; header: NlHeader; msg: RouteMsg }
  | { kind: 'neigh'; header: NlHeader; msg: NeighMsg }
  | { kind: 'ack'; header: NlHeader; ack: NlAck }
  | { kind: 'done'; header: NlHeader; errno: number; extAckMsg?: string }
  | { kind: 'other'; header: NlHeader; payload: Uint8Array };

/** Decodes one framed message into its typed view. */
export function decodeRtMessage(m: NlMessage): Decoded<RtMessage> {
  const { header, payload } = m;
  switch (header.type) {
    case NLMSG_ERROR: { const r = decodeAck(payload, header.flags); return r.ok ? ok({ kind: 'ack', header, ack: r.value }) : r; }
    case NLMSG_DONE: return ok({ kind: 'done', header, ...decodeDone(payload, header.flags) });
    case RTM_NEWLINK: case RTM_DELLINK: case RTM_GETLINK: { const r = decodeLink(payload); return r.ok ? ok({ kind: 'link', header, msg: r.value }) : r; }
    case RTM_NEWADDR: case RTM_DELADDR: case RTM_GETADDR: { const r = decodeAddr(payload); return r.ok ? ok({ kind: 'addr', header, msg: r.value }) : r; }
    case RTM_NEWROUTE: case RTM_DELROUTE: case RTM_GETROUTE: { const r = decodeRoute(payload); return r.ok ? ok({ kind: 'route', header, msg: r.value }) : r; }
    case RTM_NEWNEIGH: case RTM_DELNEIGH: case RTM_GETNEIGH: { const r = decodeNeigh(payload); return r.ok ? ok({ kind: 'neigh', header, msg: r.value }) : r; }
    default: return ok({ kind: 'other', header, payload });
  }
}

/** Hex string (whitespace ignored) to bytes, for tests and captures. */
export function fromHex(s: string): Uint8Array {
  const clean = s.replace(/[^0-9a-fA-F]/g, '');
  const out = new Uint8Array(clean.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
export const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
