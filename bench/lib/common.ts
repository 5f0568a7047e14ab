// Shared helpers of the benchmark suite: statistics, monotonic time, request logs and the process footprint probe.
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { pidsInNamespaces, type LabHandle } from '../../src/lab/lab.js';

/** A request of the workload's request log (hanet lab client --log): times in ms from the client's origin. */
export interface ReqRec { kind: 'P' | 'N' | 'S' | 'B'; slot: number; seq: number; sent_ms: number; done_ms: number; outcome: string; inflight: boolean }

export const hrNow = (): bigint => process.hrtime.bigint();
/** ms from a client's origin (report.origin_hrtime_ns) to the monotonic instant `t`. */
export const onClientAxis = (origin: string, t: bigint): number => Number(t - BigInt(origin)) / 1e6;

export const median = (xs: readonly number[]): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
/** Nearest-rank percentile, as the workload report defines it (stats.ts). */
export const pct = (xs: readonly number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
};
export const r2 = (x: number): number => Math.round(x * 100) / 100;
export const r3 = (x: number): number => Math.round(x * 1000) / 1000;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export async function readRequestLog(path: string): Promise<ReqRec[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const out: ReqRec[] = [];
  for (const l of text.split('\n')) {
    if (!l.startsWith('{')) continue;
    try { out.push(JSON.parse(l) as ReqRec); } catch { /* torn last line */ }
  }
  return out;
}

/** Polls `cond` until truthy or the deadline passes; returns the value or undefined on timeout. */
export async function until<T>(cond: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 10): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) return undefined;
    await sleep(everyMs);
  }
}

/** The pid of the hanet daemon (`node ... run -c <config>`) in a lab node's namespace. */
export async function daemonPid(lab: LabHandle, node: string): Promise<number | undefined> {
  for (const pid of await pidsInNamespaces([lab.ns(node)])) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.endsWith('main.js')) && argv.includes('run')) return pid;
    } catch { /* exited */ }
  }
  return undefined;
}

const CLK_TCK = 100; // sysconf(_SC_CLK_TCK) on Linux x86_64/aarch64
export interface ProcSample { at: bigint; cpuTicks: number; rssKiB: number; hwmKiB: number }
export function procSample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start at field 3.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuTicks = Number(f[11]) + Number(f[12]); // utime (14), stime (15)
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { at: hrNow(), cpuTicks, rssKiB: kib('VmRSS'), hwmKiB: kib('VmHWM') };
}
/** CPU use between two samples, % of one core. */
export const cpuPct = (a: ProcSample, b: ProcSample): number => ((b.cpuTicks - a.cpuTicks) / CLK_TCK) / (Number(b.at - a.at) / 1e9) * 100;
