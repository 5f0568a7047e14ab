// Shared, I/O-free types of the kernel port: the desired kernel state the core computes, the ops the
// applier performs, and the KernelPort interface (implemented by src/os/linux/kernel.ts, and by test/fakes/fake-kernel.ts).

import type { Family } from './ip.js';

export type { Family };

export interface LinkState { index: number; name: string; up: boolean; lowerUp: boolean; carrier: boolean; mac: string; mtu: number }
export interface AddrSpec { family: Family; ifname: string; address: string; prefixLen: number }
/** A route. Identity (what NLM_F_REPLACE matches) is family + table + dst/dstLen + metric. */
export interface RouteSpec {
  family: Family; dst: string; dstLen: number; ifname: string; via?: string; src?: string; metric?: number; table?: number;
  /** 'local': the destination is this host's (table local, like the kernel's own routes for its addresses). Default unicast. */
  type?: 'local';
}
export interface ProxySpec { family: Family; ifname: string; address: string }
/**
 * A policy routing rule: packets that came in on `iif` (and go to `dst`/come from `src`, when given) are looked up in
 * the main table ('lookup-main') or dropped ('blackhole'). Rules select forwarded traffic only when `iif` is set (local
 * traffic has iif lo). Identity: every field.
 */
/**
 * `blackhole`: dropped silently. An ICMP error instead ('prohibit', what an earlier version installed: only read back,
 * to be removed) made a client's connection attempt fail at once when a stale neighbour entry still sent it to a
 * helper that had let go, instead of retrying and reaching the new one (found by the chaos run).
 */
export interface RuleSpec { family: Family; priority: number; iif?: string; dst?: string; dstLen?: number; src?: string; srcLen?: number; action: 'lookup-main' | 'blackhole' | 'prohibit' }
/** path like 'net/ipv4/conf/eth0/rp_filter' (relative to /proc/sys). */
/** `onlyIf`: write `value` only while the current value is this one (e.g. accept_ra 1 -> 2, never 0 -> 2). */
export interface SysctlSpec { path: string; value: string; onlyIf?: string }

export interface DesiredKernelState {
  /** managed addresses that must be present (others of the managed set absent) */
  addresses: AddrSpec[];
  /** the set hanet manages (service addresses on any interface); addresses outside it are never touched */
  managedAddresses: AddrSpec[];
  /** exactly the routes with protocol HANET_RTPROT */
  routes: RouteSpec[];
  /** exactly the proxy neighbour entries with protocol HANET_RTPROT */
  proxies: ProxySpec[];
  /** exactly the policy rules with protocol HANET_RTPROT (absent: none) */
  rules?: RuleSpec[];
  /** values to hold */
  sysctls: SysctlSpec[];
}

/** What the applier found in the kernel (input of the pure planner). */
export interface ActualKernelState {
  /** addresses currently on the interfaces named in desired addresses/managedAddresses (any owner) */
  addresses: AddrSpec[];
  /** routes carrying HANET_RTPROT, all tables */
  routes: RouteSpec[];
  /** proxy neighbour entries carrying HANET_RTPROT */
  proxies: ProxySpec[];
  /** policy rules carrying HANET_RTPROT (absent: none) */
  rules?: RuleSpec[];
  /** current values of the sysctl paths named in the desired state (absent path: not listed) */
  sysctls: SysctlSpec[];
}

/** One change to the kernel. `route-replace` adds or replaces (NLM_F_CREATE|NLM_F_REPLACE). */
export type KernelOp =
  | { op: 'sysctl'; path: string; value: string; previous?: string }
  | { op: 'addr-add'; addr: AddrSpec }
  | { op: 'addr-del'; addr: AddrSpec }
  | { op: 'route-replace'; route: RouteSpec }
  | { op: 'route-del'; route: RouteSpec }
  | { op: 'proxy-add'; proxy: ProxySpec }
  | { op: 'proxy-del'; proxy: ProxySpec }
  | { op: 'rule-add'; rule: RuleSpec }
  | { op: 'rule-del'; rule: RuleSpec };

export type KernelOpKind = KernelOp['op'];

/** What the routes and proxy entries marked as hanet's in the kernel are (an earlier run's, found at start). */
export interface KernelLeftovers { routes: RouteSpec[]; proxies: ProxySpec[]; addresses: AddrSpec[]; rules?: RuleSpec[] }

/** The daemon's one port to the kernel (src/os/linux/kernel.ts; the tests' fake in test/). */
export interface KernelPort {
  /**
   * A fresh RTM_GETLINK (the carrier read is immediate); undefined if the interface does not exist. Throws on any
   * other failure (a timeout, ENOBUFS): the caller reports that as a failed read, never as a missing interface.
   */
  getLink(name: string): Promise<LinkState | undefined>;
  /**
   * Idempotent; returns what it changed (empty when the kernel already matched). Throws if an op failed. May plan
   * from the state it last left; `full` reads the kernel afresh (repairs changes made by others).
   */
  reconcile(desired: DesiredKernelState, opts?: { full?: boolean }): Promise<KernelOp[]>;
  /** Deletes the dynamic neighbour entries of an interface traffic just moved away from; returns how many. */
  flushNeighbors(ifname: string): Promise<number>;
  /** Routes, proxy entries and addresses marked as hanet's that are in the kernel now (from an earlier run). */
  leftovers(): Promise<KernelLeftovers>;
  close(): void;
}
