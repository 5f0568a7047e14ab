// Detached daemons of a lab cluster, by pid and /proc start time: is it still the same process, and stopping it
// (signal, bounded wait, SIGKILL) without ever signalling a pid the kernel has since given to another process.
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DaemonRecord } from './state.js';

/** /proc/<pid>/stat: the process state letter and its start time, or undefined when there is no such process. */
export function procStat(pid: number): { state: string; startTicks: string } | undefined {
  let text: string;
  try { text = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return undefined; }
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' '); // fields 3.. (the name may contain spaces)
  return { state: rest[0] ?? '?', startTicks: rest[19] ?? '' };
}

/** The recorded daemon is still that process and has not exited (a zombie has exited). */
export function daemonAlive(d: DaemonRecord): boolean {
  const s = procStat(d.pid);
  return s !== undefined && s.startTicks === d.startTicks && s.state !== 'Z';
}

async function waitGone(d: DaemonRecord, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (daemonAlive(d)) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

/** Sends `sig`, waits up to `ms` for the exit, then SIGKILL. Never signals a pid that is no longer the daemon. */
export async function stopDaemon(d: DaemonRecord, sig: NodeJS.Signals = 'SIGTERM', ms = 5000): Promise<void> {
  if (!daemonAlive(d)) return;
  try { process.kill(d.pid, sig); } catch { return; }
  if (sig === 'SIGSTOP' || sig === 'SIGCONT') return;
  if (await waitGone(d, ms)) return;
  try { process.kill(d.pid, 'SIGKILL'); } catch { return; }
  await waitGone(d, 2000);
}

