// Taking labs down: the processes inside a lab's namespaces (found through /proc, stopped with bounded waits),
// the namespaces, the state file and the lab's working directory. Namespaces are found by their `hn-<lab>-`
// prefix, so a lost state file leaves nothing unremovable.
import type { ChildProcess } from 'node:child_process';
import { readdir, readlink, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { LabError } from './errors.js';
import { ipBatch, ipFailure, requireRootPrivileges } from './iproute.js';
import { checkLabName, selectNamespaces } from './plan.js';
import { stopRelay } from './serial-relay.js';
import { readState, STATE_DIR, stateNames } from './state.js';

const NETNS_DIR = '/run/netns';

export interface LabDownResult {
  namespaces: string[];
  stateFiles: string[];
  killed: number[];
  /** Processes that survived SIGKILL within the wait bound (namespace files are removed anyway). */
  survivors: number[];
}

/** Children started through `spawn`/`exec` in this process, per lab, so `down` can stop them first. */
const children = new Map<string, Set<ChildProcess>>();
export const childrenOf = (lab: string): Set<ChildProcess> => {
  let s = children.get(lab);
  if (!s) children.set(lab, (s = new Set()));
  return s;
};

/** Names of all named network namespaces (`ip netns list`, read directly from /run/netns). */
export async function listNamespaces(): Promise<string[]> {
  try {
    return (await readdir(NETNS_DIR)).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** Pids of processes inside the given named namespaces (like `ip netns pids`, for many namespaces in one /proc scan). */
export async function pidsInNamespaces(names: readonly string[]): Promise<number[]> {
  const inodes = new Set<number>();
  for (const n of names) {
    try {
      inodes.add((await stat(`${NETNS_DIR}/${n}`)).ino);
    } catch {
      /* already gone */
    }
  }
  if (inodes.size === 0) return [];
  const pids: number[] = [];
  for (const d of await readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const m = /^net:\[(\d+)\]$/.exec(await readlink(`/proc/${d}/ns/net`));
      if (m && inodes.has(Number(m[1]))) pids.push(Number(d));
    } catch {
      /* exited, or a zombie (no namespaces) */
    }
  }
  return pids;
}

/** SIGTERM, wait up to `termMs`, SIGKILL, wait up to `killMs`. Returns the pids still there afterwards. */
async function killNamespaceProcesses(names: readonly string[], termMs = 1500, killMs = 1000): Promise<{ killed: number[]; survivors: number[] }> {
  const killed = await pidsInNamespaces(names);
  if (killed.length === 0) return { killed, survivors: [] };
  const signal = (pids: number[], sig: NodeJS.Signals) => pids.forEach((p) => { try { process.kill(p, sig); } catch { /* gone */ } });
  const waitGone = async (ms: number) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const left = await pidsInNamespaces(names);
      if (left.length === 0 || Date.now() >= deadline) return left;
      await sleep(20);
    }
  };
  signal(killed, 'SIGTERM');
  let left = await waitGone(termMs);
  if (left.length) {
    signal(left, 'SIGKILL');
    left = await waitGone(killMs);
  }
  return { killed, survivors: left };
}

/**
 * Removes a lab (or, with `all`, every `hn-` namespace and every lab state file): stops the processes inside
 * (SIGTERM, then SIGKILL, bounded waits), deletes the namespaces, removes the state file. Idempotent.
 */
export async function labDown(target: { name: string } | { all: true }): Promise<LabDownResult> {
  requireRootPrivileges('lab down');
  if (!('all' in target)) checkLabName(target.name);
  for (const [lab, set] of children) if ('all' in target || lab === target.name) for (const c of set) c.kill('SIGTERM');
  // A running cluster's daemons first, each given time to remove what it installed (lazy: live-cluster imports the lab).
  const { stopLabDaemons } = await import('./live-cluster.js');
  for (const lab of 'all' in target ? await stateNames() : [target.name]) await stopLabDaemons(lab);
  // BIRD daemons (the l3 topology): inside the namespaces too, stopped by their recorded pids first.
  const { stopBirds } = await import('./bird.js');
  for (const lab of 'all' in target ? await stateNames() : [target.name]) await stopBirds(lab);
  // Serial relays: normally inside a lab namespace (killed below with its processes); their recorded pids too.
  for (const lab of 'all' in target ? await stateNames() : [target.name]) {
    const relays = await readState(lab).then((s) => Object.values(s?.serial ?? {}), () => []);
    await Promise.all(relays.map((r) => stopRelay(r.pid)));
  }
  // The `up` that made the lab may have been killed while its `ip -batch` child still runs (an orphan finishing
  // its input): repeat until no matching namespace is left, pausing briefly so such a child can finish or fail.
  const namespaces: string[] = [];
  const killed: number[] = [];
  let survivors: number[] = [];
  for (let round = 0; ; round++) {
    const found = selectNamespaces(await listNamespaces(), target);
    if (found.length === 0) break;
    if (round === 5) throw new LabError(`namespaces keep reappearing: ${found.join(', ')}`);
    if (round > 0) await sleep(50);
    const k = await killNamespaceProcesses(found);
    killed.push(...k.killed);
    survivors = k.survivors;
    const r = await ipBatch(undefined, found.map((n) => `netns delete ${n}`), { force: true });
    const left = new Set(await listNamespaces());
    const stuck = found.filter((n) => left.has(n));
    if (stuck.length) throw ipFailure(`deleting namespaces ${stuck.join(', ')}`, r);
    namespaces.push(...found.filter((n) => !namespaces.includes(n)));
  }
  let files: string[] = [];
  try {
    files = (await readdir(STATE_DIR)).filter((f) => ('all' in target ? f.endsWith('.json') || f.endsWith('.tmp') : f === `${target.name}.json` || f.startsWith(`${target.name}.json.`)));
  } catch {
    /* no state dir */
  }
  await Promise.all(files.map((f) => rm(`${STATE_DIR}/${f}`, { force: true })));
  // Working directories other modules keep per lab (cluster configs, keys, sockets, logs): /run/hanet-lab/<lab>/.
  let dirs: string[] = [];
  try {
    dirs = (await readdir(STATE_DIR, { withFileTypes: true })).filter((d) => d.isDirectory() && ('all' in target || d.name === target.name)).map((d) => d.name);
  } catch {
    /* no state dir */
  }
  await Promise.all(dirs.map((d) => rm(`${STATE_DIR}/${d}`, { recursive: true, force: true })));
  return { namespaces, stateFiles: files.filter((f) => f.endsWith('.json')).map((f) => `${STATE_DIR}/${f}`), killed, survivors };
}
