// Types of the pure core: its configuration view, the observations it takes, and the effects it returns as data.
import type { DesiredKernelState, ProxySpec, RouteSpec } from './kernel-types.js';
import type { PeerMessage } from './messages.js';

export type { Claim, HeartbeatEcho, PeerMessage } from './messages.js';

/**
 * How a helper makes a failed owner's addresses reach it: 'l2' on one Ethernet segment (proxy ARP/NDP, gratuitous
 * ARP); 'l3' in a routed fabric (a host route with protocol 78 that BIRD announces over BGP; nothing on the link).
 */
export type PublicMode = 'l2' | 'l3';

export interface CorePublic {
  iface: string;
  lan: string;
  /** Default 'l2'. */
  mode?: PublicMode;
  /** Service addresses of either family, with their prefix length. */
  addresses: Array<{ address: string; prefixLen: number }>;
  /** The LAN's gateways, at most one per family (an IPv6 one may be link-local): probe targets and default next hops. */
  gateways: string[];
  defaultRoute: boolean;
  arp: boolean;
  arpIntervalMs: number;
  arpMisses: number;
  /**
   * mode l3: the daemon watches this interface's BGP sessions in BIRD (`bgp` events) and a helper carries the LAN only
   * while one is Established: a host route BIRD cannot announce would leave the owner's address a black hole.
   * Default false: assumed announcing.
   */
  bgpCheck?: boolean;
}

/** The kinds of private link: a kernel-forwarded Ethernet port, a serial line, or a routed network (udp tunnel). */
export type PrivateLinkKind = 'ethernet' | 'serial' | 'udp';

export interface CorePrivate {
  name: string;
  kind: PrivateLinkKind;
  /** The kernel interface packets to the peer leave by (the veth/USB-net port, or the TUN of a serial/udp link). */
  iface: string;
  peer: string;
  /** This node's (IPv4) address on the link, and the peer's: the IPv4 next hop over the link. */
  localAddress: string;
  peerAddress: string;
  /**
   * This node's IPv6 address on an Ethernet link (its link-local, resolved at start): told to the peer in heartbeats,
   * which uses it as the IPv6 next hop toward us. TUN links (serial, udp) need no IPv6 next hop: they are point-to-point.
   */
  localAddress6?: string;
  cost: number;
  /** This link's own heartbeat interval and timeout (a slow serial line); default: CoreConfig.heartbeat. */
  heartbeat?: { intervalMs: number; timeoutMs: number };
}

/** Heartbeat timing of the private links (the configuration's `heartbeat`, or a slow link's own). */
export interface HeartbeatSettings { intervalMs: number; timeoutMs: number }

/** Takeover timing and role (the configuration's `takeover` section, used as it is). */
export interface TakeoverSettings {
  leaseMs: number;
  failbackHoldMs: number;
  garpCount: number;
  garpIntervalMs: number;
  releaseLingerMs: number;
  canHelp: boolean;
}

/** What the running kernel offers that changes how a takeover is set up (found at start). */
export interface KernelFeatures {
  /** Per-interface IPv6 `force_forwarding` (Linux 6.17+): IPv6 forwarding without switching it on for every interface. */
  ipv6ForceForwarding: boolean;
}

export interface CoreConfig {
  node: string;
  publics: CorePublic[];
  privates: CorePrivate[];
  heartbeat: HeartbeatSettings;
  takeover: TakeoverSettings;
  /** Default: none of the optional features. */
  kernel?: KernelFeatures;
}

export type CoreEvent =
  | { type: 'start'; at: number; leftovers?: { routes: RouteSpec[]; proxies: ProxySpec[] } }
  /**
   * A fresh carrier reading of a public interface. `present` false: no such interface (a failure). `error`: the
   * read itself failed (a netlink timeout, ENOBUFS): says nothing about the interface, so the verdict stays.
   */
  | { type: 'carrier'; at: number; iface: string; up: boolean; lowerUp: boolean; present?: boolean; error?: string }
  /**
   * A probe target's status changed on `iface` (a gateway or a LAN peer; counting rules in src/core/probes.ts, the
   * same in the native monitor): `misses` probes in a row unanswered; `confirmed`: answered since the carrier changed.
   */
  | { type: 'probe-status'; at: number; iface: string; target: string; misses: number; confirmed: boolean; rttMs?: number }
  /** The carrier of a private link's interface; `error`: the read failed (the previous state stays). */
  | { type: 'link-carrier'; at: number; link: string; up: boolean; error?: string }
  /** The daemon reconciled the kernel to the desired state of generation `gen` (see docs/CONTRACTS.md, effect order). */
  | { type: 'kernel-applied'; at: number; gen: number; ok: true }
  | { type: 'kernel-applied'; at: number; gen: number; ok: false; error: string }
  /**
   * Whether BIRD has an Established BGP session for `iface` (mode l3 with the check on). `error`: BIRD could not be
   * asked (its control socket); counts as no session.
   */
  | { type: 'bgp'; at: number; iface: string; established: boolean; error?: string }
  /** Another host announced `address` on `iface` (a gratuitous ARP or unsolicited NA from a MAC not ours). */
  | { type: 'announcement'; at: number; iface: string; address: string }
  | { type: 'message'; at: number; link: string; from: string; msg: PeerMessage }
  | { type: 'tick'; at: number }
  /** The daemon is stopping: hand the claims held for peers back first (docs/CONTRACTS.md). */
  | { type: 'stopping'; at: number };

/**
 * Event names: reused in logs, `hanet events`, hooks, metrics labels and tests. The first group comes from the core;
 * the second is recorded by the daemon around the core (what it did with the core's effects, and what it dropped).
 * docs/events.md explains each one; the JSON Schema of `hanet status --json` lists them.
 */
export const CORE_EVENT_TYPES = [
  'ready',
  'iface-failed',
  'iface-recovered',
  'local-backup',
  'takeover-requested',
  'takeover-acked',
  'takeover-refused',
  'helper-switch',
  'unserved',
  'failback',
  'release-acked',
  'help-start',
  'help-renewed-adopted',
  'help-release',
  'help-refused',
  'help-superseded',
  'lease-expired',
  'help-link-down',
  'help-route-removed',
  'peer-up',
  'peer-down',
  'message-ignored',
  'carrier-read-failed',
  'gateway-unreachable',
  'gateway-reachable',
  'bgp-down',
  'bgp-up',
] as const;
export const DAEMON_EVENT_TYPES = [
  /** A private link dropped control messages (bad MAC, replay, ...): rate-limited, `count` says how many. */
  'message-rejected',
  /** The kernel was changed to match the desired state (`ops`: `ip ...` lines, `ms`: how long it took). */
  'kernel-changed',
  /** Reconciling the kernel failed (logged once per distinct error). */
  'kernel-failed',
  /** Gratuitous ARPs went out for addresses (after the kernel held the state they announce). */
  'announced',
] as const;
export const EVENT_TYPES = [...CORE_EVENT_TYPES, ...DAEMON_EVENT_TYPES] as const;

/** Why something happened: reused in logs, events, metrics labels and tests. */
export type CoreEventType = (typeof EVENT_TYPES)[number];

export interface CoreLogEvent {
  type: CoreEventType;
  at: number;
  [k: string]: unknown;
}

export type CoreEffect =
  | { kind: 'send'; link: string; msg: PeerMessage }
  /** Make the kernel hold `desired`, then report `kernel-applied` with this `gen` (generations only grow). */
  | { kind: 'kernel'; desired: DesiredKernelState; gen: number }
  | { kind: 'announce'; iface: string; addresses: string[]; count: number; intervalMs: number }
  /** What to probe on `iface` every probe interval: its gateway first, then LAN peers' addresses (emitted on change). */
  | { kind: 'probe-targets'; iface: string; targets: string[] }
  /** Traffic just moved away from `iface`: drop its dynamic neighbour entries (packets queued there stall TCP). */
  | { kind: 'flush-neighbors'; iface: string }
  | { kind: 'event'; event: CoreLogEvent };
