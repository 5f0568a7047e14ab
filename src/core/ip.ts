// The one address module: IPv4 and IPv6 text <-> bytes, prefixes (CIDRs), and the prefix arithmetic hanet needs
// (membership, network address, the half-prefix split of takeover routes). Pure; used by config, core, proto and lab.
// Every value carries its family. Text is strict: dotted quads without leading zeros (inet_aton would read "010"
// as octal 8), IPv6 per RFC 4291 (with "::" and a trailing dotted quad), no zone ("%eth0"); canonical output is
// RFC 5952 (lowercase, longest zero run compressed).

export type Family = 4 | 6;

/** A prefix or a host address with its prefix length; `address` is canonical text. */
export interface Cidr { family: Family; address: string; prefixLen: number }

export const addrBytes = (f: Family): number => (f === 4 ? 4 : 16);
/** The prefix length of a single host: 32 or 128. */
export const hostPrefixLen = (f: Family): number => (f === 4 ? 32 : 128);

function parseV4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    out[i] = v;
  }
  return out;
}

function parseV6(s: string): Uint8Array | undefined {
  if (s.length === 0 || s.length > 45) return undefined;
  const dbl = s.indexOf('::');
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) return undefined;
  const groupsOf = (part: string, last: boolean): number[] | undefined => {
    if (part === '') return [];
    const groups: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (last && i === items.length - 1 && it.includes('.')) {
        const v4 = parseV4(it);
        if (!v4) return undefined;
        groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(it)) return undefined;
        groups.push(parseInt(it, 16));
      }
    }
    return groups;
  };
  let groups: number[];
  if (dbl === -1) {
    const g = groupsOf(s, true);
    if (!g || g.length !== 8) return undefined;
    groups = g;
  } else {
    const head = groupsOf(s.slice(0, dbl), false);
    const tail = groupsOf(s.slice(dbl + 2), true);
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { out[2 * i] = g >> 8; out[2 * i + 1] = g & 0xff; });
  return out;
}

/** Bytes of an address of the given family, or undefined when the text is not one. */
export function ipBytes(family: Family, s: string): Uint8Array | undefined {
  return family === 4 ? parseV4(s) : parseV6(s);
}

/** Family and bytes of an address, or undefined when the text is neither IPv4 nor IPv6. */
export function parseIp(s: string): { family: Family; bytes: Uint8Array } | undefined {
  const v4 = parseV4(s);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseV6(s);
  return v6 ? { family: 6, bytes: v6 } : undefined;
}

export const ipFamily = (s: string): Family | undefined => parseIp(s)?.family;
/** Is `s` an address (of `family`, if given)? */
export const isIp = (s: string, family?: Family): boolean => {
  const f = ipFamily(s);
  return f !== undefined && (family === undefined || f === family);
};

function formatV6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(':');
  if (bestStart === -1) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

/** Text of 4 bytes (IPv4) or 16 bytes (IPv6, RFC 5952); undefined for other lengths. */
export function formatIp(b: Uint8Array): string | undefined {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length === 16) return formatV6(b);
  return undefined;
}

/** Canonical text of an address ("2001:DB8::0:1" -> "2001:db8::1"), or undefined if it does not parse (as `family`). */
export function canonicalIp(s: string, family?: Family): string | undefined {
  const p = parseIp(s);
  if (!p || (family !== undefined && p.family !== family)) return undefined;
  return formatIp(p.bytes);
}

const toBig = (b: Uint8Array): bigint => b.reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);
function fromBig(n: bigint, f: Family): string {
  const out = new Uint8Array(addrBytes(f));
  for (let i = out.length - 1; i >= 0; i--) { out[i] = Number(n & 0xffn); n >>= 8n; }
  return formatIp(out)!;
}
const maskOf = (f: Family, len: number): bigint => {
  const bits = BigInt(hostPrefixLen(f));
  return len === 0 ? 0n : ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(len))) - 1n);
};

/**
 * Parses "10.0.0.11/24", "2001:db8::11/64" or, unless `requirePrefix`, a plain address (a host prefix: /32 or
 * /128). The address is returned canonical; host bits are kept (a service address with its subnet's length).
 */
export function parseCidr(s: string, opts: { requirePrefix?: boolean; family?: Family } = {}): Cidr | undefined {
  const slash = s.indexOf('/');
  const addr = slash === -1 ? s : s.slice(0, slash);
  const len = slash === -1 ? undefined : s.slice(slash + 1);
  if (len === undefined && opts.requirePrefix) return undefined;
  const p = parseIp(addr);
  if (!p || (opts.family !== undefined && p.family !== opts.family)) return undefined;
  const max = hostPrefixLen(p.family);
  const prefixLen = len === undefined ? max : /^(0|[1-9][0-9]{0,2})$/.test(len) ? Number(len) : NaN;
  if (!(prefixLen >= 0 && prefixLen <= max)) return undefined;
  return { family: p.family, address: formatIp(p.bytes)!, prefixLen };
}

export const formatCidr = (c: { address: string; prefixLen: number }): string => `${c.address}/${c.prefixLen}`;

/** The network address of a prefix ("10.0.0.11/24" -> "10.0.0.0"). */
export function networkOf(c: { address: string; prefixLen: number }): string {
  const p = parseIp(c.address);
  if (!p) return c.address;
  return fromBig(toBig(p.bytes) & maskOf(p.family, c.prefixLen), p.family);
}

/** Is `ip` inside prefix `c` (same family)? */
export function inPrefix(ip: string, c: { address: string; prefixLen: number }): boolean {
  const a = parseIp(ip);
  const b = parseIp(c.address);
  if (!a || !b || a.family !== b.family || c.prefixLen > hostPrefixLen(a.family)) return false;
  const m = maskOf(a.family, c.prefixLen);
  return (toBig(a.bytes) & m) === (toBig(b.bytes) & m);
}

/** The default route's prefix of a family: 0.0.0.0/0 or ::/0. */
export const defaultPrefix = (f: Family): Cidr => ({ family: f, address: f === 4 ? '0.0.0.0' : '::', prefixLen: 0 });

/**
 * Splits a prefix into its two halves ("10.0.0.0/24" -> 10.0.0.0/25, 10.0.0.128/25; "0.0.0.0/0" -> 0/1, 128/1;
 * "::/0" -> ::/1, 8000::/1). Takeover routes are the halves: longer than the kernel's own connected and default
 * routes, they win over them without replacing or deleting anything the operator or the kernel installed (the
 * OpenVPN def1 technique), so failback only removes hanet's own routes. Returns [] for prefixes with nothing to
 * split usefully (IPv4 /31 and longer, IPv6 /127 and longer).
 */
export function halves(c: { address: string; prefixLen: number }): Array<{ dst: string; dstLen: number }> {
  const p = parseIp(c.address);
  if (!p || c.prefixLen >= hostPrefixLen(p.family) - 1) return [];
  const bits = BigInt(hostPrefixLen(p.family));
  const net = toBig(p.bytes) & maskOf(p.family, c.prefixLen);
  const len = c.prefixLen + 1;
  return [
    { dst: fromBig(net, p.family), dstLen: len },
    { dst: fromBig(net | (1n << (bits - BigInt(len))), p.family), dstLen: len },
  ];
}

/**
 * Whether an address with its prefix length names a usable host: IPv4 excludes the network and broadcast
 * addresses of prefixes up to /30; IPv6 excludes the subnet-router anycast address (all host bits zero) of
 * prefixes up to /126. Returns the problem, or undefined.
 */
export function hostProblem(c: Cidr): 'network' | 'broadcast' | undefined {
  const p = parseIp(c.address);
  if (!p) return undefined;
  const max = hostPrefixLen(p.family);
  if (c.prefixLen > max - 2) return undefined;
  const hostMask = ((1n << BigInt(max)) - 1n) ^ maskOf(p.family, c.prefixLen);
  const host = toBig(p.bytes) & hostMask;
  if (host === 0n) return 'network';
  if (p.family === 4 && host === hostMask) return 'broadcast';
  return undefined;
}

/** IPv4 169.254/16 or IPv6 fe80::/10: link-local, never a service address. */
export function isLinkLocal(ip: string): boolean {
  const p = parseIp(ip);
  if (!p) return false;
  return p.family === 4 ? p.bytes[0] === 169 && p.bytes[1] === 254 : p.bytes[0] === 0xfe && (p.bytes[1]! & 0xc0) === 0x80;
}

/** IPv4 224/4 or IPv6 ff00::/8. */
export function isMulticast(ip: string): boolean {
  const p = parseIp(ip);
  if (!p) return false;
  return p.family === 4 ? (p.bytes[0]! & 0xf0) === 0xe0 : p.bytes[0] === 0xff;
}

/** 0.0.0.0 or ::, 127/8 or ::1. */
export function isUnspecifiedOrLoopback(ip: string): boolean {
  const p = parseIp(ip);
  if (!p) return false;
  if (p.family === 4) return p.bytes[0] === 127 || p.bytes.every((x) => x === 0);
  return p.bytes.slice(0, 15).every((x) => x === 0) && (p.bytes[15] === 0 || p.bytes[15] === 1);
}

/** The solicited-node multicast address of an IPv6 address (ff02::1:ffXX:XXXX), the target of NDP solicitations. */
export function solicitedNode(ip: string): string | undefined {
  const b = ipBytes(6, ip);
  if (!b) return undefined;
  const out = new Uint8Array(16);
  out.set([0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, b[13]!, b[14]!, b[15]!]);
  return formatIp(out);
}
