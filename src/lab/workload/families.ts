// The workload on both address families at once (a dual-stack server): one service and one client per target
// address, all against the same server node, each on its own port, and a report per family. The services listen
// on `::` (service.ts), so they would take either family; the client of each targets one address.
import { ipFamily, type Family } from '../../core/ip.js';
import { LabError } from '../errors.js';
import type { LabHandle } from '../lab.js';
import { DEFAULTS } from './client.js';
import { startWorkload, type WorkloadHandle, type WorkloadOptions } from './index.js';
import type { WorkloadProgress, WorkloadReport } from './report.js';

/** Report keys by family, as `hanet lab load --family both --json` prints them. */
export type FamilyKey = 'ipv4' | 'ipv6';
export const familyKey = (f: Family): FamilyKey => (f === 4 ? 'ipv4' : 'ipv6');

export interface FamilyWorkloadOptions extends Omit<WorkloadOptions, 'address' | 'requestLog'> {
  /** One address per family (e.g. the server's IPv4 and IPv6 service addresses); port, port + 1 … in this order. */
  addresses: string[];
  /** Per family, the request log of its client. */
  requestLogs?: Partial<Record<FamilyKey, string>>;
}

export interface FamilyWorkloadHandle {
  /** The workloads by family. */
  readonly families: ReadonlyMap<FamilyKey, WorkloadHandle>;
  /** The clients' progress, summed over the families. */
  progress(): WorkloadProgress;
  /** Stops every workload; the report of each family. */
  stop(): Promise<Record<FamilyKey, WorkloadReport | undefined>>;
}

/** Starts one workload per address (at most one per family); resolves once traffic flows on all of them. */
export async function startFamilyWorkloads(lab: LabHandle, opts: FamilyWorkloadOptions, signal?: AbortSignal): Promise<FamilyWorkloadHandle> {
  const keys = opts.addresses.map((a) => {
    const f = ipFamily(a);
    if (f === undefined) throw new LabError(`workload target ${JSON.stringify(a)} is not an IP address`);
    return familyKey(f);
  });
  if (new Set(keys).size !== keys.length) throw new LabError(`one workload per family: ${opts.addresses.join(', ')} has two of one family`);
  const { addresses, requestLogs, ...common } = opts;
  const base = opts.port ?? DEFAULTS.port;
  const started = await Promise.allSettled(addresses.map((address, i) => {
    const log = requestLogs?.[keys[i]!];
    return startWorkload(lab, { ...common, address, port: base + i, ...(log !== undefined ? { requestLog: log } : {}) }, signal);
  }));
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.stop().catch(() => undefined) : undefined)));
    throw failed.reason;
  }
  const families = new Map(started.map((s, i) => [keys[i]!, (s as PromiseFulfilledResult<WorkloadHandle>).value]));
  return {
    families,
    progress: () => {
      const ps = [...families.values()].map((w) => w.progress());
      const sum = (k: 'requests' | 'ok' | 'failed' | 'inflight' | 'broken_connections') => ps.reduce((a, p) => a + p[k], 0);
      return { t: Math.max(0, ...ps.map((p) => p.t)), ready: ps.every((p) => p.ready), requests: sum('requests'), ok: sum('ok'), failed: sum('failed'), inflight: sum('inflight'), broken_connections: sum('broken_connections') };
    },
    stop: async () => {
      const reports = await Promise.all([...families].map(async ([k, w]) => [k, await w.stop()] as const));
      return { ipv4: undefined, ipv6: undefined, ...Object.fromEntries(reports) };
    },
  };
}
