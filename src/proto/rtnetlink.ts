// The rtnetlink messages hanet uses: links (ifinfomsg), addresses (ifaddrmsg), routes (rtmsg) and neighbours
// (ndmsg), and the typed view of any framed message. Addresses inside attributes are in network order (raw bytes).
import { formatIp, ipBytes } from '../core/ip.js';
import { AF_INET, AF_INET6, formatMac, parseMac } from './inet.js';
import {
  IFA_ADDRESS, IFA_LABEL, IFA_LOCAL, IFA_PROTO, IFLA_ADDRESS, IFLA_CARRIER, IFLA_EXT_MASK, IFLA_IFNAME, IFLA_INFO_KIND, IFLA_LINKINFO, IFLA_MTU, IFLA_OPERSTATE,
  NDA_DST, NDA_LLADDR, NDA_PROTOCOL, NLMSG_DONE, NLMSG_ERROR, RT_TABLE_COMPAT, RTA_DST, RTA_GATEWAY, RTA_OIF, RTA_PREFSRC, RTA_PRIORITY, RTA_TABLE,
  RTM_DELADDR, RTM_DELLINK, RTM_DELNEIGH, RTM_DELROUTE, RTM_DELRULE, RTM_GETADDR, RTM_GETLINK, RTM_GETNEIGH, RTM_GETROUTE, RTM_GETRULE, RTM_NEWADDR, RTM_NEWLINK,
  RTM_NEWNEIGH, RTM_NEWROUTE, RTM_NEWRULE,
} from './netlink-consts.js';
import { decodeRule, type RuleMsg } from './rtnetlink-rule.js';
import {
  attrNested, attrStr, attrStringValue, attrU32, attrU8, concat, decodeAck, decodeAttrs, decodeDone, dv, encodeAttr, fail, i32, LE, ok, u16, u32,
  type Decoded, type NlAck, type NlAttr, type NlHeader, type NlMessage,
} from './netlink-frame.js';

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
  | { kind: 'rule'; header: NlHeader; msg: RuleMsg }
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
    case RTM_NEWRULE: case RTM_DELRULE: case RTM_GETRULE: { const r = decodeRule(payload); return r.ok ? ok({ kind: 'rule', header, msg: r.value }) : r; }
    default: return ok({ kind: 'other', header, payload });
  }
}
