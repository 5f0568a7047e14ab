// Pure IPv4 address helpers for the core: parsing CIDRs, prefixes and the half-prefix split used for takeover routes.
// IPv6 comes later; every value carries its family so the model does not change then.

export interface Cidr { family: 4; address: string; prefixLen: number }

export function parseIPv4(s: string): number | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const v = Number(p);
    if (v > 255) return undefined;
    n = n * 256 + v;
  }
  return n >>> 0;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Parses "10.0.0.11/24" (or a plain address, taken as /32). */
export function parseCidr(s: string): Cidr | undefined {
  const [addr, len, ...rest] = s.split('/');
  if (rest.length || addr === undefined) return undefined;
  if (parseIPv4(addr) === undefined) return undefined;
  const prefixLen = len === undefined ? 32 : /^\d{1,2}$/.test(len) ? Number(len) : NaN;
  if (!(prefixLen >= 0 && prefixLen <= 32)) return undefined;
  return { family: 4, address: addr, prefixLen };
}

const mask = (len: number): number => (len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0);

/** The network address of a CIDR ("10.0.0.11/24" -> "10.0.0.0"). */
export function networkOf(c: { address: string; prefixLen: number }): string {
  return formatIPv4(((parseIPv4(c.address) ?? 0) & mask(c.prefixLen)) >>> 0);
}

export function inPrefix(ip: string, c: { address: string; prefixLen: number }): boolean {
  const a = parseIPv4(ip);
  const b = parseIPv4(c.address);
  if (a === undefined || b === undefined) return false;
  const m = mask(c.prefixLen);
  return ((a & m) >>> 0) === ((b & m) >>> 0);
}

/**
 * Splits a prefix into its two halves ("10.0.0.0/24" -> 10.0.0.0/25, 10.0.0.128/25; "0.0.0.0/0" -> 0/1, 128/1).
 * Takeover routes are the halves: longer than the kernel's own connected and default routes, they win over them
 * without replacing or deleting anything the operator or the kernel installed (the OpenVPN def1 technique), so
 * failback only removes hanet's own routes. Returns [] for /31 and /32, which have nothing to split usefully.
 */
export function halves(c: { address: string; prefixLen: number }): Array<{ dst: string; dstLen: number }> {
  if (c.prefixLen >= 31) return [];
  const net = (parseIPv4(c.address) ?? 0) & mask(c.prefixLen);
  const len = c.prefixLen + 1;
  return [
    { dst: formatIPv4(net >>> 0), dstLen: len },
    { dst: formatIPv4((net | (1 << (32 - len))) >>> 0), dstLen: len },
  ];
}
