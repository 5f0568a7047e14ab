// The handle on a running lab: run commands in its nodes (tracked, so `down` stops them first), probe
// reachability, inject and heal port failures, unplug and plug serial links. Made by labUp and openLab (lab.ts).
import { spawn as spawnChild, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FAILURE_MODES, type FailureMode, type UnplugMode } from '../cli/lab-options.js';
import { HanetError } from '../errors.js';
import { LabError } from './errors.js';
import { IP, ip, ipBatch, ipFailure, requireRootPrivileges, run, type ExecResult } from './iproute.js';
import { nodeLines, nsName } from './plan.js';
import { startRelay, stopRelay } from './serial-relay.js';
import { readState, statePath, updateState, withLabLock, type SerialRelayState } from './state.js';
import { childrenOf, labDown } from './teardown.js';
import { BRIDGE_NAME, getPort, parsePortRef, switchPortName, tunPorts, type PortRef, type Topology } from './topology.js';

export interface ExecOptions {
  input?: string;
  /** Kill the command (SIGKILL) after this long; the result then has code 124 (like timeout(1)). */
  timeoutMs?: number;
  /** Throw LabError (HANET_ERR_LAB) with stderr on a non-zero exit (HANET_ERR_TIMEOUT on a timeout). */
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

const PROBE_SCRIPT = `
const [host, port, ms] = process.argv.slice(1);
const s = require('node:net').connect({ host, port: Number(port) });
const t = setTimeout(() => { process.stdout.write('timeout'); process.exit(2); }, Number(ms));
s.on('connect', () => { process.stdout.write('connected'); process.exit(0); });
s.on('error', (e) => { process.stdout.write(e.code || e.message); process.exit(e.code === 'ECONNREFUSED' ? 0 : 1); });
`;

export class Lab implements LabHandle {
  constructor(
    readonly name: string,
    readonly topology: Topology,
  ) {}

  ns(node: string): string {
    if (!this.topology.nodes[node]) throw new LabError(`lab "${this.name}" has no node "${node}" (nodes: ${Object.keys(this.topology.nodes).join(', ')})`);
    return nsName(this.name, node);
  }

  async exec(node: string, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await run(IP, ['netns', 'exec', this.ns(node), ...argv], { ...opts, track: childrenOf(this.name) });
    if (opts.check && r.code !== 0) {
      const what = `${node}: ${argv.join(' ')}`;
      if (r.code === 124 && r.stderr.includes('hanet lab: killed after')) throw new HanetError('HANET_ERR_TIMEOUT', `${what} did not finish in ${opts.timeoutMs} ms`);
      throw new LabError(`${what} exited with code ${r.code}: ${r.stderr.trim() || '(no stderr)'}`);
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
    if (!FAILURE_MODES.includes(mode)) throw new LabError(`unknown failure mode "${String(mode)}" (modes: ${FAILURE_MODES.join(', ')})`);
    const { ref } = getPort(this.topology, port);
    const key = `${ref.node}:${ref.port}`;
    const sw = this.switchSide(ref);
    if (mode !== 'admin' && !sw)
      throw new LabError(`port ${key} is not plugged into a switch: "${mode}" failures act on the switch side; use mode "admin"`);
    const state = await readState(this.name);
    if (!state) throw new LabError(`lab "${this.name}" is not up (no ${statePath(this.name)})`);
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
    if (!l) throw new LabError(`"${link}" is not an end of a serial link (serial links: ${this.topology.links.filter((x) => x.kind === 'serial').map((x) => x.ends.join(' - ')).join(', ') || 'none'})`);
    return { key: l.ends[0], ends: l.ends };
  }

  /** Runs `fn` on the recorded relay of the serial link `link` (either end), under the lab's lock. */
  private withRelay(what: string, link: string, fn: (key: string, st: SerialRelayState) => Promise<void>): Promise<void> {
    requireRootPrivileges(what);
    const { key } = this.serialLink(link);
    return withLabLock(this.name, async () => {
      const st = (await readState(this.name))?.serial?.[key];
      if (!st) throw new LabError(`no relay recorded for serial link ${key}`);
      await fn(key, st);
    });
  }

  async unplug(link: string, mode: UnplugMode = 'hangup'): Promise<void> {
    return this.withRelay('lab unplug', link, async (key, st) => {
      if (st.unplugged === mode) return;
      if (st.unplugged === 'silent') process.kill(st.pid, 'SIGUSR2');
      if (mode === 'hangup') await stopRelay(st.pid);
      else process.kill(st.pid, 'SIGUSR1');
      await updateState(this.name, (s) => void (s.serial![key]!.unplugged = mode));
    });
  }

  async plug(link: string): Promise<void> {
    return this.withRelay('lab plug', link, async (key, st) => {
      if (st.unplugged === undefined) return;
      let pid = st.pid;
      if (st.unplugged === 'silent') process.kill(st.pid, 'SIGUSR2');
      else pid = (await startRelay(relayArgv(this.name, key), { baud: st.baud, ttys: st.ttys })).pid;
      await updateState(this.name, (s) => { s.serial![key] = { pid, baud: st.baud, ttys: st.ttys }; });
    });
  }
}

/** The relay of a serial link runs in the namespace of the link's first end, so `lab down` ends it with the rest. */
export function relayArgv(lab: string, firstEnd: string): string[] {
  return [IP, 'netns', 'exec', nsName(lab, parsePortRef(firstEnd)!.node), ...hanetArgv()];
}

/** The argv that runs hanet's CLI (`[node, <repo>/bin/hanet.js]`, as installed), e.g. inside a namespace; HANET_BIN (an
 * installed package's bin/hanet.js) replaces the script, so the lab can run an installed hanet (test/lab/package). */
export function hanetArgv(): string[] {
  return [process.execPath, process.env.HANET_BIN || fileURLToPath(new URL('../../../bin/hanet.js', import.meta.url))];
}
