// Emulated delay in the lab (this kernel has no netem): startDelay() runs delay-node.js in a router node (the
// `dl` node of the embedded `pair-delay` topology) and steers everything that node forwards through its TUN device.
//
// Packet path in the delay node, for packets arriving on one of `ifaces`:
//   ip rule "iif <iface> lookup 100"  ->  table 100: "default dev dly0"  ->  the kernel forwards into the TUN device
//   -> delay-node.js holds the packet delayMs  ->  writes it back into dly0  ->  it arrives with iif dly0, so the
//   main table routes it on (out of the other interface). rp_filter is 0 in a new namespace, so the packet's
//   source on the "wrong" interface is accepted.
// Packets addressed to the node itself are delivered by the local table (rule 0) before rule 100, undelayed.
// So a path through the node gets delayMs in each direction: round trip = 2 x delayMs (+ the release lateness,
// 0-1 ms per pass, that delay-node.js reports).
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HanetError } from '../errors.js';
import { LabError } from './errors.js';
import type { LabHandle } from './lab.js';

export interface DelayOptions {
  /** one-way delay per pass through the node, ms */
  delayMs: number;
  /** interfaces whose arriving packets are delayed; default ['eth0', 'eth1'] */
  ifaces?: string[];
  /** TUN device name; default dly0 */
  tun?: string;
  /** routing table for the steering rules; default 100 */
  table?: number;
  startTimeoutMs?: number;
}

export interface DelayStats {
  delay_ms: number;
  packets: number;
  bytes: number;
  dropped: number;
  max_queue: number;
  /** how late packets were released beyond delayMs */
  lateness_ms: { p50: number; p99: number; max: number };
}

export interface DelayHandle {
  readonly pid: number | undefined;
  /** Stops the forwarder (the TUN device and its routes disappear with it) and returns its statistics. */
  stop(): Promise<DelayStats | undefined>;
}

export const DELAY_NODE_SCRIPT = fileURLToPath(new URL('./delay-node.js', import.meta.url));

export async function startDelay(lab: LabHandle, node: string, opts: DelayOptions): Promise<DelayHandle> {
  const tun = opts.tun ?? 'dly0';
  const table = opts.table ?? 100;
  const ifaces = opts.ifaces ?? ['eth0', 'eth1'];
  const child: ChildProcess = lab.spawn(node, [process.execPath, DELAY_NODE_SCRIPT, '--tun', tun, '--delay-ms', String(opts.delayMs)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => { stderr = (stderr + d).slice(-8000); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin!.on('error', () => {});
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new HanetError('HANET_ERR_TIMEOUT', `delay node on ${node}: no READY after ${opts.startTimeoutMs ?? 10_000} ms: ${stderr}`)), opts.startTimeoutMs ?? 10_000);
      createInterface({ input: child.stdout! }).on('line', (l) => { if (l.startsWith('READY')) { clearTimeout(t); resolve(); } });
      child.once('exit', (code) => { clearTimeout(t); reject(new LabError(`delay node on ${node} exited (${code}): ${stderr.trim()}`)); });
    });
    const lines = [
      `link set ${tun} up`,
      `route replace default dev ${tun} table ${table}`,
      ...ifaces.map((i, k) => `rule add iif ${i} lookup ${table} pref ${table + k}`),
    ];
    await lab.exec(node, ['ip', '-batch', '-'], { input: lines.join('\n') + '\n', check: true, timeoutMs: 10_000 });
  } catch (e) {
    child.kill('SIGKILL');
    await exited;
    throw e;
  }
  let stopping: Promise<DelayStats | undefined> | undefined;
  return {
    pid: child.pid,
    stop: () => {
      stopping ??= (async () => {
        // The rules would steer into a missing device after exit (packets dropped): remove them first.
        await lab.exec(node, ['ip', '-force', '-batch', '-'], { input: ifaces.map((i, k) => `rule del pref ${table + k}`).join('\n') + '\n', timeoutMs: 10_000 }).catch(() => undefined);
        child.stdin!.end();
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
        const last = stderr.trim().split('\n').reverse().find((l) => l.startsWith('{'));
        try { return last ? (JSON.parse(last) as DelayStats) : undefined; } catch { return undefined; }
      })();
      return stopping;
    },
  };
}
