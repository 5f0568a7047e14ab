// Doctor: clock synchronisation. hanet's control protocol does not depend on it (since wire version 2, messages are
// accepted by session binding, never by their send time: src/proto/replay.ts), but the events and logs of different
// nodes are compared by their wall-clock times. Source: systemd's view of the kernel's sync flag (`timedatectl
// show`: NTPSynchronized, from adjtimex), else a running sync daemon; never an error.
import { execFileSync } from 'node:child_process';
import type { ProcessInfo } from './software.js';
import { ok, warn, type Finding } from './types.js';

/** comm names of clock synchronisation daemons (comm is cut at 15 characters). */
const SYNC_DAEMONS = ['chronyd', 'ntpd', 'openntpd', 'systemd-timesyn', 'ptp4l', 'phc2sys', 'timemaster', 'sntpd'];

export interface ClockFacts {
  /** From timedatectl: true/false; undefined when it is not there or not answering (no systemd, no D-Bus). */
  synchronized: boolean | undefined;
  /** Sync daemons running in this PID namespace. */
  daemons: string[];
}

/** Parses `timedatectl show` output (KEY=value lines). Pure. */
export function parseTimedatectl(text: string): boolean | undefined {
  const m = /^NTPSynchronized=(\S+)$/m.exec(text);
  if (!m) return undefined;
  return m[1] === 'yes' ? true : m[1] === 'no' ? false : undefined;
}

export function readClockFacts(procs: ProcessInfo[]): ClockFacts {
  let synchronized: boolean | undefined;
  try {
    const out = execFileSync('timedatectl', ['show', '--property=NTPSynchronized'], { encoding: 'utf8', timeout: 3000, stdio: ['ignore', 'pipe', 'ignore'] });
    synchronized = parseTimedatectl(out);
  } catch { synchronized = undefined; }
  const daemons = [...new Set(procs.map((p) => p.comm).filter((c) => SYNC_DAEMONS.includes(c)))].sort();
  return { synchronized, daemons };
}

/** Pure: the clock finding. */
export function clockFindings(f: ClockFacts): Finding[] {
  const why = 'hanet works without it, but the events and logs of different nodes cannot be lined up by time';
  const fix = 'synchronise the clock with NTP on every node (e.g. apt-get install chrony, or timedatectl set-ntp true)';
  if (f.synchronized === true) return [ok('clock', 'the system clock is synchronised (timedatectl: NTPSynchronized=yes)')];
  if (f.synchronized === false) {
    return [warn('clock', `the system clock is not synchronised (timedatectl: NTPSynchronized=no${f.daemons.length ? `; ${f.daemons.join(', ')} runs but has not synchronised yet` : ''}): ${why}`, fix)];
  }
  if (f.daemons.length > 0) return [ok('clock', `${f.daemons.join(', ')} runs (its sync state is unknown without timedatectl)`)];
  return [warn('clock', `no clock synchronisation found (no timedatectl answer, no chronyd/ntpd/systemd-timesyncd/ptp4l running): ${why}`, fix)];
}
