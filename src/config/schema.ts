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
import type { HeartbeatSettings, TakeoverSettings } from '../core/types.js';
import { EVENT_TYPES, type CoreEventType } from '../core/types.js';

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

/** A serial line to a peer (RS232/USB serial): IP over a TUN device, framed on the line (src/links/serial.ts). */
/** What every link carried through a TUN device (serial, udp) has: its point-to-point addresses, MTU and cost. */
interface TunLinkFields {
  /** This node's TUN address (point-to-point) and optional prefix given with it. */
  address: string;
  addressPrefixLen?: number;
  peer: string;
  peerAddress: string;
  mtu: number;
  cost: number;
}

export interface SerialLinkConfig extends TunLinkFields {
  kind: 'serial';
  name: string;
  /** The TUN device hanet creates (default `hn<name>`). */
  interface: string;
  device: string;
  baud: number;
  /** Heartbeats on this link (a slow line cannot carry the global 20 ms rate). */
  heartbeat: HeartbeatConfig;
}

/** A routed private network to a peer: IP over a TUN device in authenticated UDP (src/links/udp-tunnel.ts). */
export interface UdpLinkConfig extends TunLinkFields {
  kind: 'udp';
  name: string;
  interface: string;
  /** Underlay address and port this node binds. */
  local: { address: string; port: number };
  /** The peer's underlay host (IPv4 or name) and port. */
  remote: { host: string; port: number };
}

/** One private link to a peer: a discriminated union on `kind`. */
export type PrivateLinkConfig = EthernetLinkConfig | SerialLinkConfig | UdpLinkConfig;
export type PrivateLinkKind = PrivateLinkConfig['kind'];

/** The core's own settings types: the config sections are exactly what the core consumes. */
export type HeartbeatConfig = HeartbeatSettings;
export type TakeoverConfig = TakeoverSettings;

/** The Prometheus metrics endpoint (GET /metrics). */
export interface MetricsConfig {
  enabled: boolean;
  /** Address and port to listen on; loopback by default (the metrics tell an attacker the cluster's state). */
  host: string;
  port: number;
}

/** An executable run on state changes (like keepalived's notify scripts), with the event in its environment. */
export interface NotifyConfig {
  command: string;
  /** Extra arguments before the event name (which is always the last argument). */
  args: string[];
  /** Killed (its process group: SIGTERM, then SIGKILL 1 s later) after this long. */
  timeoutMs: number;
  events: CoreEventType[];
  /** Hooks running at once; further events queue (at most maxQueue; beyond that the oldest waiting is dropped). */
  maxConcurrent: number;
  maxQueue: number;
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
  metrics: MetricsConfig;
  /** Undefined: no notify hook. */
  notify?: NotifyConfig;
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
  serial: { cost: 100, bitsPerByte: 10, heartbeatBytes: 256, heartbeatLineShare: 0.1, timeoutIntervals: 4 },
  udp: { cost: 20, port: 7432, mtu: 1420 },
  heartbeat: { intervalMs: 20, timeoutMs: 200 },
  takeover: { leaseMs: 3000, failbackHoldMs: 1000, garpCount: 3, garpIntervalMs: 50, releaseLingerMs: 2000, canHelp: true },
  metrics: { enabled: true, listen: '127.0.0.1:9742' },
  notify: {
    timeoutMs: 10_000,
    // One at a time: a script sees the events in the order they happened (takeover before failback).
    maxConcurrent: 1,
    maxQueue: 32,
    /** State changes an operator acts on; not the protocol chatter (release-acked, message-rejected, kernel-changed ...). */
    events: ['ready', 'iface-failed', 'iface-recovered', 'local-backup', 'takeover-requested', 'takeover-acked', 'takeover-refused',
      'helper-switch', 'unserved', 'failback', 'help-start', 'help-release', 'lease-expired', 'help-link-down', 'peer-up', 'peer-down'] as CoreEventType[],
  },
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

const absPath = z.string().min(1).superRefine((v, ctx) => {
  if (!v.startsWith('/')) ctx.addIssue({ code: 'custom', message: `${show(v)} is not an absolute path` });
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

/**
 * Heartbeats on a serial link: at most `heartbeatLineShare` of the line for a heartbeat of `heartbeatBytes`
 * (115200 baud: every 230 ms, timeout 920 ms), never faster than the global interval. Exported for docs and tests.
 */
export function serialHeartbeatDefaults(baud: number, globalIntervalMs: number = DEFAULTS.heartbeat.intervalMs): HeartbeatConfig {
  const d = DEFAULTS.serial;
  const ms = (d.heartbeatBytes * d.bitsPerByte * 1000) / baud / d.heartbeatLineShare;
  const intervalMs = Math.max(globalIntervalMs, Math.ceil(ms / 10) * 10);
  return { intervalMs, timeoutMs: intervalMs * d.timeoutIntervals };
}

/** A serial link's heartbeat settings: explicit values, else the defaults for its baud rate. */
export function serialLinkHeartbeat(baud: number, intervalMs: number | undefined, timeoutMs: number | undefined, globalIntervalMs?: number): HeartbeatConfig {
  const d = serialHeartbeatDefaults(baud, globalIntervalMs);
  const interval = intervalMs ?? d.intervalMs;
  return { intervalMs: interval, timeoutMs: timeoutMs ?? (intervalMs !== undefined ? interval * DEFAULTS.serial.timeoutIntervals : d.timeoutMs) };
}

/** The default serial MTU: a full frame is at most ~50 ms of line time, within 296..1500 (115200 baud: 576). */
export function serialMtuDefault(baud: number): number {
  return Math.max(296, Math.min(1500, Math.floor((baud / DEFAULTS.serial.bitsPerByte) * 0.05)));
}

/** "host:port" or "host" (port defaulted); host an IPv4 address or a DNS name. undefined if malformed. */
export function parseHostPort(v: string, defaultPort?: number): { host: string; port: number } | undefined {
  const m = /^([A-Za-z0-9.-]+?)(?::([0-9]{1,5}))?$/.exec(v);
  if (!m) return undefined;
  const host = m[1]!;
  const port = m[2] !== undefined ? Number(m[2]) : defaultPort;
  if (port === undefined || port < 1 || port > 65535) return undefined;
  if (/^[0-9.]+$/.test(host) && !isIPv4(host)) return undefined;
  return { host, port };
}

/** Checks shared by the TUN-backed kinds: the TUN name and the two point-to-point addresses. */
function tunLinkChecks(l: { name?: unknown; interface?: unknown; address?: unknown; peer_address?: unknown }, ctx: Ctx): void {
  if (l.interface === undefined && typeof l.name === 'string' && `hn${l.name}`.length > 15) {
    ctx.addIssue({ code: 'custom', path: ['interface'], message: `the default TUN name "hn${l.name}" is longer than 15 characters: set interface, or a shorter name` });
  }
  const a = typeof l.address === 'string' ? l.address : undefined;
  const p = typeof l.peer_address === 'string' ? l.peer_address : undefined;
  if (a === undefined || p === undefined || !isIPv4(p) || !(isIPv4(a) || isIPv4Cidr(a))) return;
  const local = toCidr(a);
  if (local.address === p) ctx.addIssue({ code: 'custom', path: ['peer_address'], message: `${show(p)} is the same as this node's address on the link` });
  else if (a.includes('/') && !inPrefix(p, local)) ctx.addIssue({ code: 'custom', path: ['peer_address'], message: `${show(p)} is not in the same subnet as address ${show(a)}` });
}

const SERIAL_BAUDS = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000];

const serialSchema = z.strictObject({
  kind: z.literal('serial'),
  name: lanName,
  interface: ifName.optional(),
  device: absPath,
  baud: z.number().int().superRefine((v, ctx) => {
    if (!SERIAL_BAUDS.includes(v)) ctx.addIssue({ code: 'custom', message: `${v} is not a standard baud rate (${SERIAL_BAUDS.join(', ')})` });
  }),
  address: ipv4OptCidr,
  peer: nodeName,
  peer_address: ipv4,
  mtu: z.number().int().min(68).max(9000).optional(),
  cost: z.number().int().min(0).max(1_000_000).default(DEFAULTS.serial.cost),
  heartbeat_interval_ms: ms(1, 60_000).optional(),
  heartbeat_timeout_ms: ms(1, 600_000).optional(),
}).superRefine((l, ctx) => {
  tunLinkChecks(l, ctx);
  if (typeof l.baud !== 'number') return;
  const interval = serialLinkHeartbeat(l.baud, l.heartbeat_interval_ms, undefined).intervalMs;
  const timeout = serialLinkHeartbeat(l.baud, l.heartbeat_interval_ms, l.heartbeat_timeout_ms).timeoutMs;
  if (!(timeout > 2 * interval)) ctx.addIssue({ code: 'custom', path: ['heartbeat_timeout_ms'], message: `must be more than 2 * heartbeat_interval_ms (${2 * interval}), got ${timeout}` });
});

const udpSchema = z.strictObject({
  kind: z.literal('udp'),
  name: lanName,
  interface: ifName.optional(),
  local: z.string().superRefine((v, ctx) => {
    const hp = parseHostPort(v, DEFAULTS.udp.port);
    if (!hp || !isIPv4(hp.host)) ctx.addIssue({ code: 'custom', message: `${show(v)} is not ADDRESS[:PORT] with an IPv4 address (like 192.168.100.1:${DEFAULTS.udp.port})` });
  }),
  remote: z.string().superRefine((v, ctx) => {
    if (!parseHostPort(v, DEFAULTS.udp.port)) ctx.addIssue({ code: 'custom', message: `${show(v)} is not HOST[:PORT] (like 192.168.100.6:${DEFAULTS.udp.port})` });
  }),
  address: ipv4OptCidr,
  peer: nodeName,
  peer_address: ipv4,
  mtu: z.number().int().min(576).max(9000).default(DEFAULTS.udp.mtu),
  cost: z.number().int().min(0).max(1_000_000).default(DEFAULTS.udp.cost),
}).superRefine((l, ctx) => tunLinkChecks(l, ctx));

const PRIVATE_KINDS = ['ethernet', 'serial', 'udp'] as const;

const privateSchema = z.preprocess(
  // `kind` may be omitted: it means ethernet.
  (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && !('kind' in v) ? { kind: 'ethernet', ...v } : v),
  z.discriminatedUnion('kind', [ethernetSchema, serialSchema, udpSchema], {
    error: (iss) => {
      const kind = (iss.input as { kind?: unknown } | undefined)?.kind;
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


/** "127.0.0.1:9742", "0.0.0.0:9742" or "[::1]:9742" -> host and port; undefined if malformed. */
export function parseListen(v: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([0-9.]+)):([0-9]{1,5})$/.exec(v);
  if (!m) return undefined;
  const host = m[1] ?? m[2] ?? '';
  const port = Number(m[3]);
  if (port < 1 || port > 65535 || (m[2] !== undefined && !isIPv4(host))) return undefined;
  return { host, port };
}

const metricsSchema = z.strictObject({
  enabled: z.boolean().default(DEFAULTS.metrics.enabled),
  listen: z.string().superRefine((v, ctx) => {
    if (!parseListen(v)) ctx.addIssue({ code: 'custom', message: `${show(v)} is not ADDRESS:PORT (like 127.0.0.1:9742 or [::1]:9742)` });
  }).default(DEFAULTS.metrics.listen),
});

const notifySchema = z.strictObject({
  command: absPath,
  args: z.array(z.string()).max(32).default([]),
  timeout_ms: ms(1, 3_600_000).default(DEFAULTS.notify.timeoutMs),
  events: z.array(z.enum(EVENT_TYPES)).min(1).default([...DEFAULTS.notify.events]),
  max_concurrent: z.number().int().min(1).max(64).default(DEFAULTS.notify.maxConcurrent),
  max_queue: z.number().int().min(0).max(10_000).default(DEFAULTS.notify.maxQueue),
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
  metrics: metricsSchema.default(() => metricsSchema.parse({})),
  notify: notifySchema.optional(),
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
  privs.forEach((l, i) => {
    // serial and udp links create a TUN named by `interface`, default `hn<name>`.
    const tun = (l?.kind === 'serial' || l?.kind === 'udp') && l.interface === undefined && str(l.name) !== undefined ? `hn${str(l.name)}` : undefined;
    claimIf(str(l?.interface) ?? tun, ['private', i, l?.interface === undefined && tun ? 'name' : 'interface']);
  });

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
  const hb0 = hb;
  const tk = rec(c.takeover);
  const timeout = num(hb?.timeout_ms);
  const lease = num(tk?.lease_ms);
  if (timeout !== undefined && lease !== undefined && !(lease > timeout)) {
    ctx.addIssue({ code: 'custom', path: ['takeover', 'lease_ms'], message: `must be more than heartbeat.timeout_ms (${timeout}), got ${lease}` });
  }
  // The same for a serial link's own (slower) heartbeats.
  const leaseOrDefault = lease ?? DEFAULTS.takeover.leaseMs;
  privs.forEach((l, i) => {
    const baud = num(l?.baud);
    if (l?.kind !== 'serial' || baud === undefined || baud <= 0) return;
    const hb = serialLinkHeartbeat(baud, num(l.heartbeat_interval_ms), num(l.heartbeat_timeout_ms), num(hb0?.interval_ms));
    if (!(leaseOrDefault > hb.timeoutMs)) {
      ctx.addIssue({ code: 'custom', path: ['private', i, l.heartbeat_timeout_ms !== undefined ? 'heartbeat_timeout_ms' : 'baud'], message: `this link's heartbeat timeout (${hb.timeoutMs} ms${l.heartbeat_timeout_ms === undefined ? `, the default at ${baud} baud` : ''}) must be less than takeover.lease_ms (${leaseOrDefault}): raise lease_ms or set heartbeat_timeout_ms` });
    }
  });
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
    private: { ...ethernetSchema.shape, ...serialSchema.shape, ...udpSchema.shape }, heartbeat: heartbeatSchema.shape, takeover: takeoverSchema.shape,
    metrics: metricsSchema.shape, notify: notifySchema.shape,
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
    private: r.private.map((l): PrivateLinkConfig => {
      const local = l.address !== undefined ? toCidr(l.address) : undefined;
      if (l.kind === 'serial' || l.kind === 'udp') {
        const tun = {
          name: l.name, interface: l.interface ?? `hn${l.name}`, address: local!.address,
          ...(l.address.includes('/') ? { addressPrefixLen: local!.prefixLen } : {}),
          peer: l.peer, peerAddress: l.peer_address, cost: l.cost,
        };
        if (l.kind === 'serial') {
          return {
            kind: 'serial', ...tun, device: l.device, baud: l.baud, mtu: l.mtu ?? serialMtuDefault(l.baud),
            heartbeat: serialLinkHeartbeat(l.baud, l.heartbeat_interval_ms, l.heartbeat_timeout_ms, r.heartbeat.interval_ms),
          };
        }
        const lp = parseHostPort(l.local, DEFAULTS.udp.port)!;
        return { kind: 'udp', ...tun, local: { address: lp.host, port: lp.port }, remote: parseHostPort(l.remote, DEFAULTS.udp.port)!, mtu: l.mtu };
      }
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
    metrics: { enabled: r.metrics.enabled, ...parseListen(r.metrics.listen)! },
    ...(r.notify ? {
      notify: {
        command: r.notify.command, args: r.notify.args, timeoutMs: r.notify.timeout_ms, events: r.notify.events,
        maxConcurrent: r.notify.max_concurrent, maxQueue: r.notify.max_queue,
      },
    } : {}),
  };
}

/** Validates an already-parsed document (e.g. from YAML). Returns the Config or every issue found. */
export function validateConfig(doc: unknown): { ok: true; config: Config } | { ok: false; issues: ConfigIssue[] } {
  if (doc === null || doc === undefined) return { ok: false, issues: [{ path: '(root)', message: 'the configuration is empty' }] };
  const r = configSchema.safeParse(doc, { error: errorMessage });
  if (!r.success) return { ok: false, issues: toIssues(r.error) };
  return { ok: true, config: toConfig(r.data) };
}
