// Network-namespace lab: builds a Topology as namespaces `hn-<lab>-<node>` joined by veth pairs and bridges
// (with iproute2 in a few batched calls), injects and heals port failures, and tears everything down again.
//
// Crash safety: the state file /run/hanet-lab/<lab>.json (topology, creation time, current failures) is created
// before the first namespace, so `labDown({ name })` can always find what a killed `up` left; namespaces are also
// found by their `hn-<lab>-` prefix, so a lost state file leaves nothing unremovable.
import { spawn as spawnChild, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, readlink, rename, rm, stat, writeFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { HanetError } from '../errors.js';
import { startRelay, stopRelay } from './serial-relay.js';
import {
  BRIDGE_NAME,
  LAB_NAME_RE,
  getPort,
  parseCidr,
  parseTopology,
  switchPortName,
  tunPorts,
  parsePortRef,
  type NodeSpec,
  type PortRef,
  type Topology,
} from './topology.js';

export type FailureMode = 'carrier' | 'silent' | 'admin';
export const FAILURE_MODES: readonly FailureMode[] = ['carrier', 'silent', 'admin'];

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}
export interface ExecOptions {
  input?: string;
  /** Kill the command (SIGKILL) after this long; the result then has code 124 (like timeout(1)). */
  timeoutMs?: number;
  /** Throw HanetError('HANET_ERR_LAB') with stderr on a non-zero exit (HANET_ERR_TIMEOUT on a timeout). */
  check?: boolean;
}

export interface LabHandle {
  readonly name: string;
  readonly topology: Topology;
  ns(node: string): string;
  exec(node: string, argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  spawn(node: string, argv: string[], opts?: SpawnOptions): ChildProcess;
  fail(port: string, mode: FailureMode): Promise<void>;
  heal(port: string): Promise<void>;
  down(): Promise<void>;
  /**
   * Extension to the contract: is `address` reachable from `node`? A TCP connect (default port 9, discard) that
   * succeeds or is refused (RST) counts as reachable; a timeout or an ICMP/ARP error does not. Used instead of
   * ping, which this machine does not have.
   */
  probe(node: string, address: string, opts?: { port?: number; timeoutMs?: number }): Promise<boolean>;
  /**
   * Unplugs a serial link (either end, e.g. "a:ser0"): `hangup` ends its relay, so both daemons read EOF on the
   * tty like a USB adapter pulled out; `silent` makes the relay drop every byte, like a pulled RS232 cable.
   */
  unplug(link: string, mode?: UnplugMode): Promise<void>;
  /** Plugs it back: a new relay with new pseudo-terminals behind the same paths, or the bytes flow again. */
  plug(link: string): Promise<void>;
}

export type UnplugMode = 'hangup' | 'silent';

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
}

export interface LabDownResult {
  namespaces: string[];
  stateFiles: string[];
  killed: number[];
  /** Processes that survived SIGKILL within the wait bound (namespace files are removed anyway). */
  survivors: number[];
}

export const STATE_DIR = '/run/hanet-lab';
const NETNS_DIR = '/run/netns';
export const NS_PREFIX = 'hn-';

// ---------------------------------------------------------------------------------------------------------------
// Names and pure planning

export const nsName = (lab: string, node: string): string => `${NS_PREFIX}${lab}-${node}`;
export const statePath = (lab: string): string => `${STATE_DIR}/${lab}.json`;

export function checkLabName(name: string): void {
  if (!LAB_NAME_RE.test(name)) throw new HanetError('HANET_ERR_LAB', `invalid lab name ${JSON.stringify(name)}: 1-8 characters of [a-z0-9]`);
}

/** The namespaces a `labDown` target removes, from a list of existing namespace names. Pure (unit-tested). */
export function selectNamespaces(existing: readonly string[], target: { name: string } | { all: true }): string[] {
  const prefix = 'all' in target ? NS_PREFIX : `${NS_PREFIX}${target.name}-`;
  return existing.filter((n) => n.startsWith(prefix));
}

/** What `up` runs: `ip -batch` lines for the root namespace, per namespace, and sysctls per namespace. */
export interface LabPlan {
  namespaces: string[];
  root: string[];
  perNs: Record<string, string[]>;
  sysctls: Record<string, Array<[key: string, value: string]>>;
}

const addrLine = (verb: 'add' | 'replace', cidr: string, dev: string): string =>
  `address ${verb} ${cidr} dev ${dev}${parseCidr(cidr)?.family === 6 ? ' nodad' : ''}`;

function routeLine(verb: 'add' | 'replace', r: NodeSpec['routes'][number]): string {
  const fam = r.to === 'default' ? (r.via !== undefined && r.via.includes(':') ? 6 : 4) : parseCidr(r.to)!.family;
  const to = r.to === 'default' ? (fam === 6 ? '::/0' : '0.0.0.0/0') : r.to;
  return [`route ${verb} ${to}`, r.via && `via ${r.via}`, r.dev && `dev ${r.dev}`, r.src && `src ${r.src}`, r.metric !== undefined && `metric ${r.metric}`]
    .filter(Boolean)
    .join(' ');
}

/** Lines that (re)apply a node's addresses, links up and routes; `replace` makes them idempotent. Ports in `skip` (TUN ends of serial/udp links: hanet makes them) are left alone. */
function nodeLines(n: NodeSpec, verb: 'add' | 'replace', only?: string, skip?: ReadonlySet<string>): string[] {
  const lines: string[] = [];
  for (const p of n.ports) {
    if (skip?.has(p.name)) continue;
    for (const a of p.addresses) lines.push(addrLine(verb, a, p.name));
    if (only === undefined || p.name === only) lines.push(`link set ${p.name} up`);
  }
  for (const r of n.routes) lines.push(routeLine(verb, r));
  return lines;
}

export function planLab(t: Topology, lab: string): LabPlan {
  const ns = (node: string) => nsName(lab, node);
  const plan: LabPlan = { namespaces: Object.keys(t.nodes).map(ns), root: [], perNs: {}, sysctls: {} };
  for (const n of plan.namespaces) plan.root.push(`netns add ${n}`);
  const mac = (node: string, port: string) => {
    const m = t.nodes[node]?.ports.find((p) => p.name === port)?.mac;
    return m ? ` address ${m}` : '';
  };
  // Switch ports: the node's end gets the port name, the switch's end `<node>-<port>`. Both ends are created
  // directly in their namespaces, so names never collide with the root namespace or other labs.
  //
  // Every veth end gets an ifindex unique within the lab. Measured: when a veth end has the same ifindex as its
  // peer in the other namespace (lo is 1, so the first veth in each namespace is 2), the kernel's linkwatch treats
  // its carrier changes as non-urgent and delays them up to 1 s: a switch port then stayed "disabled" for ~1 s
  // after `up`, and carrier-down notifications arrived 418-722 ms late (vs 3-5 ms with distinct indexes).
  let nextIndex = 10;
  const idx = () => ` index ${nextIndex++}`;
  const bridgePorts = new Map<string, string[]>();
  for (const [nn, n] of Object.entries(t.nodes)) {
    for (const p of n.ports) {
      if (p.switch === undefined) continue;
      const sp = switchPortName(nn, p.name);
      plan.root.push(`link add ${p.name} netns ${ns(nn)}${idx()}${mac(nn, p.name)} type veth peer name ${sp} netns ${ns(p.switch)}${idx()}`);
      bridgePorts.set(p.switch, [...(bridgePorts.get(p.switch) ?? []), sp]);
    }
  }
  for (const l of t.links) {
    if (l.kind !== 'veth') continue;
    const [x, y] = l.ends.map((e) => e.split(':') as [string, string]) as [[string, string], [string, string]];
    plan.root.push(`link add ${x[1]} netns ${ns(x[0])}${idx()}${mac(x[0], x[1])} type veth peer name ${y[1]} netns ${ns(y[0])}${idx()}${mac(y[0], y[1])}`);
  }
  for (const [nn, n] of Object.entries(t.nodes)) {
    const lines = ['link set lo up'];
    if (n.role === 'switch') {
      // STP off and forward_delay 0: a port forwards as soon as it has carrier (measured: state "forwarding"
      // right after `up`). ageing_time stays at the default 300 s: the bridge relearns a moved MAC from the first
      // frame it sees (e.g. a gratuitous ARP), and flushes a port's entries when the port goes down or leaves.
      lines.push(`link add ${BRIDGE_NAME} type bridge forward_delay 0 stp_state 0`);
      for (const sp of bridgePorts.get(nn) ?? []) lines.push(`link set ${sp} master ${BRIDGE_NAME}`, `link set ${sp} up`);
      lines.push(`link set ${BRIDGE_NAME} up`);
    } else {
      lines.push(...nodeLines(n, 'add', undefined, tunPorts(t, nn)));
    }
    plan.perNs[ns(nn)] = lines;
    const sc = Object.entries(n.sysctls);
    if (sc.length) plan.sysctls[ns(nn)] = sc;
  }
  return plan;
}

// ---------------------------------------------------------------------------------------------------------------
// Running iproute2

const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p)) ?? 'ip';

function signalExitCode(signal: NodeJS.Signals | null): number {
  return signal ? 128 + (osConstants.signals[signal] ?? 0) : 1;
}

/** Runs a command, collecting its output. Never throws for a non-zero exit (only if it cannot be started). */
function run(file: string, args: string[], opts: { input?: string; timeoutMs?: number; track?: Set<ChildProcess> } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawnChild(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    opts.track?.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = opts.timeoutMs !== undefined ? setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), opts.timeoutMs) : undefined;
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.stdin!.on('error', () => {}); // EPIPE when the command exits without reading its input
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      opts.track?.delete(child);
      reject(new HanetError('HANET_ERR_LAB', `cannot run ${file}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      opts.track?.delete(child);
      let stderr = Buffer.concat(err).toString('utf8');
      if (timedOut) stderr += `${stderr && !stderr.endsWith('\n') ? '\n' : ''}hanet lab: killed after ${opts.timeoutMs} ms\n`;
      resolve({ code: timedOut ? 124 : (code ?? signalExitCode(signal)), stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
    child.stdin!.end(opts.input ?? '');
  });
}

function ipFailure(what: string, r: ExecResult, lines?: string[]): HanetError {
  let detail = r.stderr.trim();
  // `ip -batch` reports "Command failed -:N"; show the line it refers to.
  const m = /Command failed -:(\d+)/.exec(detail);
  if (m && lines) detail += ` (line ${m[1]}: ${lines[Number(m[1]) - 1] ?? '?'})`;
  const code = /Operation not permitted|Permission denied/.test(detail) ? 'HANET_ERR_PERMISSION' : 'HANET_ERR_LAB';
  return new HanetError(code, `${what} failed (exit ${r.code}): ${detail || '(no output)'}`);
}

/** `ip [-n ns] -batch -` with the lines on stdin; throws on failure unless `force`. */
async function ipBatch(ns: string | undefined, lines: string[], opts: { force?: boolean } = {}): Promise<ExecResult> {
  if (lines.length === 0) return { code: 0, stdout: '', stderr: '' };
  const args = [...(ns ? ['-n', ns] : []), ...(opts.force ? ['-force'] : []), '-batch', '-'];
  const r = await run(IP, args, { input: lines.join('\n') + '\n' });
  if (r.code !== 0 && !opts.force) throw ipFailure(`ip ${ns ? `-n ${ns} ` : ''}-batch`, r, lines);
  return r;
}

async function ip(ns: string | undefined, args: string[]): Promise<string> {
  const r = await run(IP, [...(ns ? ['-n', ns] : []), ...args]);
  if (r.code !== 0) throw ipFailure(`ip ${ns ? `-n ${ns} ` : ''}${args.join(' ')}`, r);
  return r.stdout;
}

/** Writes sysctls inside a namespace with one process: keys as `net.ipv4.ip_forward` or `net/ipv4/ip_forward`. */
async function applySysctls(ns: string, entries: Array<[string, string]>): Promise<void> {
  const script = 'while [ $# -gt 0 ]; do printf "%s\\n" "$2" > "/proc/sys/$1" || exit 1; shift 2; done';
  const args = entries.flatMap(([k, v]) => [k.includes('/') ? k : k.replaceAll('.', '/'), v]);
  const r = await run(IP, ['netns', 'exec', ns, 'sh', '-c', script, 'sh', ...args]);
  if (r.code !== 0) throw ipFailure(`sysctl in ${ns} (${entries.map(([k, v]) => `${k}=${v}`).join(' ')})`, r);
}

export function requireRootPrivileges(what: string): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    throw new HanetError('HANET_ERR_PERMISSION', `${what} needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for network namespaces); run it as root, e.g. with sudo`);
}

// ---------------------------------------------------------------------------------------------------------------
// Namespaces and processes

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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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

// ---------------------------------------------------------------------------------------------------------------
// State file

async function readState(name: string): Promise<LabState | undefined> {
  let text: string;
  try {
    text = await readFile(statePath(name), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new HanetError('HANET_ERR_LAB', `cannot read lab state ${statePath(name)}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const s = JSON.parse(text) as LabState;
    if (s.version !== 1 || s.name !== name || typeof s.topology !== 'object') throw new Error('unexpected content');
    s.failures ??= {};
    return s;
  } catch (e) {
    throw new HanetError('HANET_ERR_LAB', `lab state ${statePath(name)} is corrupt (${(e as Error).message}); remove the lab with \`hanet lab down ${name}\``, { cause: e });
  }
}

/** Names of the labs that have a state file. */
async function stateNames(): Promise<string[]> {
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
function withLabLock<T>(lab: string, fn: () => Promise<T>): Promise<T> {
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
async function updateState(name: string, fn: (s: LabState) => void): Promise<LabState> {
  const s = await readState(name);
  if (!s) throw new HanetError('HANET_ERR_LAB', `lab "${name}" is not up (no ${statePath(name)})`);
  fn(s);
  await writeStateAtomic(s);
  return s;
}

// ---------------------------------------------------------------------------------------------------------------
// The lab handle

/** Children started through `spawn`/`exec` in this process, per lab, so `down` can stop them first. */
const children = new Map<string, Set<ChildProcess>>();
const childrenOf = (lab: string): Set<ChildProcess> => {
  let s = children.get(lab);
  if (!s) children.set(lab, (s = new Set()));
  return s;
};

const PROBE_SCRIPT = `
const [host, port, ms] = process.argv.slice(1);
const s = require('node:net').connect({ host, port: Number(port) });
const t = setTimeout(() => { process.stdout.write('timeout'); process.exit(2); }, Number(ms));
s.on('connect', () => { process.stdout.write('connected'); process.exit(0); });
s.on('error', (e) => { process.stdout.write(e.code || e.message); process.exit(e.code === 'ECONNREFUSED' ? 0 : 1); });
`;

class Lab implements LabHandle {
  constructor(
    readonly name: string,
    readonly topology: Topology,
  ) {}

  ns(node: string): string {
    if (!this.topology.nodes[node]) throw new HanetError('HANET_ERR_LAB', `lab "${this.name}" has no node "${node}" (nodes: ${Object.keys(this.topology.nodes).join(', ')})`);
    return nsName(this.name, node);
  }

  async exec(node: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await run(IP, ['netns', 'exec', this.ns(node), ...argv], { ...opts, track: childrenOf(this.name) });
    if (opts.check && r.code !== 0) {
      const what = `${node}: ${argv.join(' ')}`;
      if (r.code === 124 && r.stderr.includes('hanet lab: killed after')) throw new HanetError('HANET_ERR_TIMEOUT', `${what} did not finish in ${opts.timeoutMs} ms`);
      throw new HanetError('HANET_ERR_LAB', `${what} exited with code ${r.code}: ${r.stderr.trim() || '(no stderr)'}`);
    }
    return r;
  }

  spawn(node: string, argv: string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawnChild(IP, ['netns', 'exec', this.ns(node), ...argv], opts);
    const set = childrenOf(this.name);
    set.add(child);
    child.on('exit', () => set.delete(child));
    child.on('error', () => set.delete(child));
    return child;
  }

  async probe(node: string, address: string, opts: { port?: number; timeoutMs?: number } = {}): Promise<boolean> {
    const ms = opts.timeoutMs ?? 1000;
    const r = await this.exec(node, [process.execPath, '-e', PROBE_SCRIPT, address, String(opts.port ?? 9), String(ms)], { timeoutMs: ms + 5000 });
    return r.code === 0;
  }

  private switchSide(ref: PortRef): { ns: string; ifname: string } | undefined {
    const { port } = getPort(this.topology, ref);
    return port.switch === undefined ? undefined : { ns: nsName(this.name, port.switch), ifname: switchPortName(ref.node, ref.port) };
  }

  /** Undoes any failure of the port (all modes, so it also repairs a port whose failure record was lost). */
  private async undo(ref: PortRef): Promise<void> {
    const sw = this.switchSide(ref);
    await Promise.all([
      sw && ipBatch(sw.ns, [`link set ${sw.ifname} master ${BRIDGE_NAME}`, `link set ${sw.ifname} up`]),
      ip(nsName(this.name, ref.node), ['link', 'set', ref.port, 'up']),
    ]);
  }

  async fail(port: string, mode: FailureMode): Promise<void> {
    requireRootPrivileges('lab fail');
    return withLabLock(this.name, () => this.failLocked(port, mode));
  }

  async heal(port: string): Promise<void> {
    requireRootPrivileges('lab heal');
    return withLabLock(this.name, () => this.healLocked(port));
  }

  private async failLocked(port: string, mode: FailureMode): Promise<void> {
    if (!FAILURE_MODES.includes(mode)) throw new HanetError('HANET_ERR_LAB', `unknown failure mode "${String(mode)}" (modes: ${FAILURE_MODES.join(', ')})`);
    const { ref } = getPort(this.topology, port);
    const key = `${ref.node}:${ref.port}`;
    const sw = this.switchSide(ref);
    if (mode !== 'admin' && !sw)
      throw new HanetError('HANET_ERR_LAB', `port ${key} is not plugged into a switch: "${mode}" failures act on the switch side; use mode "admin"`);
    const state = await readState(this.name);
    if (!state) throw new HanetError('HANET_ERR_LAB', `lab "${this.name}" is not up (no ${statePath(this.name)})`);
    const current = state.failures[key];
    if (current === mode) return;
    if (current !== undefined) await this.undo(ref);
    if (mode === 'carrier') await ip(sw!.ns, ['link', 'set', sw!.ifname, 'down']);
    else if (mode === 'silent') await ip(sw!.ns, ['link', 'set', sw!.ifname, 'nomaster']);
    else await ip(nsName(this.name, ref.node), ['link', 'set', ref.port, 'down']);
    await updateState(this.name, (s) => void (s.failures[key] = mode));
  }

  private async healLocked(port: string): Promise<void> {
    const { ref, node } = getPort(this.topology, port);
    const key = `${ref.node}:${ref.port}`;
    await this.undo(ref);
    const state = await updateState(this.name, (s) => void delete s.failures[key]);
    // Re-apply the node's addresses and routes (an admin-down removed its connected and default routes).
    const lines = nodeLines(node, 'replace', ref.port, tunPorts(this.topology, ref.node));
    const r = await ipBatch(nsName(this.name, ref.node), lines, { force: true });
    // A route may legitimately fail while another port of the node is still down; otherwise it is an error.
    const otherDown = Object.entries(state.failures).some(([k, m]) => k.startsWith(`${ref.node}:`) && m === 'admin');
    if (r.code !== 0 && !otherDown) throw ipFailure(`re-applying ${ref.node}'s addresses and routes`, r, lines);
  }

  async down(): Promise<void> {
    await labDown({ name: this.name });
  }

  /** The serial link that `link` ("a:ser0", either end) is. */
  private serialLink(link: string): { key: string; ends: [string, string] } {
    const l = this.topology.links.find((x) => x.kind === 'serial' && x.ends.includes(link));
    if (!l) throw new HanetError('HANET_ERR_LAB', `"${link}" is not an end of a serial link (serial links: ${this.topology.links.filter((x) => x.kind === 'serial').map((x) => x.ends.join(' - ')).join(', ') || 'none'})`);
    return { key: l.ends[0], ends: l.ends };
  }

  async unplug(link: string, mode: UnplugMode = 'hangup'): Promise<void> {
    requireRootPrivileges('lab unplug');
    const { key } = this.serialLink(link);
    return withLabLock(this.name, async () => {
      const st = (await readState(this.name))?.serial?.[key];
      if (!st) throw new HanetError('HANET_ERR_LAB', `no relay recorded for serial link ${key}`);
      if (st.unplugged === mode) return;
      if (st.unplugged === 'silent') process.kill(st.pid, 'SIGUSR2');
      if (mode === 'hangup') await stopRelay(st.pid);
      else process.kill(st.pid, 'SIGUSR1');
      await updateState(this.name, (s) => void (s.serial![key]!.unplugged = mode));
    });
  }

  async plug(link: string): Promise<void> {
    requireRootPrivileges('lab plug');
    const { key } = this.serialLink(link);
    return withLabLock(this.name, async () => {
      const st = (await readState(this.name))?.serial?.[key];
      if (!st) throw new HanetError('HANET_ERR_LAB', `no relay recorded for serial link ${key}`);
      if (st.unplugged === undefined) return;
      let pid = st.pid;
      if (st.unplugged === 'silent') process.kill(st.pid, 'SIGUSR2');
      else pid = (await startRelay(relayArgv(this.name, key), { baud: st.baud, ttys: st.ttys })).pid;
      await updateState(this.name, (s) => { s.serial![key] = { pid, baud: st.baud, ttys: st.ttys }; });
    });
  }
}

/** The relay of a serial link runs in the namespace of the link's first end, so `lab down` ends it with the rest. */
function relayArgv(lab: string, firstEnd: string): string[] {
  return [IP, 'netns', 'exec', nsName(lab, parsePortRef(firstEnd)!.node), ...hanetArgv()];
}

// ---------------------------------------------------------------------------------------------------------------
// Public operations

/** All lab-port interfaces (node side and switch side) are operationally up: the lab is usable. */
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
    if (missing.length === 0) return;
    if (Date.now() > deadline) throw new HanetError('HANET_ERR_LAB', `interfaces without carrier after ${timeoutMs} ms: ${missing.join(', ')}`);
    await sleep(10);
  }
}

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
      throw new HanetError('HANET_ERR_LAB', `lab "${name}" exists (namespaces ${existing.join(', ')}); take it down first (hanet lab down ${name}) or replace it`);
  }
  await mkdir(STATE_DIR, { recursive: true, mode: 0o755 });
  const state: LabState = { version: 1, name, topology: t, createdAt: new Date().toISOString(), pid: process.pid, failures: {} };
  try {
    // 'wx': creating the state file is also the lock against a concurrent `up` of the same name.
    await writeFile(statePath(name), JSON.stringify(state, null, 2) + '\n', { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new HanetError('HANET_ERR_LAB', `lab "${name}" exists (${statePath(name)}); take it down first (hanet lab down ${name}) or replace it`);
    throw new HanetError('HANET_ERR_LAB', `cannot write ${statePath(name)}: ${(e as Error).message}`, { cause: e });
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
  } catch (e) {
    await labDown({ name }).catch(() => {});
    if (e instanceof HanetError) throw e;
    throw new HanetError('HANET_ERR_LAB', `lab "${name}" could not be built: ${(e as Error).message}`, { cause: e });
  }
  return new Lab(name, t);
}

/** A handle on an existing lab, from its state file. */
export async function openLab(name: string): Promise<LabHandle> {
  checkLabName(name);
  const s = await readState(name);
  if (!s) throw new HanetError('HANET_ERR_LAB', `lab "${name}" is not up (no ${statePath(name)}); start it with \`hanet lab up --name ${name}\``);
  const t = parseTopology(s.topology, statePath(name));
  const present = new Set(await listNamespaces());
  const missing = Object.keys(t.nodes).map((n) => nsName(name, n)).filter((n) => !present.has(n));
  if (missing.length)
    throw new HanetError('HANET_ERR_LAB', `lab "${name}" is incomplete (missing namespaces ${missing.join(', ')}); remove it with \`hanet lab down ${name}\``);
  return new Lab(name, t);
}

/**
 * Removes a lab (or, with `all`, every `hn-` namespace and every lab state file): stops the processes inside
 * (SIGTERM, then SIGKILL, bounded waits), deletes the namespaces, removes the state file. Idempotent.
 */
export async function labDown(target: { name: string } | { all: true }): Promise<LabDownResult> {
  requireRootPrivileges('lab down');
  if (!('all' in target)) checkLabName(target.name);
  for (const [lab, set] of children) if ('all' in target || lab === target.name) for (const c of set) c.kill('SIGTERM');
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
    if (round === 5) throw new HanetError('HANET_ERR_LAB', `namespaces keep reappearing: ${found.join(', ')}`);
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

export interface LabStatus {
  labs: Array<{
    name: string;
    topologyName?: string;
    createdAt: string;
    pid: number;
    nodes: Array<{ node: string; role: string; ns: string; present: boolean }>;
    failures: Array<{ port: string; mode: FailureMode }>;
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
      });
    } catch (e) {
      labs.push({ name, createdAt: '', pid: 0, nodes: [], failures: [], error: (e as Error).message });
      for (const ns of selectNamespaces([...present], { name })) owned.add(ns);
    }
  }
  const orphans = selectNamespaces([...present], { all: true }).filter((n) => !owned.has(n));
  return { labs, orphans };
}

/** The argv that runs hanet's CLI (`[node, <repo>/dist/src/cli/main.js]`), e.g. inside a namespace; HANET_BIN (an
 * installed package's bin/hanet.js) replaces the script, so the lab can run an installed hanet (test/lab/package). */
export function hanetArgv(): string[] {
  return [process.execPath, process.env.HANET_BIN || fileURLToPath(new URL('../cli/main.js', import.meta.url))];
}
