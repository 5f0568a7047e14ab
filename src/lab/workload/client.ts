// The lab workload's client (`hanet lab client`): drives the P, N, S and B streams against the service and
// measures every request; report.ts defines each number it produces. Runs in the client node's namespace as its
// own process, or in-process on loopback for unit tests. The streams are in streams.ts and bulk.ts.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WORKLOAD_DEFAULTS } from '../../cli/lab-options.js';
import { startBulk } from './bulk.js';
import { hostPort, type Link } from './link.js';
import type { StreamKind } from './protocol.js';
import type { FailReason, StopReason, StreamReport, WorkloadProgress, WorkloadReport } from './report.js';
import { Timeline, maxGap, round2, summarizeLatencies } from './stats.js';
import { startPerRequest, startPersistent, startSlow, type Req, type RunContext } from './streams.js';

export { hostPort, reasonOf } from './link.js';

export interface ClientConfig {
  /** The service's address, IPv4 or IPv6. */
  host: string;
  port: number;
  /** P: long-lived connections, each sending a request every intervalMs (pipelined). null: not run. */
  persistent: { connections: number; intervalMs: number } | null;
  /** N: a new connection with one request every intervalMs (open loop, at most maxInflight outstanding). */
  perRequest: { intervalMs: number; maxInflight?: number } | null;
  /** S: `concurrency` requests always outstanding, each on its own connection, held holdMs by the service. */
  slow: { concurrency: number; holdMs: number } | null;
  /** B: one connection streaming pseudo-random bytes at this rate, echoed by the service. */
  bulk: { rateBytesPerSec: number } | null;
  requestTimeoutMs: number;
  /** How long stop() waits for outstanding replies; default requestTimeoutMs (+ holdMs when S runs). */
  drainTimeoutMs?: number;
  /** Stop by itself after this long. */
  durationMs?: number;
  timelineBucketMs?: number;
  progressIntervalMs?: number;
  onProgress?: (p: WorkloadProgress) => void;
  /** Called once per finished request (send/reply times and outcome), e.g. to write a request log. */
  onRequest?: (r: RequestRecord) => void;
}

export interface RequestRecord { kind: StreamKind; slot: number; seq: number; sent_ms: number; done_ms: number; outcome: 'ok' | FailReason; inflight: boolean }

export interface ClientHandle {
  progress(): WorkloadProgress;
  /**
   * Resolves once traffic flows: every P slot has had a reply; without P, the first N reply, B echo or
   * established S connection (S replies only come after holdMs).
   */
  readonly ready: Promise<void>;
  /** Stops issuing requests, drains, reports. Idempotent: later calls return the same report. */
  stop(reason?: StopReason): Promise<WorkloadReport>;
  /** Resolves with the report however the run stopped (duration, stop()). */
  readonly finished: Promise<WorkloadReport>;
}

/** The workload's defaults, shared with the help of `hanet lab client|load`. */
export const DEFAULTS = WORKLOAD_DEFAULTS;

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

const emptyStream = (enabled: boolean): StreamReport => ({
  enabled, requests: 0, ok: 0, failed: 0, inflight_lost: 0, broken_connections: 0, connections: 0, connect_failures: 0, failures: {},
  latency_ms: { count: 0, p50: 0, p99: 0, max: 0 },
});

/** Starts the client at once; see ClientHandle. */
export function runClient(cfg: ClientConfig): ClientHandle {
  const t0 = process.hrtime.bigint();
  const now = (): number => Number(process.hrtime.bigint() - t0) / 1e6;
  const startedAt = new Date().toISOString();
  const cpu0 = process.cpuUsage();
  // The histogram records the time between its own timer ticks, so each value includes the resolution.
  const LOOP_RES_MS = 5;
  const loop = monitorEventLoopDelay({ resolution: LOOP_RES_MS });
  loop.enable();

  const { host, port, requestTimeoutMs: timeout } = cfg;
  const P = cfg.persistent, N = cfg.perRequest, S = cfg.slow, B = cfg.bulk;
  const drainTimeoutMs = cfg.drainTimeoutMs ?? timeout + (S ? S.holdMs : 0);
  const timeline = new Timeline(cfg.timelineBucketMs ?? DEFAULTS.timelineBucketMs);

  const st: Record<StreamKind, StreamReport> = { P: emptyStream(!!P), N: emptyStream(!!N), S: emptyStream(!!S), B: emptyStream(!!B) };
  const lat: Record<StreamKind, number[]> = { P: [], N: [], S: [], B: [] };
  const nOkTimes: number[] = [];
  let outstanding = 0;
  let stopAt = 0;
  const timers = new Set<NodeJS.Timeout>();
  const intervals: NodeJS.Timeout[] = [];

  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => { readyResolve = r; });
  let isReady = false;

  const finish = (r: Req, outcome: 'ok' | FailReason, at = now()): boolean => {
    if (r.done) return false;
    r.done = true;
    outstanding--;
    clearTimeout(r.timer);
    const s = st[r.kind];
    if (outcome === 'ok') {
      s.ok++;
      const l = at - r.sentAt;
      lat[r.kind].push(l);
      timeline.addOk(r.sentAt, l, r.kind === 'P');
      if (r.kind === 'N') nOkTimes.push(at);
      if (!P) ctx.markReady();
    } else {
      s.failed++;
      s.failures[outcome] = (s.failures[outcome] ?? 0) + 1;
      if (r.inflight) s.inflight_lost++;
      timeline.addFailed(r.sentAt);
    }
    // µs resolution: the bench compares sub-millisecond latencies from this log.
    cfg.onRequest?.({ kind: r.kind, slot: r.slot, seq: r.seq, sent_ms: round3(r.sentAt), done_ms: round3(at), outcome, inflight: r.inflight });
    return true;
  };

  const ctx: RunContext = {
    host, port, timeout, hasP: !!P, st, links: new Set<Link>(), stopping: false, now, finish,
    begin: (kind, slot, seq, inflight) => {
      st[kind].requests++;
      outstanding++;
      return { kind, slot, seq, sentAt: now(), done: false, inflight };
    },
    later: (ms, fn) => {
      const t = setTimeout(() => { timers.delete(t); fn(); }, ms);
      timers.add(t);
    },
    every: (ms, fn) => void intervals.push(setInterval(fn, ms)),
    markReady: () => { if (!isReady) { isReady = true; readyResolve(); } },
  };
  const persistent = P ? startPersistent(ctx, P) : undefined;
  const perRequest = N ? startPerRequest(ctx, N) : undefined;
  if (S) startSlow(ctx, S);
  const bulk = B ? startBulk(ctx, B) : undefined;

  // ---- progress, stop, report -----------------------------------------------------------------------------
  const totals = (): { requests: number; ok: number; failed: number; broken: number; lost: number } => {
    let requests = 0, ok = 0, failed = 0, broken = 0, lost = 0;
    for (const k of ['P', 'N', 'S', 'B'] as const) { requests += st[k].requests; ok += st[k].ok; failed += st[k].failed; broken += st[k].broken_connections; lost += st[k].inflight_lost; }
    return { requests, ok, failed, broken, lost };
  };
  const progress = (): WorkloadProgress => {
    const t = totals();
    return { t: round2(now()), ready: isReady, requests: t.requests, ok: t.ok, failed: t.failed, inflight: outstanding, broken_connections: t.broken, inflight_lost: t.lost };
  };
  let progressTimer: NodeJS.Timeout | undefined;
  if (cfg.onProgress) {
    const cb = cfg.onProgress;
    void ready.then(() => { if (!ctx.stopping) cb(progress()); });
    progressTimer = setInterval(() => cb(progress()), cfg.progressIntervalMs ?? DEFAULTS.progressIntervalMs);
  }

  let stopPromise: Promise<WorkloadReport> | undefined;
  let finishedResolve!: (r: WorkloadReport) => void;
  const finished = new Promise<WorkloadReport>((r) => { finishedResolve = r; });
  const bulkOpen = (): boolean => bulk?.active() === true;

  const stop = (reason: StopReason = 'api'): Promise<WorkloadReport> => {
    stopPromise ??= (async () => {
      ctx.stopping = true;
      stopAt = now();
      for (const i of intervals) clearInterval(i);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      bulk?.finish();
      // Drain: wait for every outstanding request (and the bulk echo) to settle, up to the drain timeout.
      const deadline = stopAt + drainTimeoutMs;
      while ((outstanding > 0 || bulkOpen()) && now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const drainedAt = now();
      // What is still outstanding now failed: its reply did not come in time.
      const pLinks = persistent?.close() ?? new Set<Link>();
      for (const l of [...ctx.links]) if (!pLinks.has(l)) l.abort('timeout');
      // Close events (which settle the aborted requests) come from libuv's close phase: wait for them.
      const settleBy = now() + 2000;
      while ((outstanding > 0 || bulkOpen()) && now() < settleBy) await new Promise((r) => setTimeout(r, 1));
      clearInterval(progressTimer);
      if (cfg.onProgress) cfg.onProgress(progress());
      loop.disable();
      const cpu = process.cpuUsage(cpu0);
      const report = buildReport(reason, drainedAt, cpu);
      finishedResolve(report);
      return report;
    })();
    return stopPromise;
  };
  if (cfg.durationMs !== undefined) ctx.later(cfg.durationMs, () => void stop('duration'));

  const buildReport = (reason: StopReason, drainedAt: number, cpu: NodeJS.CpuUsage): WorkloadReport => {
    for (const k of ['P', 'N', 'S', 'B'] as const) st[k].latency_ms = summarizeLatencies(lat[k]);
    const gaps = (persistent?.gaps(stopAt) ?? []).map(round2);
    const pGap = gaps.length ? Math.max(...gaps) : 0;
    const nGap = N ? round2(maxGap(nOkTimes, 0, stopAt)) : 0;
    const t = totals();
    const failures: Partial<Record<FailReason, number>> = {};
    let lost = 0;
    for (const k of ['P', 'N', 'S', 'B'] as const) {
      lost += st[k].inflight_lost;
      for (const [r, n] of Object.entries(st[k].failures)) failures[r as FailReason] = (failures[r as FailReason] ?? 0) + (n ?? 0);
    }
    const bStreams = bulk?.streams ?? [];
    const bBytesSent = bStreams.reduce((a, s) => a + s.bytes_sent, 0);
    const bBytesRecv = bStreams.reduce((a, s) => a + s.bytes_received, 0);
    const bVerified = bStreams.length > 0 && bStreams.every((s) => s.verified);
    const wall = Math.max(1, now());
    return {
      target: hostPort(host, port),
      started_at: startedAt,
      stop_reason: reason,
      requests: t.requests,
      failed: t.failed,
      broken_connections: t.broken,
      inflight_lost: lost,
      stream_verified: B ? bVerified : true,
      max_gap_ms: pGap,
      latency_ms: { ...st.P.latency_ms },
      new_connection_gap_ms: nGap,
      duration_ms: round2(stopAt),
      drain_ms: round2(drainedAt - stopAt),
      failures,
      streams: {
        P: { ...st.P, max_gap_ms: pGap, max_gap_by_slot_ms: gaps },
        N: { ...st.N, new_connection_gap_ms: nGap, skipped: perRequest?.skipped() ?? 0 },
        S: st.S,
        B: { ...st.B, bytes_sent: bBytesSent, bytes_received: bBytesRecv, verified: bVerified, max_echo_gap_ms: round2(bulk?.echoGap() ?? 0), streams: bStreams },
      },
      timeline: timeline.report(),
      client: {
        cpu_user_ms: round2(cpu.user / 1000),
        cpu_system_ms: round2(cpu.system / 1000),
        cpu_pct_of_one_core: round2(((cpu.user + cpu.system) / 1000 / wall) * 100),
        loop_delay_p99_ms: round2(Math.max(0, loop.percentile(99) / 1e6 - LOOP_RES_MS)),
        loop_delay_max_ms: round2(Math.max(0, loop.max / 1e6 - LOOP_RES_MS)),
      },
      config: {
        persistent: P, perRequest: N, slow: S, bulk: B, requestTimeoutMs: timeout, drainTimeoutMs, timelineBucketMs: timeline.bucketMs,
      },
      origin_hrtime_ns: t0.toString(),
    };
  };

  return { progress, ready, stop, finished };
}
