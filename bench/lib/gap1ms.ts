// 1 ms-resolution gap measurement for the failover bench: runs native/gap1ms.c (build/Release/hanet_gap1ms) as a
// client in one lab node and a server in another (a probe stream each way every interval, plus the server's
// echo of every client probe), then finds, per direction, the largest interval between consecutive arrivals.
// Times are CLOCK_MONOTONIC (the kernel's receive timestamps), comparable with process.hrtime of any lab process.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import type { ChildProcess } from 'node:child_process';
import type { LabHandle } from '../../src/lab/lab.js';
import { pct, r3 } from './common.js';

/** dist/bench/lib/gap1ms.js -> build/Release/hanet_gap1ms of the package (built by binding.gyp). */
export const GAP1MS_BIN = fileURLToPath(new URL('../../../build/Release/hanet_gap1ms', import.meta.url));
export const GAP1MS_PORT = 7900;

export interface GapFile {
  headers: Record<string, string>;
  /** probes this side sent: seq -> send time (ns) */
  sent: Map<number, number>;
  /** probes received from the peer */
  received: Array<{ seq: number; rxNs: number; sendNs: number }>;
  /** echoes of our probes (client) */
  echoes: Array<{ seq: number; rxNs: number; sendNs: number; srvRxNs: number; srvTxNs: number }>;
}

export function parseGapFile(text: string): GapFile {
  const f: GapFile = { headers: {}, sent: new Map(), received: [], echoes: [] };
  for (const line of text.split('\n')) {
    const p = line.split(' ');
    if (p[0] === '#' && p.length >= 3) f.headers[p[1]!] = p[2]!;
    else if (p[0] === 'S') f.sent.set(Number(p[1]), Number(p[2]));
    else if (p[0] === 'R') f.received.push({ seq: Number(p[1]), rxNs: Number(p[2]), sendNs: Number(p[3]) });
    else if (p[0] === 'E') f.echoes.push({ seq: Number(p[1]), rxNs: Number(p[2]), sendNs: Number(p[3]), srvRxNs: Number(p[4]), srvTxNs: Number(p[5]) });
  }
  return f;
}

export interface GapData { client: GapFile; server: GapFile; intervalMs: number }

export interface GapStream {
  /** Stops both ends (they keep receiving 300 ms for late packets) and returns what they recorded. */
  stop(): Promise<GapData>;
}

function startEnd(lab: LabHandle, node: string, args: string[]): Promise<ChildProcess> {
  const child = lab.spawn(node, [GAP1MS_BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => (l === 'READY' ? resolve(child) : reject(new Error(`hanet_gap1ms: ${l}`))));
    child.once('exit', (code) => reject(new Error(`hanet_gap1ms ${args[0]} in ${node} exited (${code}): ${err}`)));
  });
}

/** Starts the streams between `client` and the server node holding `address` (the service address). */
export async function startGap1ms(lab: LabHandle, o: { client: string; server: string; address: string; port?: number; intervalUs?: number }): Promise<GapStream> {
  if (!existsSync(GAP1MS_BIN)) throw new Error(`${GAP1MS_BIN} is missing: build the addon (npm install)`);
  const port = String(o.port ?? GAP1MS_PORT);
  const intervalUs = String(o.intervalUs ?? 1000);
  const dir = mkdtempSync(join(tmpdir(), 'hanet-gap1ms-'));
  const srvOut = join(dir, 'server.txt'), cliOut = join(dir, 'client.txt');
  const srv = await startEnd(lab, o.server, ['server', port, intervalUs, srvOut]);
  let cli: ChildProcess;
  try {
    cli = await startEnd(lab, o.client, ['client', o.address, port, intervalUs, cliOut]);
  } catch (e) {
    srv.kill('SIGKILL');
    throw e;
  }
  const ended = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null ? r() : c.once('exit', () => r())));
  return {
    async stop() {
      // Both senders stop together; both receivers then keep listening 300 ms for what is in flight.
      cli.stdin!.end();
      srv.stdin!.end();
      await Promise.all([ended(cli), ended(srv)]);
      try {
        return { client: parseGapFile(readFileSync(cliOut, 'utf8')), server: parseGapFile(readFileSync(srvOut, 'utf8')), intervalMs: Number(intervalUs) / 1000 };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** The largest interval between consecutive arrivals of one stream, with where it lies. */
export interface StreamGap {
  /** largest interval between consecutive arrivals (ms); about one send interval when nothing was interrupted */
  gapMs: number;
  /** last arrival before the gap and first arrival after it, ms from the origin */
  fromMs: number;
  toMs: number;
  /** the first packet after the gap: its seq and when it had been sent (ms from the origin) */
  firstAfter: { seq: number; sentMs: number } | null;
  sent: number;
  received: number;
  /** sent in the window (but in its last 100 ms or the run's, maybe still in flight) and never received */
  lost: number;
  /** one-way (or round-trip) delay of the packets received in the window, ms */
  delayMs: { p50: number; p99: number; max: number };
}

export interface GapReport {
  intervalMs: number;
  /** client -> server probes, arrival gaps at the server */
  forward: StreamGap;
  /** server -> client probes, arrival gaps at the client */
  reverse: StreamGap;
  /** client probes echoed by the server, arrival gaps of the echoes at the client: the service's view */
  roundTrip: StreamGap;
  /** how regularly each sender kept its interval: gaps between consecutive sends (ms) */
  senders: { client: { p50: number; p99: number; max: number }; server: { p50: number; p99: number; max: number }; fifo: boolean };
  /** change of CLOCK_REALTIME - CLOCK_MONOTONIC during the run (a clock step would distort arrival times) */
  clockStepMs: number;
}

const ms = (ns: number): number => ns / 1e6;

function streamGap(sent: Map<number, number>, recv: Array<{ seq: number; rxNs: number; sendNs: number }>, w: { fromNs: number; toNs: number; originNs: number }): StreamGap {
  const r = recv.filter((x) => x.rxNs >= w.fromNs && x.rxNs < w.toNs).sort((a, b) => a.rxNs - b.rxNs);
  let best = 0, at = -1;
  for (let i = 1; i < r.length; i++) {
    const d = r[i]!.rxNs - r[i - 1]!.rxNs;
    if (d > best) { best = d; at = i; }
  }
  const got = new Set(recv.map((x) => x.seq));
  let nSent = 0, lost = 0, lastSend = -Infinity;
  for (const t of sent.values()) lastSend = Math.max(lastSend, t);
  const inFlight = Math.min(w.toNs, lastSend) - 100e6; // sent later than this: maybe still in flight at the end
  for (const [seq, t] of sent) {
    if (t < w.fromNs || t >= w.toNs) continue;
    nSent++;
    if (t < inFlight && !got.has(seq)) lost++;
  }
  const delays = r.map((x) => ms(x.rxNs - x.sendNs));
  const after = at > 0 ? r[at]! : undefined;
  return {
    gapMs: r3(ms(best)),
    fromMs: at > 0 ? r3(ms(r[at - 1]!.rxNs - w.originNs)) : NaN,
    toMs: after ? r3(ms(after.rxNs - w.originNs)) : NaN,
    firstAfter: after ? { seq: after.seq, sentMs: r3(ms(after.sendNs - w.originNs)) } : null,
    sent: nSent,
    received: r.length,
    lost,
    delayMs: { p50: r3(pct(delays, 50)), p99: r3(pct(delays, 99)), max: r3(delays.length ? Math.max(...delays) : NaN) },
  };
}

function senderJitter(sent: Map<number, number>): { p50: number; p99: number; max: number } {
  const t = [...sent.values()].sort((a, b) => a - b);
  const d: number[] = [];
  for (let i = 1; i < t.length; i++) d.push(ms(t[i]! - t[i - 1]!));
  return { p50: r3(pct(d, 50)), p99: r3(pct(d, 99)), max: r3(d.length ? Math.max(...d) : NaN) };
}

/**
 * Gaps of each direction among the arrivals in [fromMs, toMs) (CLOCK_MONOTONIC ms; default: the whole run), with
 * times relative to `originMs` (e.g. the cut; default: the window's start).
 */
export function analyseGap(d: GapData, o: { fromMs?: number; toMs?: number; originMs?: number } = {}): GapReport {
  const w = { fromNs: (o.fromMs ?? -Infinity) * 1e6, toNs: (o.toMs ?? Infinity) * 1e6, originNs: (o.originMs ?? o.fromMs ?? 0) * 1e6 };
  const echoes = d.client.echoes.map((e) => ({ seq: e.seq, rxNs: e.rxNs, sendNs: e.sendNs }));
  const step = (f: GapFile) => Math.abs(Number(f.headers.rt_offset_end ?? 0) - Number(f.headers.rt_offset_start ?? 0));
  return {
    intervalMs: d.intervalMs,
    forward: streamGap(d.client.sent, d.server.received, w),
    reverse: streamGap(d.server.sent, d.client.received, w),
    roundTrip: streamGap(d.client.sent, echoes, w),
    senders: { client: senderJitter(d.client.sent), server: senderJitter(d.server.sent), fifo: d.client.headers.fifo === '1' && d.server.headers.fifo === '1' },
    clockStepMs: r3(ms(Math.max(step(d.client), step(d.server)))),
  };
}
