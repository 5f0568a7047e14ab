// A lab's state file /run/hanet-lab/<lab>.json (topology, creation time, current failures, serial relays):
// written atomically (rename), read-modify-written under a per-lab lock within a process.
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import type { FailureMode, UnplugMode } from '../cli/lab-options.js';
import { LabError } from './errors.js';
import { LAB_NAME_RE, type Topology } from './topology.js';

export const STATE_DIR = '/run/hanet-lab';
export const statePath = (lab: string): string => `${STATE_DIR}/${lab}.json`;
/** Where a lab's BIRD daemons keep their configuration, control socket and pid file (src/lab/bird.ts). */
export const birdDir = (lab: string): string => `${STATE_DIR}/${lab}/bird`;
export const birdSocket = (lab: string, node: string): string => `${birdDir(lab)}/${node}.ctl`;

/** A serial link's relay, in the lab state. */
export interface SerialRelayState {
  pid: number;
  baud: number;
  /** Paths the daemons open (symlinks to the current slave ends), in the order of the link's ends. */
  ttys: [string, string];
  /** Current unplug, if any. */
  unplugged?: UnplugMode;
}

/** The path a daemon on `node` opens for its serial port `port` in lab `lab`. */
export const serialTtyPath = (lab: string, node: string, port: string): string => `${STATE_DIR}/${lab}/tty/${node}-${port}`;

export interface LabState {
  version: 1;
  name: string;
  topology: Topology;
  createdAt: string;
  /** Pid of the process that ran `up` (informational). */
  pid: number;
  /** Current failures by port (`a:eth0`). */
  failures: Record<string, FailureMode>;
  /** Serial links' relays, by the link's first end (`a:ser0`). */
  serial?: Record<string, SerialRelayState>;
  /** A running cluster (`hanet lab run`, src/lab/live-cluster.ts): its directory and its daemons by server. */
  cluster?: { dir: string; daemons: Record<string, DaemonRecord> };
  /** BIRD daemons by node (the `l3` topology, src/lab/bird.ts). */
  bird?: Record<string, DaemonRecord>;
}

/** A daemon started detached by the lab: its pid and the start time /proc gives it, so a reused pid is never signalled. */
export interface DaemonRecord {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot). */
  startTicks: string;
}

export async function readState(name: string): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(statePath(name), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new LabError(`cannot read lab state ${statePath(name)}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const s = JSON.parse(text) as LabState;
    if (s.version !== 1 || s.name !== name || typeof s.topology !== 'object') throw new Error('unexpected content');
    s.failures ??= {};
    return s;
  } catch (e) {
    throw new LabError(`lab state ${statePath(name)} is corrupt (${(e as Error).message}); remove the lab with \`hanet lab down ${name}\``, { cause: e });
  }
}

/** Names of the labs that have a state file. */
export async function stateNames(): Promise<string[]> {
  try {
    return (await readdir(STATE_DIR)).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).filter((n) => LAB_NAME_RE.test(n));
  } catch {
    return [];
  }
}

async function writeStateAtomic(s: LabState): Promise<void> {
  const tmp = `${statePath(s.name)}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(s, null, 2) + '\n');
  await rename(tmp, statePath(s.name));
}

/**
 * Serialises fail/heal per lab within this process (e.g. `Promise.all([fail('a:eth0'), fail('b:eth0')])`), so the
 * read-modify-write of the failures record loses nothing. Separate processes are not serialised (rename is atomic).
 */
const labLocks = new Map<string, Promise<unknown>>();
export function withLabLock<T>(lab: string, fn: () => Promise<T>): Promise<T> {
  const prev = labLocks.get(lab) ?? Promise.resolve();
  const next = prev.then(fn, fn);
  const tail = next.catch(() => {});
  labLocks.set(lab, tail);
  void tail.then(() => {
    if (labLocks.get(lab) === tail) labLocks.delete(lab);
  });
  return next;
}

/** Read-modify-write of a lab's state (failures); throws when the lab is not up. */
export async function updateState(name: string, fn: (s: LabState) => void): Promise<LabState> {
  const s = await readState(name);
  if (!s) throw new LabError(`lab "${name}" is not up (no ${statePath(name)})`);
  fn(s);
  await writeStateAtomic(s);
  return s;
}
