// An idle cluster's cost (issue #13): per daemon, CPU (% of one core, from /proc/<pid>/stat over a window) and memory
// (RSS; and PSS and private memory, since ~45 MiB of a node process's RSS are the node binary's pages, shared by
// every node process), with the native link monitor or the portable JavaScript loop (HANET_WATCHER=poll); and false
// failures while both cores are saturated by other processes for minutes: every iface-failed, peer-down or takeover
// on a healthy network counts.
import { readdirSync, readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import type { LabHandle } from '../../src/lab/lab.js';
import { startCluster, type Cluster } from '../../src/lab/cluster.js';
import { median, r2, sleep } from './common.js';

export type WatcherKind = 'native' | 'poll';

export interface DaemonFootprint { node: string; cpuPct: number; rssMiB: number; pssMiB: number; privateMiB: number }

const TICK_HZ = 100; // USER_HZ of /proc/<pid>/stat on Linux

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
}

function memory(pid: number): { rssMiB: number; pssMiB: number; privateMiB: number } {
  const t = readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
  const kib = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(t)?.[1] ?? NaN);
  return { rssMiB: r2(kib('Rss') / 1024), pssMiB: r2(kib('Pss') / 1024), privateMiB: r2((kib('Private_Dirty') + kib('Private_Clean')) / 1024) };
}

/** The pids of the cluster's daemons (their command line names the cluster's config files). */
export function daemonPids(c: Cluster): Map<string, number> {
  const out = new Map<string, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let cmd: string;
    try { cmd = readFileSync(`/proc/${d}/cmdline`, 'utf8'); } catch { continue; }
    for (const n of c.servers) if (cmd.includes('\0run\0') && cmd.includes(c.configPath(n))) out.set(n, Number(d));
  }
  return out;
}

/** Starts a cluster on `lab` with the given watcher (the daemons inherit HANET_WATCHER from this process). */
export async function clusterWith(lab: LabHandle, watcher: WatcherKind): Promise<Cluster> {
  const saved = process.env.HANET_WATCHER;
  if (watcher === 'poll') process.env.HANET_WATCHER = 'poll'; else delete process.env.HANET_WATCHER;
  try {
    const c = await startCluster(lab);
    await c.waitFor(c.servers[0]!, (s) => s.ready && s.links.every((l) => l.alive), { timeoutMs: 15_000, what: 'the cluster ready' });
    return c;
  } finally {
    if (saved === undefined) delete process.env.HANET_WATCHER; else process.env.HANET_WATCHER = saved;
  }
}

/** Each daemon's CPU over `seconds` of idling and its memory at the end. */
export async function idleFootprint(c: Cluster, seconds: number): Promise<DaemonFootprint[]> {
  const pids = daemonPids(c);
  const t0 = new Map([...pids].map(([n, p]) => [n, cpuTicks(p)]));
  const s0 = process.hrtime.bigint();
  await sleep(seconds * 1000);
  const elapsed = Number(process.hrtime.bigint() - s0) / 1e9;
  return [...pids].map(([node, pid]) => ({ node, cpuPct: r2(((cpuTicks(pid) - t0.get(node)!) / TICK_HZ / elapsed) * 100), ...memory(pid) }));
}

export interface SaturationResult { minutes: number; falseFailures: number; perHour: number; events: Record<string, number> }

/** Busy loops, one per core, in the root namespace: they compete with the daemons for both cores. */
function burners(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

/** Counts failures seen by an idle, healthy cluster while every core is kept busy for `minutes`. */
export async function falseFailures(c: Cluster, minutes: number, cores = 2): Promise<SaturationResult> {
  const kinds = ['iface-failed', 'peer-down', 'takeover-requested', 'help-start', 'gateway-unreachable'] as const;
  const count = async (): Promise<Record<string, number>> => {
    const out: Record<string, number> = {};
    for (const n of c.servers) {
      const s = await c.status(n);
      for (const k of kinds) out[k] = (out[k] ?? 0) + (s.eventCounts[k] ?? 0);
    }
    return out;
  };
  const before = await count();
  const procs = burners(cores);
  try {
    await sleep(minutes * 60_000);
  } finally {
    for (const p of procs) p.kill('SIGKILL');
  }
  const after = await count();
  const events = Object.fromEntries(kinds.map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]));
  const falseFailuresN = events['iface-failed']! + events['peer-down']! + events['takeover-requested']!;
  return { minutes, falseFailures: falseFailuresN, perHour: r2((falseFailuresN / minutes) * 60), events };
}

export const medianOf = (xs: DaemonFootprint[], k: 'cpuPct' | 'rssMiB' | 'pssMiB' | 'privateMiB'): number => r2(median(xs.map((x) => x[k])));
