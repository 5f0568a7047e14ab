// Network-namespace lab: builds a Topology as namespaces `hn-<lab>-<node>` joined by veth pairs and bridges
// (with iproute2 in a few batched calls), injects and heals port failures, and tears everything down again.
//
// Crash safety: the state file /run/hanet-lab/<lab>.json (topology, creation time, current failures) is created
// before the first namespace, so `labDown({ name })` can always find what a killed `up` left; namespaces are also
// found by their `hn-<lab>-` prefix, so a lost state file leaves nothing unremovable.
//
// This module is the lab's entry: up, open, status here; the parts in plan.ts (pure), iproute.ts, state.ts,
// handle.ts and teardown.ts.
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FailureMode } from '../cli/lab-options.js';
import { parseCidr } from '../core/ip.js';
import { HanetError } from '../errors.js';
import { LabError } from './errors.js';
import { Lab, relayArgv, type LabHandle } from './handle.js';
import { applySysctls, ip, ipBatch, requireRootPrivileges } from './iproute.js';
import { checkLabName, nsName, planLab, selectNamespaces } from './plan.js';
import { startRelay } from './serial-relay.js';
import { readState, serialTtyPath, STATE_DIR, statePath, updateState, type LabState } from './state.js';
import { labDown, listNamespaces } from './teardown.js';
import { daemonAlive } from './daemon-proc.js';
import { startBirds } from './bird.js';
import { LAB_NAME_RE, parsePortRef, parseTopology, switchPortName, type Topology } from './topology.js';

export { FAILURE_MODES, type FailureMode, type UnplugMode } from '../cli/lab-options.js';
export { hanetArgv, type ExecOptions, type LabHandle } from './handle.js';
export { requireRootPrivileges, type ExecResult } from './iproute.js';
export { checkLabName, nsName, NS_PREFIX, planLab, selectNamespaces, type LabPlan } from './plan.js';
export { serialTtyPath, STATE_DIR, statePath, type LabState, type SerialRelayState } from './state.js';
export { labDown, listNamespaces, pidsInNamespaces, type LabDownResult } from './teardown.js';

/** All lab-port interfaces (node side and switch side) are operationally up, and no IPv6 address is tentative: the lab is usable. */
async function waitReady(t: Topology, lab: string, timeoutMs = 3000): Promise<void> {
  const expect = new Map<string, Set<string>>();
  const want = (node: string, ifname: string) => {
    const n = nsName(lab, node);
    if (!expect.has(n)) expect.set(n, new Set());
    expect.get(n)!.add(ifname);
  };
  for (const [nn, n] of Object.entries(t.nodes))
    for (const p of n.ports) {
      const kind = linkKindOf(t, nn, p.name);
      if (kind !== undefined && kind !== 'veth') continue;
      want(nn, p.name);
      if (p.switch !== undefined) want(p.switch, switchPortName(nn, p.name));
    }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const missing: string[] = [];
    await Promise.all(
      [...expect].map(async ([ns, names]) => {
        const links = JSON.parse(await ip(ns, ['-j', 'link', 'show'])) as Array<{ ifname: string; flags: string[]; operstate?: string }>;
        for (const name of names) {
          // operstate UP (not just LOWER_UP): linkwatch has run, so a bridge port is forwarding.
          const l = links.find((x) => x.ifname === name);
          if (!l || !l.flags.includes('LOWER_UP') || l.operstate !== 'UP') missing.push(`${ns}/${name}`);
        }
      }),
    );
    if (missing.length === 0) break;
    if (Date.now() > deadline) throw new LabError(`interfaces without carrier after ${timeoutMs} ms: ${missing.join(', ')}`);
    await sleep(10);
  }
  if (!hasIpv6(t)) return;
  // IPv6: every interface's link-local address is tentative until Duplicate Address Detection is over (measured
  // 1.4-1.9 s after `up`); until then the kernel answers no Neighbor Solicitation for it, and it is the next hop
  // of a helper's routes to its owner over a private link. Wait for the lab to be what a running network is.
  const dadDeadline = Date.now() + 5000;
  for (;;) {
    const tentative = (await Promise.all(
      [...expect.keys()].map(async (ns) => (await ip(ns, ['-6', '-o', 'addr', 'show', 'tentative'])).trim() ? [ns] : []),
    )).flat();
    if (tentative.length === 0) return;
    if (Date.now() > dadDeadline) throw new LabError(`IPv6 addresses still tentative (duplicate address detection) after 5000 ms in ${tentative.join(', ')}`);
    await sleep(50);
  }
}

/** The topology gives some port an IPv6 address. */
const hasIpv6 = (t: Topology): boolean => Object.values(t.nodes).some((n) => n.ports.some((p) => p.addresses.some((a) => parseCidr(a)?.family === 6)));

function linkKindOf(t: Topology, node: string, port: string): string | undefined {
  return t.links.find((l) => l.ends.includes(`${node}:${port}`))?.kind;
}

/**
 * Builds the topology as lab `name`. Fails if the lab exists unless `replace` (then it is taken down first).
 * If building fails midway, everything made so far is removed and the error rethrown.
 */
export async function labUp(topology: Topology, opts: { name: string; replace?: boolean }): Promise<LabHandle> {
  requireRootPrivileges('lab up');
  const { name } = opts;
  checkLabName(name);
  const t = parseTopology(topology);

  if (opts.replace) await labDown({ name });
  else {
    const existing = selectNamespaces(await listNamespaces(), { name });
    if (existing.length)
      throw new LabError(`lab "${name}" exists (namespaces ${existing.join(', ')}); take it down first (hanet lab down ${name}) or replace it`);
  }
  await mkdir(STATE_DIR, { recursive: true, mode: 0o755 });
  const state: LabState = { version: 1, name, topology: t, createdAt: new Date().toISOString(), pid: process.pid, failures: {} };
  try {
    // 'wx': creating the state file is also the lock against a concurrent `up` of the same name.
    await writeFile(statePath(name), JSON.stringify(state, null, 2) + '\n', { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new LabError(`lab "${name}" exists (${statePath(name)}); take it down first (hanet lab down ${name}) or replace it`);
    throw new LabError(`cannot write ${statePath(name)}: ${(e as Error).message}`, { cause: e });
  }

  try {
    const plan = planLab(t, name);
    await ipBatch(undefined, plan.root);
    await Promise.all(Object.entries(plan.perNs).map(([ns, lines]) => ipBatch(ns, lines)));
    await Promise.all(Object.entries(plan.sysctls).map(([ns, entries]) => applySysctls(ns, entries)));
    await waitReady(t, name);
    for (const l of t.links) {
      if (l.kind !== 'serial') continue;
      const ttys = l.ends.map((e) => { const r = parsePortRef(e)!; return serialTtyPath(name, r.node, r.port); }) as [string, string];
      const { pid } = await startRelay(relayArgv(name, l.ends[0]), { baud: l.baud!, ttys });
      await updateState(name, (s) => void ((s.serial ??= {})[l.ends[0]] = { pid, baud: l.baud!, ttys }));
    }
    // Routers and servers with `bgp` (the l3 topology): the lab is up once every BGP session is Established.
    await startBirds(t, name);
  } catch (e) {
    await labDown({ name }).catch(() => {});
    if (e instanceof HanetError) throw e;
    throw new LabError(`lab "${name}" could not be built: ${(e as Error).message}`, { cause: e });
  }
  return new Lab(name, t);
}

/** A handle on an existing lab, from its state file. */
export async function openLab(name: string): Promise<LabHandle> {
  checkLabName(name);
  const s = await readState(name);
  if (!s) throw new LabError(`lab "${name}" is not up (no ${statePath(name)}); start it with \`hanet lab up --name ${name}\``);
  const t = parseTopology(s.topology, statePath(name));
  const present = new Set(await listNamespaces());
  const missing = Object.keys(t.nodes).map((n) => nsName(name, n)).filter((n) => !present.has(n));
  if (missing.length)
    throw new LabError(`lab "${name}" is incomplete (missing namespaces ${missing.join(', ')}); remove it with \`hanet lab down ${name}\``);
  return new Lab(name, t);
}

export interface LabStatus {
  labs: Array<{
    name: string;
    topologyName?: string;
    createdAt: string;
    pid: number;
    nodes: Array<{ node: string; role: string; ns: string; present: boolean }>;
    failures: Array<{ port: string; mode: FailureMode }>;
    /** hanet daemons started by `hanet lab run` (live-cluster.ts). */
    daemons?: Array<{ node: string; pid: number; alive: boolean; config: string }>;
    /** Error reading the state file, if any. */
    error?: string;
  }>;
  /** `hn-` namespaces that belong to no lab with a state file (left by a crash, or ad-hoc test namespaces). */
  orphans: string[];
}

/** Labs with state files, their namespaces and failures, plus orphan `hn-` namespaces. Needs no root. */
export async function labStatus(): Promise<LabStatus> {
  const present = new Set(await listNamespaces());
  let files: string[] = [];
  try {
    files = (await readdir(STATE_DIR)).filter((f) => f.endsWith('.json')).sort();
  } catch {
    /* none */
  }
  const owned = new Set<string>();
  const labs: LabStatus['labs'] = [];
  for (const f of files) {
    const name = f.slice(0, -'.json'.length);
    if (!LAB_NAME_RE.test(name)) continue;
    try {
      const s = await readState(name);
      if (!s) continue;
      const nodes = Object.entries(s.topology.nodes).map(([node, n]) => {
        const ns = nsName(name, node);
        owned.add(ns);
        return { node, role: n.role, ns, present: present.has(ns) };
      });
      labs.push({
        name,
        ...(s.topology.name !== undefined ? { topologyName: s.topology.name } : {}),
        createdAt: s.createdAt,
        pid: s.pid,
        nodes,
        failures: Object.entries(s.failures).map(([port, mode]) => ({ port, mode })),
        ...(s.cluster ? { daemons: Object.entries(s.cluster.daemons).map(([node, d]) => ({ node, pid: d.pid, alive: daemonAlive(d), config: `${s.cluster!.dir}/${node}.yaml` })) } : {}),
      });
    } catch (e) {
      labs.push({ name, createdAt: '', pid: 0, nodes: [], failures: [], error: (e as Error).message });
      for (const ns of selectNamespaces([...present], { name })) owned.add(ns);
    }
  }
  const orphans = selectNamespaces([...present], { all: true }).filter((n) => !owned.has(n));
  return { labs, orphans };
}
