// Types of the pure core: its configuration view, the observations it takes, and the effects it returns as data.
import type { DesiredKernelState, ProxySpec, RouteSpec } from './kernel-types.js';

export interface CorePublic {
  iface: string;
  lan: string;
  addresses: Array<{ address: string; prefixLen: number }>;
  gateway: string;
  defaultRoute: boolean;
  arp: boolean;
  arpIntervalMs: number;
  arpMisses: number;
}

export interface CorePrivate {
  name: string;
  kind: string;
  /** The kernel interface packets to the peer leave by (the veth/USB-net port, or the TUN of a serial/udp link). */
  iface: string;
  peer: string;
  localAddress: string;
  peerAddress: string;
  cost: number;
}

export interface CoreConfig {
  node: string;
  publics: CorePublic[];
  privates: CorePrivate[];
  heartbeat: { intervalMs: number; timeoutMs: number };
  takeover: {
    leaseMs: number;
    failbackHoldMs: number;
    garpCount: number;
    garpIntervalMs: number;
    releaseLingerMs: number;
    canHelp: boolean;
  };
}

/** Addresses an owner asks one helper to hold: renewed by every heartbeat to that helper. */
export interface Claim {
  claimId: string;
  lan: string;
  addresses: string[];
  ownerLinkAddress: string;
  leaseMs: number;
}

export type PeerMessage =
  | { type: 'heartbeat'; ready?: boolean; lans: Record<string, { healthy: boolean }>; canHelp: boolean; helping: string[]; claims: Claim[] }
  | ({ type: 'takeover' } & Claim)
  | { type: 'takeover-ack'; claimId: string; ok: boolean; reason?: string }
  | { type: 'release'; claimId: string }
  | { type: 'release-ack'; claimId: string };

export type CoreEvent =
  | { type: 'start'; at: number; leftovers?: { routes: RouteSpec[]; proxies: ProxySpec[] } }
  | { type: 'carrier'; at: number; iface: string; up: boolean; lowerUp: boolean; present?: boolean }
  | { type: 'probe-sent'; at: number; iface: string }
  | { type: 'probe-reply'; at: number; iface: string }
  | { type: 'link-carrier'; at: number; link: string; up: boolean }
  | { type: 'message'; at: number; link: string; from: string; msg: PeerMessage }
  | { type: 'tick'; at: number };

/** Why something happened: reused in logs, events, metrics labels and tests. */
export type CoreEventType =
  | 'ready'
  | 'iface-failed'
  | 'iface-recovered'
  | 'local-backup'
  | 'takeover-requested'
  | 'takeover-acked'
  | 'takeover-refused'
  | 'helper-switch'
  | 'unserved'
  | 'failback'
  | 'release-acked'
  | 'help-start'
  | 'help-renewed-adopted'
  | 'help-release'
  | 'help-refused'
  | 'lease-expired'
  | 'help-link-down'
  | 'help-route-removed'
  | 'peer-up'
  | 'peer-down'
  | 'message-ignored';

export interface CoreLogEvent {
  type: CoreEventType;
  at: number;
  [k: string]: unknown;
}

export type CoreEffect =
  | { kind: 'send'; link: string; msg: PeerMessage }
  | { kind: 'kernel'; desired: DesiredKernelState }
  | { kind: 'announce'; iface: string; addresses: string[]; count: number; intervalMs: number }
  | { kind: 'event'; event: CoreLogEvent };
