// A running hanet cluster in a lab (`hanet lab run`, `hanet lab up --run`, the chaos run): the daemons are started
// detached (they outlive the command that started them) with their pids in the lab state, so `hanet lab down`
// stops them even after a crash; the handle starts, signals, kills and restarts single daemons (the chaos run's
// process faults) and reads their status. Configurations come from cluster.ts (serverConfig, writeClusterFiles).
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonStatus } from '../daemon/daemon.js';
import { daemonStatus, waitForStatus, writeClusterFiles, type ClusterOptions } from './cluster.js';
import { LabError } from './errors.js';
import { hanetArgv, type LabHandle } from './handle.js';
import { IP } from './iproute.js';
import { daemonAlive, procStat, stopDaemon } from './daemon-proc.js';
import { readState, updateState, withLabLock, type DaemonRecord } from './state.js';

export { daemonAlive, stopDaemon } from './daemon-proc.js';

/** Stops every daemon recorded for the lab (SIGTERM: they remove what they installed), then forgets them. */
export async function stopLabDaemons(lab: string, ms = 5000): Promise<number> {
  const st = await readState(lab).catch(() => undefined);
  const daemons = Object.values(st?.cluster?.daemons ?? {});
  await Promise.all(daemons.map(async (d) => { try { process.kill(d.pid, 'SIGCONT'); } catch { /* gone */ } await stopDaemon(d, 'SIGTERM', ms); }));
  if (st?.cluster) await withLabLock(lab, () => updateState(lab, (s) => { if (s.cluster) s.cluster.daemons = {}; })).catch(() => undefined);
  return daemons.length;
}

export interface StartOptions {
  /** Wait until the daemon reports ready (default true). */
  wait?: boolean;
  /** Extra environment (e.g. HANET_CLOCK_OFFSET_MS). */
  env?: Record<string, string>;
}

export interface LiveCluster {
  readonly lab: LabHandle;
  readonly dir: string;
  readonly servers: string[];
  configPath(node: string): string;
  socketPath(node: string): string;
  logPath(node: string): string;
  /** The file the daemon reads its wall-clock offset from (HANET_CLOCK_OFFSET_FILE, src/daemon/test-clock.ts). */
  clockPath(node: string): string;
  /** Starts the daemon detached; its pid goes into the lab state. */
  start(node: string, opts?: StartOptions): Promise<void>;
  /** Sends a signal and, unless it is SIGSTOP/SIGCONT, waits for the exit (SIGKILL after `ms`). */
  kill(node: string, signal?: NodeJS.Signals, ms?: number): Promise<void>;
  /** Sends a signal and returns at once. */
  signal(node: string, signal: NodeJS.Signals): void;
  running(node: string): boolean;
  pid(node: string): number | undefined;
  /** Steps the daemon's wall clock to `offsetMs` from the real one (0: no offset). */
  setClockOffset(node: string, offsetMs: number): void;
  status(node: string): Promise<DaemonStatus>;
  waitFor(node: string, pred: (s: DaemonStatus) => boolean, opts?: { timeoutMs?: number; what?: string }): Promise<DaemonStatus>;
  /** SIGTERM to every daemon, waiting for each to clean up. */
  stop(): Promise<void>;
}

class Live implements LiveCluster {
  private readonly daemons = new Map<string, DaemonRecord>();
  private readonly children = new Map<string, ChildProcess>();

  constructor(readonly lab: LabHandle, readonly dir: string, readonly servers: string[], known: Record<string, DaemonRecord> = {}) {
    for (const [n, d] of Object.entries(known)) if (daemonAlive(d)) this.daemons.set(n, d);
  }

  configPath(n: string): string { return join(this.dir, `${n}.yaml`); }
  socketPath(n: string): string { return join(this.dir, `${n}.sock`); }
  logPath(n: string): string { return join(this.dir, `${n}.log`); }
  clockPath(n: string): string { return join(this.dir, `${n}.clock`); }

  private record(n: string, d: DaemonRecord | undefined): Promise<unknown> {
    return withLabLock(this.lab.name, () => updateState(this.lab.name, (s) => {
      s.cluster ??= { dir: this.dir, daemons: {} };
      if (d) s.cluster.daemons[n] = d; else delete s.cluster.daemons[n];
    }));
  }

  async start(n: string, o: StartOptions = {}): Promise<void> {
    if (!this.servers.includes(n)) throw new LabError(`${n} is not a server of the cluster (servers: ${this.servers.join(', ')})`);
    if (this.running(n)) throw new LabError(`hanet already runs on ${n} (pid ${this.daemons.get(n)!.pid})`);
    rmSync(this.socketPath(n), { force: true });
    const fd = openSync(this.logPath(n), 'a');
    // `ip netns exec` execs the command: the child's pid is the daemon's. Detached, in its own process group.
    const child = spawnChild(IP, ['netns', 'exec', this.lab.ns(n), ...hanetArgv(), 'run', '-c', this.configPath(n)], {
      detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, HANET_CLOCK_OFFSET_FILE: this.clockPath(n), ...o.env },
    });
    closeSync(fd);
    child.unref();
    child.on('error', () => undefined);
    const pid = child.pid;
    const st = pid !== undefined ? procStat(pid) : undefined;
    if (pid === undefined || !st) throw new LabError(`hanet on ${n} did not start (log: ${this.logPath(n)})`);
    const d = { pid, startTicks: st.startTicks };
    this.daemons.set(n, d);
    this.children.set(n, child);
    child.once('exit', () => { if (this.children.get(n) === child) this.children.delete(n); });
    await this.record(n, d);
    if (o.wait !== false) await this.waitFor(n, (s) => s.ready, { timeoutMs: 15_000, what: `hanet on ${n} to be ready` });
  }

  running(n: string): boolean {
    const d = this.daemons.get(n);
    return d !== undefined && daemonAlive(d);
  }

  pid(n: string): number | undefined { return this.running(n) ? this.daemons.get(n)!.pid : undefined; }

  signal(n: string, sig: NodeJS.Signals): void {
    const d = this.daemons.get(n);
    if (d && daemonAlive(d)) process.kill(d.pid, sig);
  }

  async kill(n: string, sig: NodeJS.Signals = 'SIGTERM', ms = 5000): Promise<void> {
    const d = this.daemons.get(n);
    if (!d) return;
    await stopDaemon(d, sig, ms);
    if (sig === 'SIGSTOP' || sig === 'SIGCONT') return;
    this.daemons.delete(n);
    await this.record(n, undefined);
  }

  setClockOffset(n: string, offsetMs: number): void {
    writeFileSync(this.clockPath(n), `${Math.round(offsetMs)}\n`);
  }

  status(n: string): Promise<DaemonStatus> { return daemonStatus(this.socketPath(n), n); }

  waitFor(n: string, pred: (s: DaemonStatus) => boolean, o: { timeoutMs?: number; what?: string } = {}): Promise<DaemonStatus> {
    return waitForStatus(n, () => this.status(n), () => this.running(n), this.logPath(n), pred, o);
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map(async (n) => { this.signal(n, 'SIGCONT'); await this.kill(n, 'SIGTERM'); }));
  }
}

/**
 * Writes the cluster's configurations and starts hanet on every server of the lab (detached), waiting until each is
 * ready. Options as startCluster's (overrides, common, servers).
 */
export async function runCluster(lab: LabHandle, opts: ClusterOptions = {}): Promise<LiveCluster> {
  const prev = (await readState(lab.name))?.cluster;
  if (prev && Object.values(prev.daemons).some(daemonAlive)) throw new LabError(`hanet already runs in lab "${lab.name}" (stop it with \`hanet lab stop\` or \`hanet lab down\`)`);
  const { dir, servers } = writeClusterFiles(lab, opts);
  for (const n of servers) rmSync(join(dir, `${n}.clock`), { force: true });
  await withLabLock(lab.name, () => updateState(lab.name, (s) => { s.cluster = { dir, daemons: {} }; }));
  const c = new Live(lab, dir, servers);
  try {
    await Promise.all(servers.map((n) => c.start(n)));
  } catch (err) {
    await c.stop();
    throw err;
  }
  return c;
}

/** The handle on a lab's running cluster, from its state (the daemons still alive). */
export async function openCluster(lab: LabHandle): Promise<LiveCluster> {
  const cl = (await readState(lab.name))?.cluster;
  if (!cl) throw new LabError(`no cluster runs in lab "${lab.name}" (start one with \`hanet lab run\`)`);
  const servers = Object.entries(lab.topology.nodes).filter(([, n]) => n.role === 'server').map(([k]) => k);
  return new Live(lab, cl.dir, servers, cl.daemons);
}
