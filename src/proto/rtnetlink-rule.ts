// Policy routing rules (struct fib_rule_hdr + FRA_* attributes) for RTM_NEWRULE / RTM_DELRULE / RTM_GETRULE: what
// hanet uses to forward only what a takeover needs (docs/security.md). Pure codec.
import { formatIp, ipBytes } from '../core/ip.js';
import { AF_INET, AF_INET6 } from './inet.js';
import { FRA_DST, FRA_IIFNAME, FRA_OIFNAME, FRA_PRIORITY, FRA_PROTOCOL, FRA_SRC, FRA_TABLE } from './netlink-consts.js';
import { attrStr, attrStringValue, attrU32, attrU8, concat, decodeAttrs, dv, encodeAttr, fail, LE, ok, u32, type Decoded } from './netlink-frame.js';

export interface RuleMsg {
  family: number;
  dstLen: number;
  srcLen: number;
  tos: number;
  /** FR_ACT_* (FR_ACT_TO_TBL: look up `table`; FR_ACT_BLACKHOLE: drop silently; FR_ACT_PROHIBIT: drop with EACCES / ICMP prohibited). */
  action: number;
  /** FIB_RULE_* flags (FIB_RULE_INVERT: the rule matches when its selectors do not). */
  flags: number;
  table: number;
  priority?: number;
  iifname?: string;
  oifname?: string;
  dst?: string;
  src?: string;
  protocol?: number;
}

const addr = (family: number, s: string, what: string): Uint8Array => {
  const b = family === AF_INET ? ipBytes(4, s) : family === AF_INET6 ? ipBytes(6, s) : undefined;
  if (!b) throw new RangeError(`${what}: '${s}' is not an address of family ${family}`);
  return b;
};

export function encodeRule(m: RuleMsg): Uint8Array {
  const h = new Uint8Array(12);
  h[0] = m.family; h[1] = m.dstLen; h[2] = m.srcLen; h[3] = m.tos;
  h[4] = m.table > 255 ? 0 : m.table; // tables above 255 travel in FRA_TABLE only
  h[7] = m.action;
  dv(h).setUint32(8, m.flags >>> 0, LE);
  const attrs: Uint8Array[] = [];
  if (m.priority !== undefined) attrs.push(attrU32(FRA_PRIORITY, m.priority));
  if (m.iifname !== undefined) attrs.push(attrStr(FRA_IIFNAME, m.iifname));
  if (m.oifname !== undefined) attrs.push(attrStr(FRA_OIFNAME, m.oifname));
  if (m.dst !== undefined) attrs.push(encodeAttr(FRA_DST, addr(m.family, m.dst, 'FRA_DST')));
  if (m.src !== undefined) attrs.push(encodeAttr(FRA_SRC, addr(m.family, m.src, 'FRA_SRC')));
  if (m.table !== 0) attrs.push(attrU32(FRA_TABLE, m.table));
  if (m.protocol !== undefined) attrs.push(attrU8(FRA_PROTOCOL, m.protocol));
  return concat([h, ...attrs]);
}

export function decodeRule(p: Uint8Array): Decoded<RuleMsg> {
  if (p.length < 12) return fail('truncated-header', `fib_rule_hdr needs 12 bytes, got ${p.length}`);
  const m: RuleMsg = { family: p[0]!, dstLen: p[1]!, srcLen: p[2]!, tos: p[3]!, table: p[4]!, action: p[7]!, flags: u32(p, 8) };
  const attrs = decodeAttrs(p.subarray(12), 12);
  if (!attrs.ok) return attrs;
  const want = m.family === AF_INET ? 4 : m.family === AF_INET6 ? 16 : -1;
  for (const a of attrs.value) {
    switch (a.type) {
      case FRA_PRIORITY: if (a.data.length >= 4) m.priority = u32(a.data, 0); break;
      case FRA_TABLE: if (a.data.length >= 4) m.table = u32(a.data, 0); break;
      case FRA_PROTOCOL: if (a.data.length >= 1) m.protocol = a.data[0]!; break;
      case FRA_IIFNAME: m.iifname = attrStringValue(a.data); break;
      case FRA_OIFNAME: m.oifname = attrStringValue(a.data); break;
      case FRA_DST: case FRA_SRC: {
        const s = a.data.length === want ? formatIp(a.data) : undefined;
        if (s === undefined) return fail('bad-value', `${a.type === FRA_DST ? 'FRA_DST' : 'FRA_SRC'}: ${a.data.length}-byte address for family ${m.family}`);
        if (a.type === FRA_DST) m.dst = s; else m.src = s;
        break;
      }
      default: break;
    }
  }
  return ok(m);
}
