// Field validators of the configuration schema: names, paths, durations and (family-aware) addresses. Every
// address is parsed by the one address module, src/core/ip.ts; the messages here are the ones operators see.
import { z } from 'zod';
import { canonicalIp, hostProblem, ipFamily, isIp, parseCidr, type Cidr, type Family } from '../core/ip.js';

/** A value as it appears in a message: strings quoted, collections named. */
export const show = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
};

/** A string field checked by `problem` (a message, or undefined when the value is fine). */
const checked = (problem: (v: string) => string | undefined) => z.string().superRefine((v, ctx) => {
  const message = problem(v);
  if (message !== undefined) ctx.addIssue({ code: 'custom', message });
});

const NAME_RE = /^[a-z0-9][a-z0-9-]*$/;
// Linux interface names: at most IFNAMSIZ-1 = 15 bytes, no '/', ':' or whitespace; "." and ".." are reserved.
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

export const nodeName = checked((v) => (v.length > 63 || !NAME_RE.test(v)
  ? `${show(v)} is not a valid node name (lowercase letters, digits and '-', starting with a letter or digit, at most 63)` : undefined));
export const lanName = checked((v) => (v.length > 63 || !NAME_RE.test(v)
  ? `${show(v)} is not a valid LAN name (lowercase letters, digits and '-', at most 63)` : undefined));
export const ifName = checked((v) => (!IFNAME_RE.test(v) || v === '.' || v === '..'
  ? `${show(v)} is not a valid interface name (1-15 characters of A-Z a-z 0-9 _ . -)` : undefined));
export const absPath = z.string().min(1).superRefine((v, ctx) => {
  if (!v.startsWith('/')) ctx.addIssue({ code: 'custom', message: `${show(v)} is not an absolute path` });
});
/** A whole number of milliseconds in [min, max]. */
export const ms = (min: number, max: number) => z.number().int().min(min).max(max);
export const cost = (byDefault: number) => z.number().int().min(0).max(1_000_000).default(byDefault)
  .meta({ description: 'Lower is preferred when choosing a helper among the peers that can help.' });

// ---------------------------------------------------------------------------------------------------------------
// Addresses. Each address field names the families it accepts: IPv4 only today; IPv6 is enabled per field by
// adding 6 to its list (the messages and the examples in them follow).

export type Families = readonly Family[];
export const IPV4: Families = [4];

export const familyText = (fs: Families): string => fs.map((f) => `IPv${f}`).join(' or ');
const CIDR_EXAMPLE: Record<Family, string> = { 4: '10.0.0.11/24', 6: '2001:db8::11/64' };
const inFamilies = (c: Cidr | undefined, fs: Families): Cidr | undefined => (c && fs.includes(c.family) ? c : undefined);

/**
 * An address field: its schema, and `parse`, which cross-field checks use on partially parsed documents (it
 * answers only for values the field itself accepts, so a check never adds to a problem already reported).
 */
export interface AddressField<T> { schema: z.ZodType<string, string>; parse(v: unknown): T | undefined }

/** A plain address ("10.0.0.1"); `parse` gives its canonical text. */
export function ipAddress(fs: Families): AddressField<string> {
  const parse = (v: unknown) => {
    if (typeof v !== 'string') return undefined;
    const f = ipFamily(v);
    return f !== undefined && fs.includes(f) ? canonicalIp(v) : undefined;
  };
  return { parse, schema: checked((v) => (parse(v) === undefined ? `${show(v)} is not an ${familyText(fs)} address` : undefined)) };
}

/** An address with an optional /prefix ("192.168.100.1" or "192.168.100.1/30"). */
export function ipMaybePrefix(fs: Families): AddressField<Cidr> {
  const parse = (v: unknown) => (typeof v === 'string' ? inFamilies(parseCidr(v), fs) : undefined);
  return { parse, schema: checked((v) => (parse(v) === undefined ? `${show(v)} is not an ${familyText(fs)} address (optionally with /prefix)` : undefined)) };
}

/** A host address with its prefix ("10.0.0.11/24"): not the network (or broadcast) address of the prefix. */
export function ipHostCidr(fs: Families): AddressField<Cidr> {
  const parse = (v: unknown) => (typeof v === 'string' ? inFamilies(parseCidr(v, { requirePrefix: true }), fs) : undefined);
  const schema = checked((v) => {
    const c = parse(v);
    if (!c) return `${show(v)} is not an ${familyText(fs)} CIDR (like ${fs.map((f) => CIDR_EXAMPLE[f]).join(' or ')})`;
    const p = hostProblem(c);
    return p ? `${show(v)} is the ${p} address of its prefix, not a host address` : undefined;
  });
  return { parse, schema };
}

// ---------------------------------------------------------------------------------------------------------------
// host:port texts

const PORT_RE = /^[0-9]{1,5}$/;
const port = (s: string): number | undefined => (PORT_RE.test(s) && Number(s) >= 1 && Number(s) <= 65535 ? Number(s) : undefined);
// DNS names: letters, digits, '-' and '.'. A text of digits and dots only is an attempted IPv4 address, never a
// name (a top-level label is not all-numeric), so ip.ts judges it.
const NAME_CHARS_RE = /^[A-Za-z0-9.-]+$/;
const DIGITS_AND_DOTS_RE = /^[0-9.]+$/;

/** "127.0.0.1:9742", "0.0.0.0:9742" or "[::1]:9742" -> host and port; undefined if malformed. */
export function parseListen(v: string): { host: string; port: number } | undefined {
  const colon = v.lastIndexOf(':');
  const host = v.slice(0, colon);
  const p = port(v.slice(colon + 1));
  if (colon < 0 || p === undefined) return undefined;
  // IPv6 (or any address) in brackets; a bare host is IPv4.
  if (host.startsWith('[') && host.endsWith(']')) return isIp(host.slice(1, -1)) ? { host: host.slice(1, -1), port: p } : undefined;
  return isIp(host, 4) ? { host, port: p } : undefined;
}

/**
 * "host:port" or "host" (port defaulted); host an address of one of `families` (IPv6 in brackets) or a DNS name.
 * undefined if malformed.
 */
export function parseHostPort(v: string, defaultPort?: number, families: Families = IPV4): { host: string; port: number } | undefined {
  const v6 = families.includes(6);
  if (v6 && isIp(v, 6)) return defaultPort !== undefined ? { host: v, port: defaultPort } : undefined;
  let host = v;
  let portText: string | undefined;
  if (v.startsWith('[')) {
    // Brackets hold an IPv6 address (RFC 3986), and only where the field accepts IPv6.
    const end = v.indexOf(']');
    host = v.slice(1, end);
    const rest = v.slice(end + 1);
    if (!v6 || end < 0 || (rest !== '' && !rest.startsWith(':')) || !isIp(host, 6)) return undefined;
    if (rest !== '') portText = rest.slice(1);
  } else if (v.includes(':')) {
    host = v.slice(0, v.indexOf(':'));
    portText = v.slice(v.indexOf(':') + 1);
  }
  const p = portText !== undefined ? port(portText) : defaultPort;
  if (p === undefined || p < 1 || p > 65535 || host === '') return undefined;
  if (!v.startsWith('[')) {
    if (!NAME_CHARS_RE.test(host)) return undefined;
    if (DIGITS_AND_DOTS_RE.test(host) && !families.some((f) => isIp(host, f))) return undefined;
  }
  return { host, port: p };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading partially parsed values: refinements and document-wide checks also run when parts of the document failed
// (so every problem is reported at once), so they read what they get defensively.

/** The `ctx` of a zod refinement, as the checks use it. */
export type IssueSink = { addIssue(i: { code: 'custom'; path: PropertyKey[]; message: string }): void };
export const rec = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
