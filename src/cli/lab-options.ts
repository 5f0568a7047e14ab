// What the lab commands' help shows (failure modes, embedded topology names, workload defaults): plain data with
// no imports, so `hanet --help` and the product commands load nothing of src/lab. The lab takes these from here.

export const DEFAULT_LAB = 'lab';
export const DEFAULT_TOPOLOGY = 'pair';

/** How `hanet lab fail` cuts a port: the switch side down, off the bridge (peer keeps carrier), or its own side down. */
export const FAILURE_MODES = ['carrier', 'silent', 'admin'] as const;
export type FailureMode = (typeof FAILURE_MODES)[number];

/** How `hanet lab unplug` cuts a serial link: the adapter pulled out (EOF on the tty), or the bytes vanish. */
export const UNPLUG_MODES = ['hangup', 'silent'] as const;
export type UnplugMode = (typeof UNPLUG_MODES)[number];

/**
 * The topologies built into the lab (src/lab/topologies/), in the order the help lists them. A suffix 46 is the
 * dual-stack version (IPv4 and IPv6 on the client network and the public LAN), 6 the IPv6-only one.
 */
export const EMBEDDED_TOPOLOGY_NAMES = ['pair', 'trio', 'dual', 'pair-delay', 'pair-serial', 'pair-udp', 'pair46', 'trio46', 'dual46', 'pair6', 'trio6', 'dual6', 'quad', 'l3', 'l346'] as const;
export type EmbeddedTopologyName = (typeof EMBEDDED_TOPOLOGY_NAMES)[number];

/** The lab workload's defaults (`hanet lab client|load` options and the in-process client). */
export const WORKLOAD_DEFAULTS = {
  port: 7100,
  persistent: { connections: 4, intervalMs: 10 },
  perRequest: { intervalMs: 20, maxInflight: 1000 },
  slow: { concurrency: 10, holdMs: 2000 },
  bulk: { rateBytesPerSec: 1024 * 1024 },
  requestTimeoutMs: 10_000,
  timelineBucketMs: 10,
  progressIntervalMs: 250,
} as const;
