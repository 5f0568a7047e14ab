// The hanet configuration: zod 4 schema of the YAML file (snake_case), cross-field checks, and the typed camelCase
// `Config` the daemon uses. Every problem is reported with its field path, all at once, as one ConfigError.
//
// Rules worth knowing (they are also explained in the annotated example, src/config/example.ts):
//  - Unknown fields are errors (with a "did you mean" hint): a typo in an HA config must not silently become a default.
//  - `public[].default_route` defaults to true for the first public interface only, unless another interface sets it
//    explicitly; at most one interface may carry the default route.
//  - `public[].gateway` is required when ARP probing is on or the interface carries the default route.
//  - `private[]` is a discriminated union on `kind` (only `ethernet` today; `serial` and `udp` slot in later).
//    `kind` may be omitted and then means `ethernet`.
import { z } from 'zod';
import { HanetError } from '../errors.js';
import { inPrefix, type Cidr } from '../core/ip.js';

// ---------------------------------------------------------------------------------------------------------------
// The typed result

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

export interface ProbeConfig {
  /** How often the carrier is read directly (RTM_GETLINK), ms. Kernel notifications can arrive ~1 s late. */
  carrierIntervalMs: number;
  arpIntervalMs: number;
  /** The LAN is failed when this many probes in a row (sent arpIntervalMs apart) got no reply before the next one. */
  arpMisses: number;
  arp: boolean;
}

export interface PublicInterfaceConfig {
  interface: string;
  lan: string;
  /** Service addresses kept reachable, with their prefix (family 4 today). */
  addresses: Cidr[];
  gateway?: string;
  defaultRoute: boolean;
  probe: ProbeConfig;
}

export interface EthernetLinkConfig {
  kind: 'ethernet';
  name: string;
  interface: string;
  /** This node's address on the link, without prefix; undefined: the daemon uses the interface's first IPv4. */
  address?: string;
  /** Prefix length given with `address` ("192.168.100.1/30"), if any. */
  addressPrefixLen?: number;
  peer: string;
  peerAddress: string;
  cost: number;
}

/** One private link to a peer. A discriminated union on `kind`: serial and udp links are added later. */
export type PrivateLinkConfig = EthernetLinkConfig;
export type PrivateLinkKind = PrivateLinkConfig['kind'];

export interface HeartbeatConfig { intervalMs: number; timeoutMs: number }

export interface TakeoverConfig {
  leaseMs: number;
  failbackHoldMs: number;
  garpCount: number;
  garpIntervalMs: number;
  releaseLingerMs: number;
  canHelp: boolean;
}

export interface Config {
  node: string;
  keyFile: string;
  controlSocket: string;
  logLevel: LogLevel;
  /** UDP port of the control protocol on ethernet private links (the same on every node). */
  port: number;
  public: PublicInterfaceConfig[];
  private: PrivateLinkConfig[];
  heartbeat: HeartbeatConfig;
  takeover: TakeoverConfig;
}

export interface ConfigIssue {
  /** Field path like `public[0].addresses[1]`; `(root)` for the document itself; `source:line:col` for YAML syntax. */
  path: string;
  message: string;
}

/** Thrown when a configuration file is missing, unparsable or invalid; `issues` lists every problem found. */
export class ConfigError extends HanetError {
  readonly issues: ConfigIssue[];
  constructor(source: string, issues: ConfigIssue[], options?: { cause?: unknown }) {
    const n = issues.length;
    super('HANET_ERR_CONFIG',
      `${source}: ${n} configuration error${n === 1 ? '' : 's'}:\n` + issues.map((i) => `  ${i.path}: ${i.message}`).join('\n'),
      options);
    this.issues = issues;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Defaults (exported so the example, the docs and the tests use the same numbers)

export const DEFAULTS = {
  keyFile: '/etc/hanet/cluster.key',
  controlSocket: '/run/hanet/hanet.sock',
  logLevel: 'info' as LogLevel,
  port: 7431,
  lan: 'lan0',
  probe: { carrierIntervalMs: 10, arpIntervalMs: 10, arpMisses: 2, arp: true },
  cost: 10,
  heartbeat: { intervalMs: 20, timeoutMs: 200 },
  takeover: { leaseMs: 3000, failbackHoldMs: 1000, garpCount: 3, garpIntervalMs: 50, releaseLingerMs: 2000, canHelp: true },
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Field validators

const NODE_RE = /^[a-z0-9][a-z0-9-]*$/;
// Linux interface names: at most IFNAMSIZ-1 = 15 bytes, no '/', ':' or whitespace; "." and ".." are reserved.
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;
// Strict dotted quad: no leading zeros (inet_aton would read "010" as octal 8).
const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IPV4_RE = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const CIDR_RE = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}/(?:3[0-2]|[12]?[0-9])$`);

export const isIPv4 = (s: string): boolean => IPV4_RE.test(s);
export const isIPv4Cidr = (s: string): boolean => CIDR_RE.test(s);

function toCidr(s: string): Cidr {
  const [address, len] = s.split('/');
  return { family: 4, address: address ?? '', prefixLen: len === undefined ? 32 : Number(len) };
}

const show = (v: unknown): string => {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
};

const nodeName = z.string().superRefine((v, ctx) => {
  if (v.length > 63 || !NODE_RE.test(v)) ctx.addIssue({ code: 'custom', message: `${show(v)} is not a valid node name (lowercase letters, digits and '-', starting with a letter or digit, at most 63)` });
});
const lanName = z.string().superRefine((v, ctx) => {
  if (v.length > 63 || !NODE_RE.test(v)) ctx.addIssue({ code: 'custom', message: `${show(v)} is not a valid LAN name (lowercase letters, digits and '-', at most 63)` });
});
const ifName = z.string().superRefine((v, ctx) => {
  if (!IFNAME_RE.test(v) || v === '.' || v === '..') ctx.addIssue({ code: 'custom', message: `${show(v)} is not a valid interface name (1-15 characters of A-Z a-z 0-9 _ . -)` });
});
const ipv4 = z.string().superRefine((v, ctx) => {
  if (!isIPv4(v)) ctx.addIssue({ code: 'custom', message: `${show(v)} is not an IPv4 address` });
});
const ipv4Cidr = z.string().superRefine((v, ctx) => {
  if (!isIPv4Cidr(v)) { ctx.addIssue({ code: 'custom', message: `${show(v)} is not an IPv4 CIDR (like 10.0.0.11/24)` }); return; }
  const c = toCidr(v);
  if (c.prefixLen <= 30) {
    const hostBits = 32 - c.prefixLen;
    const n = c.address.split('.').reduce((a, o) => a * 256 + Number(o), 0);
    const host = n % 2 ** hostBits;
    if (host === 0) ctx.addIssue({ code: 'custom', message: `${show(v)} is the network address of its prefix, not a host address` });
    else if (host === 2 ** hostBits - 1) ctx.addIssue({ code: 'custom', message: `${show(v)} is the broadcast address of its prefix, not a host address` });
  }
});
const ipv4OptCidr = z.string().superRefine((v, ctx) => {
  if (!isIPv4(v) && !isIPv4Cidr(v)) ctx.addIssue({ code: 'custom', message: `${show(v)} is not an IPv4 address (optionally with /prefix)` });
});
const ms = (min: number, max: number) => z.number().int().min(min).max(max);

// ---------------------------------------------------------------------------------------------------------------
// The YAML schema (snake_case, strict, with defaults)

const probeSchema = z.strictObject({
  carrier_interval_ms: ms(1, 10_000).default(DEFAULTS.probe.carrierIntervalMs),
  arp_interval_ms: ms(1, 10_000).default(DEFAULTS.probe.arpIntervalMs),
  arp_misses: z.number().int().min(1).max(1000).default(DEFAULTS.probe.arpMisses),
  arp: z.boolean().default(DEFAULTS.probe.arp),
});

const publicSchema = z.strictObject({
  interface: ifName,
  lan: lanName.default(DEFAULTS.lan),
  addresses: z.array(ipv4Cidr).min(1),
  gateway: ipv4.optional(),
  default_route: z.boolean().optional(),
  probe: probeSchema.default(() => probeSchema.parse({})),
}).superRefine((p, ctx) => {
  // Refinements also run when some fields failed (zod reports those itself): use only the valid parts.
  const addrs: unknown[] = Array.isArray(p.addresses) ? p.addresses : [];
  const cidrs = addrs.filter((a): a is string => typeof a === 'string' && isIPv4Cidr(a)).map(toCidr);
  if (typeof p.gateway === 'string' && isIPv4(p.gateway) && cidrs.length === addrs.length && cidrs.length > 0) {
    if (!cidrs.some((c) => inPrefix(p.gateway as string, c))) {
      ctx.addIssue({ code: 'custom', path: ['gateway'], message: `${show(p.gateway)} is not inside the prefix of any of the interface's addresses (${p.addresses.join(', ')})` });
    }
    if (cidrs.some((c) => c.address === p.gateway)) {
      ctx.addIssue({ code: 'custom', path: ['gateway'], message: `${show(p.gateway)} is one of the interface's own service addresses` });
    }
  } else if (p.gateway !== undefined) {
    // invalid gateway or addresses: already reported
  } else if (p.probe?.arp !== false) {
    ctx.addIssue({ code: 'custom', path: ['gateway'], message: 'is required when probe.arp is true (the gateway is the ARP probe target); set it, or set probe.arp: false' });
  } else if (p.default_route === true) {
    ctx.addIssue({ code: 'custom', path: ['gateway'], message: 'is required when default_route is true (it is the next hop of the default route)' });
  }
  const seen = new Map<string, number>();
  addrs.forEach((a, i) => {
    if (typeof a !== 'string' || !isIPv4Cidr(a)) return;
    const c = toCidr(a);
    const j = seen.get(c.address);
    if (j !== undefined) ctx.addIssue({ code: 'custom', path: ['addresses', i], message: `${show(c.address)} is listed twice (also addresses[${j}])` });
    else seen.set(c.address, i);
  });
});

const ethernetSchema = z.strictObject({
  kind: z.literal('ethernet'),
  name: lanName.optional(),
  interface: ifName,
  address: ipv4OptCidr.optional(),
  peer: nodeName,
  peer_address: ipv4,
  cost: z.number().int().min(0).max(1_000_000).default(DEFAULTS.cost),
}).superRefine((l, ctx) => {
  if (l.address === undefined || !isIPv4(l.peer_address) || !(isIPv4(l.address) || isIPv4Cidr(l.address))) return;
  const local = toCidr(l.address);
  if (local.address === l.peer_address) {
    ctx.addIssue({ code: 'custom', path: ['peer_address'], message: `${show(l.peer_address)} is the same as this node's address on the link` });
  } else if (l.address.includes('/') && !inPrefix(l.peer_address, local)) {
    ctx.addIssue({ code: 'custom', path: ['peer_address'], message: `${show(l.peer_address)} is not in the same subnet as address ${show(l.address)}` });
  }
});

const PRIVATE_KINDS = ['ethernet'] as const;
const LATER_KINDS = ['serial', 'udp'];

const privateSchema = z.preprocess(
  // `kind` may be omitted: it means ethernet, the only kind so far.
  (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && !('kind' in v) ? { kind: 'ethernet', ...v } : v),
  z.discriminatedUnion('kind', [ethernetSchema], {
    error: (iss) => {
      const kind = (iss.input as { kind?: unknown } | undefined)?.kind;
      if (typeof kind === 'string' && LATER_KINDS.includes(kind)) return `${show(kind)} is not supported yet (supported: ${PRIVATE_KINDS.join(', ')})`;
      if (iss.input === null || typeof iss.input !== 'object' || Array.isArray(iss.input)) return `must be a mapping, got ${show(iss.input)}`;
      return `${show(kind)} is not a known private link kind (supported: ${PRIVATE_KINDS.join(', ')})`;
    },
  }),
);

const heartbeatSchema = z.strictObject({
  interval_ms: ms(1, 60_000).default(DEFAULTS.heartbeat.intervalMs),
  timeout_ms: ms(1, 600_000).default(DEFAULTS.heartbeat.timeoutMs),
}).superRefine((h, ctx) => {
  if (typeof h.timeout_ms === 'number' && typeof h.interval_ms === 'number' && !(h.timeout_ms > 2 * h.interval_ms)) {
    ctx.addIssue({ code: 'custom', path: ['timeout_ms'], message: `must be more than 2 * interval_ms (${2 * h.interval_ms}), got ${h.timeout_ms}: one lost heartbeat must not declare the link down` });
  }
});

const takeoverSchema = z.strictObject({
  lease_ms: ms(1, 3_600_000).default(DEFAULTS.takeover.leaseMs),
  failback_hold_ms: ms(0, 3_600_000).default(DEFAULTS.takeover.failbackHoldMs),
  garp_count: z.number().int().min(0).max(100).default(DEFAULTS.takeover.garpCount),
  garp_interval_ms: ms(1, 60_000).default(DEFAULTS.takeover.garpIntervalMs),
  release_linger_ms: ms(0, 3_600_000).default(DEFAULTS.takeover.releaseLingerMs),
  can_help: z.boolean().default(DEFAULTS.takeover.canHelp),
});

const absPath = z.string().min(1).superRefine((v, ctx) => {
  if (!v.startsWith('/')) ctx.addIssue({ code: 'custom', message: `${show(v)} is not an absolute path` });
});

export const configSchema = z.strictObject({
  node: nodeName,
  key_file: absPath.default(DEFAULTS.keyFile),
  control_socket: absPath.default(DEFAULTS.controlSocket),
  log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default(DEFAULTS.logLevel),
  port: z.number().int().min(1).max(65535).default(DEFAULTS.port),
  public: z.array(publicSchema).min(1),
  private: z.array(privateSchema).min(1),
  heartbeat: heartbeatSchema.default(() => heartbeatSchema.parse({})),
  takeover: takeoverSchema.default(() => takeoverSchema.parse({})),
}).superRefine((c, ctx) => crossChecks(c, ctx), { when: () => true });

export type RawConfig = z.output<typeof configSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Cross-field checks over the whole document. They run even when parts of the document failed to parse (so all
// problems are reported at once), hence they read the partially parsed value defensively.

type Ctx = { addIssue(i: { code: 'custom'; path: PropertyKey[]; message: string }): void };
const rec = (v: unknown): Record<string, unknown> | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

function crossChecks(input: unknown, ctx: Ctx): void {
  const c = rec(input);
  if (!c) return;
  const node = str(c.node);
  const pubs = arr(c.public).map(rec);
  const privs = arr(c.private).map(rec);

  // Interface names are unique across public interfaces and private links (one role per interface).
  const ifSeen = new Map<string, string>();
  const claimIf = (name: string | undefined, path: PropertyKey[]): void => {
    if (name === undefined) return;
    const prev = ifSeen.get(name);
    if (prev !== undefined) ctx.addIssue({ code: 'custom', path, message: `interface ${show(name)} is already used by ${prev}` });
    else ifSeen.set(name, pathString(path.slice(0, 2)));
  };
  pubs.forEach((p, i) => claimIf(str(p?.interface), ['public', i, 'interface']));
  privs.forEach((l, i) => claimIf(str(l?.interface), ['private', i, 'interface']));

  // A service address belongs to one public interface.
  const addrSeen = new Map<string, string>();
  pubs.forEach((p, i) => arr(p?.addresses).forEach((a, j) => {
    const s = str(a);
    if (s === undefined || !isIPv4Cidr(s)) return;
    const ip = toCidr(s).address;
    const prev = addrSeen.get(ip);
    if (prev !== undefined && !prev.startsWith(`public[${i}]`)) ctx.addIssue({ code: 'custom', path: ['public', i, 'addresses', j], message: `${show(ip)} is already a service address of ${prev}` });
    else if (prev === undefined) addrSeen.set(ip, `public[${i}].addresses[${j}]`);
  }));

  // At most one default route.
  const explicitDefault = pubs.map((p) => p?.default_route === true);
  const firstExplicit = explicitDefault.indexOf(true);
  explicitDefault.forEach((d, i) => {
    if (d && i !== firstExplicit) ctx.addIssue({ code: 'custom', path: ['public', i, 'default_route'], message: `only one public interface may carry the default route (public[${firstExplicit}] already does)` });
  });

  // Private links: not to ourselves, unique names.
  const nameSeen = new Map<string, number>();
  privs.forEach((l, i) => {
    if (!l) return;
    const peer = str(l.peer);
    if (node !== undefined && peer === node) ctx.addIssue({ code: 'custom', path: ['private', i, 'peer'], message: `${show(peer)} is this node itself; a private link must lead to another node` });
    const name = str(l.name) ?? str(l.interface);
    if (name === undefined) return;
    const prev = nameSeen.get(name);
    if (prev !== undefined) ctx.addIssue({ code: 'custom', path: ['private', i, l.name !== undefined ? 'name' : 'interface'], message: `link name ${show(name)} is already used by private[${prev}]${l.name === undefined ? ' (the name defaults to the interface; set name)' : ''}` });
    else nameSeen.set(name, i);
  });

  // The lease must survive a missed heartbeat window, else a helper drops the owner's addresses while the owner
  // is merely waiting to notice the link is down.
  const hb = rec(c.heartbeat);
  const tk = rec(c.takeover);
  const timeout = num(hb?.timeout_ms);
  const lease = num(tk?.lease_ms);
  if (timeout !== undefined && lease !== undefined && !(lease > timeout)) {
    ctx.addIssue({ code: 'custom', path: ['takeover', 'lease_ms'], message: `must be more than heartbeat.timeout_ms (${timeout}), got ${lease}` });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Issue formatting

/** `['public', 0, 'addresses', 1]` -> `public[0].addresses[1]`; `[]` -> `(root)`. */
export function pathString(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += (s === '' ? '' : '.') + String(p);
  }
  return s === '' ? '(root)' : s;
}

const typeName = (v: unknown): string => {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${show(v)}`;
};

const EXPECTED: Record<string, string> = {
  string: 'a string', number: 'a number', int: 'an integer', boolean: 'true or false', array: 'a list', object: 'a mapping',
};

/** Per-parse zod error map: standard zod issues in operator language. Custom issues keep their message. */
function errorMessage(iss: z.core.$ZodRawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'is required';
      return `must be ${EXPECTED[iss.expected] ?? iss.expected}, got ${typeName(iss.input)}`;
    case 'too_small':
      if (iss.origin === 'array') return `must have at least ${String(iss.minimum)} entr${iss.minimum === 1 ? 'y' : 'ies'}`;
      if (iss.origin === 'string') return 'must not be empty';
      return `must be at least ${String(iss.minimum)}, got ${show(iss.input)}`;
    case 'too_big':
      if (iss.origin === 'array') return `must have at most ${String(iss.maximum)} entries`;
      return `must be at most ${String(iss.maximum)}, got ${show(iss.input)}`;
    case 'invalid_value':
      return `${show(iss.input)} is not one of ${iss.values.map((v) => show(v)).join(', ')}`;
    default:
      return undefined;
  }
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] as number;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j] as number;
      d[j] = Math.min((d[j] as number) + 1, (d[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length] as number;
}

/** The known field names at a path of the YAML schema (for "did you mean" hints). */
function knownKeys(path: readonly PropertyKey[]): string[] {
  const p = path.filter((k) => typeof k === 'string').join('.');
  const shapes: Record<string, object> = {
    '': configSchema.shape, public: publicSchema.shape, 'public.probe': probeSchema.shape,
    private: ethernetSchema.shape, heartbeat: heartbeatSchema.shape, takeover: takeoverSchema.shape,
  };
  return Object.keys(shapes[p] ?? {});
}

function toIssues(err: z.ZodError): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const iss of err.issues) {
    if (iss.code === 'unrecognized_keys') {
      for (const k of iss.keys) {
        const hint = knownKeys(iss.path)
          .map((c) => ({ c, d: levenshtein(k, c) }))
          .filter((x) => x.d <= Math.max(2, Math.floor(k.length / 3)))
          .sort((x, y) => x.d - y.d)[0];
        out.push({ path: pathString([...iss.path, k]), message: `unknown field${hint ? ` (did you mean ${show(hint.c)}?)` : ''}` });
      }
    } else {
      out.push({ path: pathString(iss.path), message: iss.message });
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Validation entry point (the document is already parsed from YAML)

function toConfig(r: RawConfig): Config {
  const anyExplicitDefault = r.public.some((p) => p.default_route === true);
  return {
    node: r.node,
    keyFile: r.key_file,
    controlSocket: r.control_socket,
    logLevel: r.log_level,
    port: r.port,
    public: r.public.map((p, i) => ({
      interface: p.interface,
      lan: p.lan,
      addresses: p.addresses.map(toCidr),
      ...(p.gateway !== undefined ? { gateway: p.gateway } : {}),
      defaultRoute: p.default_route ?? (i === 0 && !anyExplicitDefault),
      probe: {
        carrierIntervalMs: p.probe.carrier_interval_ms,
        arpIntervalMs: p.probe.arp_interval_ms,
        arpMisses: p.probe.arp_misses,
        arp: p.probe.arp,
      },
    })),
    private: r.private.map((l) => {
      const local = l.address !== undefined ? toCidr(l.address) : undefined;
      return {
        kind: l.kind,
        name: l.name ?? l.interface,
        interface: l.interface,
        ...(local ? { address: local.address } : {}),
        ...(local && l.address?.includes('/') ? { addressPrefixLen: local.prefixLen } : {}),
        peer: l.peer,
        peerAddress: l.peer_address,
        cost: l.cost,
      };
    }),
    heartbeat: { intervalMs: r.heartbeat.interval_ms, timeoutMs: r.heartbeat.timeout_ms },
    takeover: {
      leaseMs: r.takeover.lease_ms,
      failbackHoldMs: r.takeover.failback_hold_ms,
      garpCount: r.takeover.garp_count,
      garpIntervalMs: r.takeover.garp_interval_ms,
      releaseLingerMs: r.takeover.release_linger_ms,
      canHelp: r.takeover.can_help,
    },
  };
}

/** Validates an already-parsed document (e.g. from YAML). Returns the Config or every issue found. */
export function validateConfig(doc: unknown): { ok: true; config: Config } | { ok: false; issues: ConfigIssue[] } {
  if (doc === null || doc === undefined) return { ok: false, issues: [{ path: '(root)', message: 'the configuration is empty' }] };
  const r = configSchema.safeParse(doc, { error: errorMessage });
  if (!r.success) return { ok: false, issues: toIssues(r.error) };
  return { ok: true, config: toConfig(r.data) };
}
