// The lab workload as a library: startWorkload() runs the service on a server node and the client on the client
// node of a running lab (each as `hanet lab serve|client` in its namespace) and returns the client's report.
// The in-process service and client (unit tests on loopback) are re-exported from here.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { HanetError } from '../../errors.js';
import { LabError } from '../errors.js';
import { hanetArgv, type LabHandle } from '../lab.js';
import { DEFAULTS } from './client.js';
import { hostPort } from './link.js';
import type { WorkloadProgress, WorkloadReport } from './report.js';

export { runClient, DEFAULTS, hostPort, reasonOf, type ClientConfig, type ClientHandle, type RequestRecord } from './client.js';
export { startService, type ServiceHandle, type ServiceOptions, type ServiceStats } from './service.js';
export { formatReport, FAIL_REASONS, type FailReason, type StopReason, type WorkloadReport, type WorkloadProgress, type StreamReport } from './report.js';
export { percentile, maxGap, GapTracker, Timeline, summarizeLatencies } from './stats.js';
export { FrameDecoder, BulkPattern, encodeHello, encodeRequest, encodeReply, type StreamKind, type Frame } from './protocol.js';

export interface WorkloadOptions {
  /** server node that runs the service (listening on every address of both families), and the address the client
   * targets: IPv4 or IPv6 */
  server: string;
  address: string;
  port?: number;
  /** client node, default 'c' */
  client?: string;
  // Streams: when none of the four is given, all four run with their defaults; otherwise only the given ones.
  persistent?: { connections: number; intervalMs: number };
  perRequest?: { intervalMs: number };
  slow?: { concurrency: number; holdMs: number };
  bulk?: { rateBytesPerSec: number };
  /** default 10 000 ms; see report.ts for what a timeout does */
  requestTimeoutMs?: number;
  /** default requestTimeoutMs (+ holdMs when S runs) */
  drainTimeoutMs?: number;
  /** the client stops by itself after this long (stop() still returns the report) */
  durationMs?: number;
  timelineBucketMs?: number;
  /** how long to wait for the service to listen and the client's first replies (default 15 000 ms) */
  startTimeoutMs?: number;
  /** write every request (send/reply time, outcome) as JSON lines to this file (the client's --log) */
  requestLog?: string;
  /** argv prefix that runs hanet's CLI inside a namespace (default hanetArgv()) */
  hanetArgv?: string[];
  /** Every progress line of the client (every 250 ms), e.g. to place losses in time (the chaos run). */
  onProgress?: (p: WorkloadProgress) => void;
}

export interface WorkloadHandle {
  /** The client's latest progress line (at most progressIntervalMs = 250 ms old). */
  progress(): WorkloadProgress;
  /** Stops the client (it drains and reports), then the service. Idempotent. */
  stop(): Promise<WorkloadReport>;
}

/** The `hanet lab client` arguments for these options (shared with `hanet lab load`). */
export function clientArgs(opts: WorkloadOptions, port: number): string[] {
  const all = !opts.persistent && !opts.perRequest && !opts.slow && !opts.bulk;
  const streams = all ? 'PNSB' : `${opts.persistent ? 'P' : ''}${opts.perRequest ? 'N' : ''}${opts.slow ? 'S' : ''}${opts.bulk ? 'B' : ''}`;
  const a = ['--target', hostPort(opts.address, port), '--streams', streams];
  if (opts.persistent) a.push('--connections', String(opts.persistent.connections), '--interval', String(opts.persistent.intervalMs));
  if (opts.perRequest) a.push('--n-interval', String(opts.perRequest.intervalMs));
  if (opts.slow) a.push('--slow', String(opts.slow.concurrency), '--hold', String(opts.slow.holdMs));
  if (opts.bulk) a.push('--rate', String(opts.bulk.rateBytesPerSec));
  if (opts.requestTimeoutMs !== undefined) a.push('--request-timeout', String(opts.requestTimeoutMs));
  if (opts.drainTimeoutMs !== undefined) a.push('--drain-timeout', String(opts.drainTimeoutMs));
  if (opts.durationMs !== undefined) a.push('--duration', String(opts.durationMs / 1000));
  if (opts.timelineBucketMs !== undefined) a.push('--timeline-bucket', String(opts.timelineBucketMs));
  if (opts.requestLog !== undefined) a.push('--log', opts.requestLog);
  return a;
}

/** Collects a child's output: stdout lines, JSON progress lines from stderr, the tail of other stderr. */
function watch(child: ChildProcess, name: string, onProgress?: (p: WorkloadProgress) => void) {
  const lines: string[] = [];
  let stderrTail = '';
  let latest: WorkloadProgress | undefined;
  const waiters = new Set<() => void>();
  const notify = () => { for (const w of waiters) w(); };
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.on('exit', (code, signal) => { exited = { code, signal }; notify(); });
  child.stdin?.on('error', () => { /* EPIPE after the child exited: its exit is reported instead */ });
  child.on('error', (e) => { stderrTail += `\n${name}: ${e.message}`; exited ??= { code: -1, signal: null }; notify(); });
  if (child.stdout) createInterface({ input: child.stdout }).on('line', (l) => { lines.push(l); notify(); });
  if (child.stderr)
    createInterface({ input: child.stderr }).on('line', (l) => {
      if (l.startsWith('{')) {
        try { latest = JSON.parse(l) as WorkloadProgress; onProgress?.(latest); notify(); return; } catch { /* not progress */ }
      }
      stderrTail = (stderrTail + '\n' + l).slice(-4000);
    });
  /** Resolves with cond()'s value once truthy; rejects if the child exits first or the time is up. */
  const until = <T>(cond: () => T | undefined, timeoutMs: number, what: string, signal?: AbortSignal): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const check = (): boolean => {
        const v = cond();
        if (v !== undefined && v !== false) { done(); resolve(v); return true; }
        if (signal?.aborted) { done(); reject(new HanetError('HANET_ERR_ABORTED', `${name}: aborted while waiting for ${what}`)); return true; }
        if (exited) {
          done();
          reject(new LabError(`${name} exited (${exited.code ?? exited.signal}) before ${what}${stderrTail ? `:${stderrTail}` : ''}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => { done(); reject(new HanetError('HANET_ERR_TIMEOUT', `${name}: no ${what} after ${timeoutMs} ms${stderrTail ? `:${stderrTail}` : ''}`)); }, timeoutMs);
      const onAbort = () => void check();
      const done = () => { clearTimeout(timer); waiters.delete(w); signal?.removeEventListener('abort', onAbort); };
      const w = () => void check();
      waiters.add(w);
      signal?.addEventListener('abort', onAbort);
      check();
    });
  return { lines, until, progress: () => latest, exited: () => exited, stderr: () => stderrTail };
}

/** Sends SIGKILL if the child has not exited after `ms`; resolves on exit. */
function waitExit(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', () => { clearTimeout(t); resolve(); });
  });
}

/**
 * Runs the workload in `lab`: the service on opts.server, the client on opts.client (default 'c') targeting
 * opts.address. Resolves once traffic flows (every P connection has a reply). The signal aborts the start;
 * aborting later kills both processes (stop() then rejects).
 */
export async function startWorkload(lab: LabHandle, opts: WorkloadOptions, signal?: AbortSignal): Promise<WorkloadHandle> {
  if (signal?.aborted) throw new HanetError('HANET_ERR_ABORTED', 'workload start aborted');
  const port = opts.port ?? DEFAULTS.port;
  const startTimeout = opts.startTimeoutMs ?? 15_000;
  const stdio: ['pipe', 'pipe', 'pipe'] = ['pipe', 'pipe', 'pipe'];
  const argv0 = opts.hanetArgv ?? hanetArgv();
  const svc = lab.spawn(opts.server, [...argv0, 'lab', 'serve', '--port', String(port), '--stop-on-eof'], { stdio });
  const sv = watch(svc, `workload service on ${opts.server}`);
  let cli: ChildProcess | undefined;
  const killAll = () => { cli?.kill('SIGKILL'); svc.kill('SIGKILL'); };
  const onAbort = () => killAll();
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await sv.until(() => sv.lines.some((l) => l === `READY ${port}`) || undefined, startTimeout, `"READY ${port}"`, signal);
    cli = lab.spawn(opts.client ?? 'c', [...argv0, 'lab', 'client', ...clientArgs(opts, port), '--json', '--progress', '--stop-on-eof'], { stdio });
    const cl = watch(cli, `workload client on ${opts.client ?? 'c'}`, opts.onProgress);
    await cl.until(() => (cl.progress()?.ready ? true : undefined), startTimeout, 'first replies from the service', signal);
    const client = cli;
    let stopping: Promise<WorkloadReport> | undefined;
    return {
      progress: () => cl.progress() ?? { t: 0, ready: false, requests: 0, ok: 0, failed: 0, inflight: 0, broken_connections: 0 },
      stop: () => {
        stopping ??= (async () => {
          try {
            signal?.removeEventListener('abort', onAbort);
            if (client.exitCode === null && client.signalCode === null) client.stdin?.end('stop\n');
            const drain = (opts.drainTimeoutMs ?? (opts.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs) + DEFAULTS.slow.holdMs) + 10_000;
            await waitExit(client, drain);
            const last = [...cl.lines].reverse().find((l) => l.trim().startsWith('{'));
            if (!last) throw new LabError(`workload client gave no report (exit ${client.exitCode ?? client.signalCode})${cl.stderr()}`);
            try {
              return JSON.parse(last) as WorkloadReport;
            } catch (e) {
              throw new LabError(`workload client report is not JSON: ${last.slice(0, 200)}`, { cause: e });
            }
          } finally {
            svc.stdin?.end();
            svc.kill('SIGTERM');
            await waitExit(svc, 3000);
          }
        })();
        return stopping;
      },
    };
  } catch (e) {
    signal?.removeEventListener('abort', onAbort);
    killAll();
    await Promise.all([waitExit(svc, 1000), cli ? waitExit(cli, 1000) : undefined]);
    throw e;
  }
}
