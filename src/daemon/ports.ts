// The daemon's ports: what it needs from the world (clock, kernel, ARP sockets, private links, a logger),
// injected so the tests run it with fakes on mocked timers.
import type { KernelPort, SysctlSpec } from '../core/kernel-types.js';
import type { CoreConfig, CorePrivate } from '../core/types.js';
import type { Neighbours } from './neighbours.js';
import type { Watcher } from './watch.js';
import type { PrivateLink } from '../links/types.js';
import type { ArpSocket } from '../os/linux/arp.js';
import type { NdpSocket } from '../os/linux/ndp.js';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** Builds the daemon's watcher (src/daemon/watch.ts); the daemon uses the portable PollWatcher when there is none. */
export type WatcherFactory = (ctx: { cfg: CoreConfig; neighbours: (iface: string) => Neighbours | undefined }) => Watcher;

export interface DaemonPorts {
  /** Monotonic milliseconds. */
  now(): number;
  kernel: KernelPort;
  openArp(ifname: string): ArpSocket;
  /** IPv6 neighbour discovery on an interface (needed only for interfaces with IPv6 addresses or gateways). */
  openNdp?(ifname: string): NdpSocket;
  openLink(cfg: CorePrivate): Promise<PrivateLink>;
  log: Logger;
  /** How carrier and probes are watched (production: the native link monitor); default: the portable loop. */
  watch?: WatcherFactory;
  /** Wall clock, ms since the epoch (fractional allowed): heartbeat echoes carry send times on it. Default Date.now. */
  wallNow?(): number;
  /**
   * Watches BIRD's BGP sessions of the L3 interfaces with the check on (src/os/linux/bird-control.ts); `onState`
   * per interface when it changes. Absent: none watched (every L3 interface assumed announcing).
   */
  watchBgp?(onState: (iface: string, established: boolean, error?: string) => void): { close(): void };
  /** Sysctls to put back on a clean stop (their values before hanet changed them: sysctl-memory.ts). */
  sysctlsToRestore?(): SysctlSpec[];
}

export interface DaemonOptions {
  /** How often carrier state is read directly; the smallest carrier interval of the public interfaces. */
  carrierIntervalMs: number;
  /** Re-run the reconcile this often even without a change, to repair drift (e.g. routes an admin-down removed). */
  resyncMs?: number;
}
