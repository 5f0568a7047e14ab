// Runs hanet daemons on a lab's servers: derives each server's configuration from the topology (public ports on a
// switch, private veth links to other servers, gateways = the router on that switch, one per family), starts, kills
// and restarts the daemons in their namespaces and reads their status through the control sockets. Used by tests,
// demo, bench.
import { mkdirSync, writeFileSync, openSync, closeSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { stringify } from 'yaml';
import { HanetError } from '../errors.js';
import type { ConfigInput } from '../config/schema.js';
import { isLinkLocal, parseCidr, type Cidr, type Family } from '../core/ip.js';
import { LabError } from './errors.js';
import { askControl } from '../daemon/control-socket.js';
import type { DaemonStatus } from '../daemon/daemon.js';
import { hanetArgv, serialTtyPath, type LabHandle } from './lab.js';
import { birdSocket } from './state.js';
import type { Topology } from './topology.js';

/** Some of a configuration's fields, at any depth (lists are replaced whole, as `merge` does). */
export type ConfigOverrides = DeepPartial<ConfigInput>;
type DeepPartial<T> = T extends readonly unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export interface ClusterOptions {
  /** Servers to run hanet on; default: every server node of the topology. */
  servers?: string[];
  /** Extra YAML fields per node (snake_case, merged over the generated config), e.g. { takeover: { lease_ms: 1000 } }. */
  overrides?: Record<string, ConfigOverrides>;
  /** Applied to every node before the per-node overrides. */
  common?: ConfigOverrides;
  /** Working directory for configs, key, sockets and logs; default /run/hanet-lab/<lab>/cluster. */
  dir?: string;
  /** A last change to each node's configuration (e.g. one link's cost), after common and overrides. */
  tweak?: (node: string, cfg: ConfigInput) => ConfigInput;
}

export interface Cluster {
  readonly dir: string;
  readonly servers: string[];
  configPath(node: string): string;
  socketPath(node: string): string;
  logPath(node: string): string;
  start(node: string): Promise<void>;
  /** Sends a signal to a daemon and waits for it to exit. */
  kill(node: string, signal?: NodeJS.Signals): Promise<void>;
  status(node: string): Promise<DaemonStatus>;
  /** Polls a daemon's status until `pred` holds (or throws after timeoutMs, with the last status in the message). */
  waitFor(node: string, pred: (s: DaemonStatus) => boolean, opts?: { timeoutMs?: number; what?: string }): Promise<DaemonStatus>;
  /** Stops every daemon (SIGTERM: they remove what they installed). */
  stop(): Promise<void>;
}

/**
 * The generated configuration of one server of a lab topology, as a raw (YAML-shaped) object. `lab` (the lab's
 * name) locates the tty paths of serial links; default: taken from `dir` = /run/hanet-lab/<lab>/cluster.
 */
export function serverConfig(topo: Topology, node: string, dir: string, lab?: string): ConfigInput {
  const spec = topo.nodes[node];
  if (!spec || spec.role !== 'server') throw new LabError(`${node} is not a server of the topology`);
  // The gateways of a public port: the router's address on its switch per family the port has; for IPv6 the router's
  // link-local address when the topology lists one (what real routers advertise as the next hop), else its global one.
  const gatewaysOn = (sw: string, families: ReadonlySet<Family>): string[] => {
    for (const n of Object.values(topo.nodes)) {
      if (n.role !== 'router') continue;
      const p = n.ports.find((q) => q.switch === sw);
      if (!p) continue;
      const cidrs = p.addresses.map((a) => parseCidr(a)).filter((c) => c !== undefined);
      const v6 = cidrs.filter((c) => c.family === 6);
      const byFamily: Record<Family, Cidr | undefined> = { 4: cidrs.find((c) => c.family === 4), 6: v6.find((c) => isLinkLocal(c.address)) ?? v6[0] };
      return ([4, 6] as const).filter((f) => families.has(f)).flatMap((f) => (byFamily[f] ? [byFamily[f].address] : []));
    }
    return [];
  };
  const labName = lab ?? /\/run\/hanet-lab\/([a-z0-9]{1,8})\//.exec(dir + '/')?.[1] ?? 'lab';
  const familiesOf = (addresses: string[]): Set<Family> => new Set(addresses.flatMap((a) => parseCidr(a)?.family ?? []));
  const publics = spec.ports.filter((p) => p.switch !== undefined && p.use !== 'private' && p.addresses.length > 0);
  const gateways = publics.map((p) => gatewaysOn(p.switch!, familiesOf(p.addresses)));
  const hasDefault = gateways.findIndex((g) => g.length > 0);
  const pub = publics.map((p, i) => {
    const gw = gateways[i]!;
    // A server running BGP is in a routed rack (the `l3` topology): L3 mode, every rack on one fabric, and the
    // session with the ToR (its gateway) that `hanet config bird` writes.
    // The ToR: the BGP neighbour that is a gateway of this port; its sessions: every neighbour address of its AS.
    const torAs = spec.bgp?.neighbors.find((nb) => gw.includes(nb.address))?.as;
    const torAddrs = spec.bgp?.neighbors.filter((nb) => nb.as === torAs).map((nb) => nb.address) ?? [];
    return {
      interface: p.name,
      ...(spec.bgp ? { mode: 'l3' as const, lan: 'fabric' } : { lan: p.switch }),
      // BIRD's control socket in the lab (src/lab/bird.ts birdSocket), for the check that its sessions are Established.
      ...(spec.bgp && torAs !== undefined ? { bgp: { local_as: spec.bgp.as, peer_as: torAs, neighbor: torAddrs.length === 1 ? torAddrs[0]! : torAddrs, bird_socket: birdSocket(labName, node) } } : {}),
      addresses: p.addresses,
      // One gateway as a text (as an IPv4 lab always had), one per family as a list.
      ...(gw.length > 0 ? { gateway: gw.length === 1 ? gw[0]! : gw } : { probe: { arp: false } }),
      default_route: i === hasDefault,
    };
  });
  const priv: ConfigInput['private'] = [];
  for (const l of topo.links) {
    if (l.kind !== 'veth') continue;
    const [e1, e2] = l.ends;
    const [n1, p1] = e1.split(':') as [string, string];
    const [n2, p2] = e2.split(':') as [string, string];
    const mine = n1 === node ? { port: p1, peer: n2, peerPort: p2 } : n2 === node ? { port: p2, peer: n1, peerPort: p1 } : undefined;
    if (!mine || topo.nodes[mine.peer]?.role !== 'server') continue;
    const local = spec.ports.find((p) => p.name === mine.port)?.addresses[0];
    const remote = topo.nodes[mine.peer]!.ports.find((p) => p.name === mine.peerPort)?.addresses[0];
    if (!local || !remote) continue;
    priv.push({ name: [node, mine.peer].sort().join(''), kind: 'ethernet', interface: mine.port, address: local, peer: mine.peer, peer_address: remote.split('/')[0]! });
  }
  // Serial and udp links: the link's ends are the TUN interfaces hanet creates (named like the topology's ports).
  for (const l of topo.links) {
    if (l.kind !== 'serial' && l.kind !== 'udp') continue;
    const i = l.ends.findIndex((e) => e.startsWith(`${node}:`));
    if (i < 0) continue;
    const [, port] = l.ends[i]!.split(':') as [string, string];
    const [peer, peerPort] = l.ends[1 - i]!.split(':') as [string, string];
    const local = spec.ports.find((p) => p.name === port)?.addresses[0];
    const remote = topo.nodes[peer]?.ports.find((p) => p.name === peerPort)?.addresses[0];
    if (!local || !remote) continue;
    const common = { name: `${[node, peer].sort().join('')}-${l.kind === 'serial' ? 'ser' : 'udp'}`, interface: port, address: local, peer, peer_address: remote.split('/')[0]! };
    if (l.kind === 'serial') {
      // A validated topology gives every serial link its baud rate.
      priv.push({ ...common, kind: 'serial', device: serialTtyPath(labName, node, port), baud: l.baud! });
    } else {
      const addrOf = (ref: string) => { const [n, p] = ref.split(':') as [string, string]; return topo.nodes[n]?.ports.find((q) => q.name === p)?.addresses[0]?.split('/')[0]; };
      const mineU = addrOf(l.underlay![i]!);
      const peerU = addrOf(l.underlay![1 - i]!);
      if (!mineU || !peerU) continue;
      priv.push({ ...common, kind: 'udp', local: `${mineU}:7432`, remote: `${peerU}:7432` });
    }
  }
  return {
    node,
    key_file: join(dir, 'cluster.key'),
    control_socket: join(dir, `${node}.sock`),
    log_level: 'info',
    public: pub,
    private: priv,
  };
}

export function merge(base: Record<string, unknown>, over: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!over) return base;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && b && typeof b === 'object' && !Array.isArray(b)
      ? merge(b as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

/** Writes a new cluster key and each server's configuration (`<dir>/<node>.yaml`); returns the servers and the dir. */
export function writeClusterFiles(lab: LabHandle, opts: ClusterOptions = {}): { dir: string; servers: string[] } {
  const topo = lab.topology;
  const servers = opts.servers ?? Object.entries(topo.nodes).filter(([, n]) => n.role === 'server').map(([k]) => k);
  const dir = opts.dir ?? join('/run/hanet-lab', lab.name, 'cluster');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'cluster.key'), randomBytes(32).toString('hex') + '\n', { mode: 0o600 });
  for (const n of servers) {
    const cfg = merge(merge(serverConfig(topo, n, dir, lab.name), opts.common), opts.overrides?.[n]) as ConfigInput;
    writeFileSync(join(dir, `${n}.yaml`), stringify(opts.tweak ? opts.tweak(n, cfg) : cfg), { mode: 0o600 });
  }
  return { dir, servers };
}

/** A daemon's status through its control socket. */
export async function daemonStatus(socket: string, node: string): Promise<DaemonStatus> {
  const [line] = await askControl(socket, { cmd: 'status' });
  if (!line) throw new HanetError('HANET_ERR_CONTROL', `no status from ${node}`);
  return JSON.parse(line) as DaemonStatus;
}

/** Polls a daemon's status until `pred` holds; throws when it exits or after the timeout (with the last status). */
export async function waitForStatus(
  node: string, get: () => Promise<DaemonStatus>, running: () => boolean, log: string,
  pred: (s: DaemonStatus) => boolean, o: { timeoutMs?: number; what?: string } = {},
): Promise<DaemonStatus> {
  const deadline = Date.now() + (o.timeoutMs ?? 10_000);
  let last: DaemonStatus | undefined;
  let lastErr: unknown;
  for (;;) {
    if (!running()) throw new LabError(`hanet on ${node} exited (log: ${log})`);
    try {
      last = await get();
      if (pred(last)) return last;
    } catch (err) { lastErr = err; }
    if (Date.now() > deadline) {
      throw new HanetError('HANET_ERR_TIMEOUT', `timed out waiting for ${o.what ?? 'a condition'} on ${node}; last status: ${last ? JSON.stringify({ publics: last.publics, claims: last.claims, helping: last.helping }) : String(lastErr)}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

export async function startCluster(lab: LabHandle, opts: ClusterOptions = {}): Promise<Cluster> {
  const { dir, servers } = writeClusterFiles(lab, opts);
  const procs = new Map<string, ChildProcess>();
  const exited = new Map<string, Promise<void>>();

  const cluster: Cluster = {
    dir,
    servers,
    configPath: (n) => join(dir, `${n}.yaml`),
    socketPath: (n) => join(dir, `${n}.sock`),
    logPath: (n) => join(dir, `${n}.log`),
    async start(n) {
      if (procs.has(n)) throw new LabError(`hanet already runs on ${n}`);
      rmSync(cluster.socketPath(n), { force: true });
      const fd = openSync(cluster.logPath(n), 'a');
      const child = lab.spawn(n, [...hanetArgv(), 'run', '-c', cluster.configPath(n)], { stdio: ['ignore', fd, fd] });
      closeSync(fd);
      procs.set(n, child);
      exited.set(n, new Promise<void>((resolve) => child.once('exit', () => { procs.delete(n); resolve(); })));
      await cluster.waitFor(n, (s) => s.ready, { timeoutMs: 15_000, what: `hanet on ${n} to be ready` });
    },
    async kill(n, signal = 'SIGTERM') {
      const p = procs.get(n);
      if (!p) return;
      p.kill(signal);
      const t = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exited.get(n);
      clearTimeout(t);
    },
    status: (n) => daemonStatus(cluster.socketPath(n), n),
    waitFor: (n, pred, o = {}) => waitForStatus(n, () => cluster.status(n), () => procs.has(n), cluster.logPath(n), pred, o),
    async stop() {
      await Promise.all([...procs.keys()].map((n) => cluster.kill(n, 'SIGTERM')));
    },
  };
  try {
    await Promise.all(servers.map((n) => cluster.start(n)));
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
