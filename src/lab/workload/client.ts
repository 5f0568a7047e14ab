// The lab workload's client (`hanet lab client`): drives the P, N, S and B streams against the service and
// measures every request; report.ts defines each number it produces. Runs in the client node's namespace as its
// own process, or in-process on loopback for unit tests.
import net from 'node:net';
import { createHash, type Hash } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { BulkPattern, FrameDecoder, encodeHello, encodeRequest, replyMatches, type StreamKind } from './protocol.js';
import { GapTracker, Timeline, maxGap, round2, summarizeLatencies } from './stats.js';
import { WORKLOAD_DEFAULTS } from '../../cli/lab-options.js';
import type { BStreamInfo, FailReason, StopReason, StreamReport, WorkloadProgress, WorkloadReport } from './report.js';

export interface ClientConfig {
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

/** Backoff before reconnecting a P/S/B slot after a failure: 10 ms doubling to 1 s, reset by a success. */
const backoffMs = (failures: number): number => Math.min(1000, 10 * 2 ** Math.max(0, failures - 1));
/** Largest write of the bulk pump and its burst allowance (250 ms of rate) after the socket was blocked. */
const BULK_CHUNK = 64 * 1024;
const BULK_TICK_MS = 10;

export function reasonOf(err: unknown): FailReason {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ECONNRESET': case 'EPIPE': return 'reset';
    case 'ECONNREFUSED': return 'refused';
    case 'ETIMEDOUT': return 'timeout';
    case 'EHOSTUNREACH': case 'ENETUNREACH': case 'ENETDOWN': case 'EHOSTDOWN': return 'unreachable';
    default: return 'error';
  }
}

interface LinkClose { byClient: boolean; established: boolean; reason: FailReason; serverEnded: boolean }
interface LinkEvents {
  onConnect(): void;
  onData(buf: Buffer): void;
  onServerEnd?(): void;
  onClose(c: LinkClose): void;
}

/** One client TCP connection with the bookkeeping every stream needs: who ended it and why it failed. */
class Link {
  readonly sock: net.Socket;
  established = false;
  serverEnded = false;
  private byClient = false;
  private reason: FailReason | undefined;
  private connectTimer: NodeJS.Timeout | undefined;

  constructor(host: string, port: number, connectTimeoutMs: number | undefined, ev: LinkEvents) {
    const sock = net.connect({ host, port, noDelay: true });
    this.sock = sock;
    if (connectTimeoutMs !== undefined) this.connectTimer = setTimeout(() => this.abort('connect_timeout'), connectTimeoutMs);
    sock.on('connect', () => {
      clearTimeout(this.connectTimer);
      this.established = true;
      sock.setNoDelay(true);
      ev.onConnect();
    });
    sock.on('data', (b: Buffer) => ev.onData(b));
    sock.on('end', () => {
      this.serverEnded = true;
      ev.onServerEnd?.();
    });
    sock.on('error', (e) => { this.reason ??= reasonOf(e); });
    sock.on('close', () => {
      clearTimeout(this.connectTimer);
      ev.onClose({ byClient: this.byClient, established: this.established, reason: this.reason ?? 'closed', serverEnded: this.serverEnded });
    });
  }
  get open(): boolean { return this.established && !this.sock.destroyed && !this.byClient; }
  write(b: Buffer): boolean { return this.sock.write(b); }
  /** Client-initiated clean close (FIN after pending writes); a peer that never answers is cut after 2 s. */
  end(): void {
    if (this.byClient) return;
    this.byClient = true;
    this.sock.end();
    setTimeout(() => this.sock.destroy(), 2000).unref();
  }
  /** Half-close only (bulk stream at stop): keeps reading the echo. Not a client end: a later failure still counts. */
  halfClose(): void { this.sock.end(); }
  /** The client gives up on the connection because of `reason` (counts as a failure, not a client end). */
  abort(reason: FailReason): void {
    if (this.sock.destroyed) return;
    this.reason ??= reason;
    this.sock.destroy();
  }
  /** Client end without waiting for FIN (after the report, or requests already settled). */
  destroy(): void { this.byClient = true; this.sock.destroy(); }
}

interface Req { kind: StreamKind; slot: number; seq: number; sentAt: number; done: boolean; inflight: boolean; timer?: NodeJS.Timeout | undefined }

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
  let nSkipped = 0;
  let outstanding = 0;
  let stopping = false;
  let stopAt = 0;
  const timers = new Set<NodeJS.Timeout>();
  const intervals: NodeJS.Timeout[] = [];
  const links = new Set<Link>();

  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => { readyResolve = r; });
  let isReady = false;
  const pFirstReply = new Set<number>();
  const markReady = (): void => { if (!isReady) { isReady = true; readyResolve(); } };

  const later = (ms: number, fn: () => void): void => {
    const t = setTimeout(() => { timers.delete(t); fn(); }, ms);
    timers.add(t);
  };

  const begin = (kind: StreamKind, slot: number, seq: number, inflight: boolean): Req => {
    st[kind].requests++;
    outstanding++;
    return { kind, slot, seq, sentAt: now(), done: false, inflight };
  };

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
      if (!P) markReady();
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

  // ---- P: persistent connections, pipelined requests matched by seq -------------------------------------
  interface PSlot { link: Link | undefined; seq: number; pending: Map<number, Req>; gap: GapTracker; failures: number; dec: FrameDecoder }
  const pSlots: PSlot[] = [];
  const pConnect = (slot: number): void => {
    const ps = pSlots[slot]!;
    if (stopping) return;
    ps.dec = new FrameDecoder();
    const link: Link = new Link(host, port, timeout, {
      onConnect: () => {
        st.P.connections++;
        link.write(encodeHello('P'));
      },
      onData: (b) => {
        ps.dec.push(b);
        for (;;) {
          const f = ps.dec.next();
          if (f === undefined) return;
          const at = now();
          if (f.type !== 'rep') { link.abort('protocol'); return; }
          const r = ps.pending.get(f.seq);
          if (!r || !replyMatches(f.seq, f.payload)) { link.abort('protocol'); return; }
          ps.pending.delete(f.seq);
          finish(r, 'ok', at);
          ps.gap.hit(at);
          ps.failures = 0;
          if (!pFirstReply.has(slot)) { pFirstReply.add(slot); if (pFirstReply.size === P!.connections) markReady(); }
        }
      },
      onClose: (c) => {
        links.delete(link);
        ps.link = undefined;
        if (c.byClient) return;
        if (c.established) st.P.broken_connections++;
        else st.P.connect_failures++;
        for (const r of ps.pending.values()) finish(r, c.reason);
        ps.pending.clear();
        ps.failures++;
        if (!stopping) later(backoffMs(ps.failures), () => pConnect(slot));
      },
    });
    ps.link = link;
    links.add(link);
  };
  const pSend = (slot: number): void => {
    const ps = pSlots[slot]!;
    if (stopping || !ps.link?.open) return;
    const seq = (ps.seq = (ps.seq + 1) >>> 0);
    const r = begin('P', slot, seq, true);
    const link = ps.link;
    // A request with no reply by its deadline makes the whole connection dead (see report.ts).
    r.timer = setTimeout(() => { if (!r.done) link.abort('timeout'); }, timeout);
    ps.pending.set(seq, r);
    link.write(encodeRequest(seq));
  };
  if (P) {
    for (let i = 0; i < P.connections; i++) {
      // Stagger the slots over one interval so the service sees an even request rate. A slot's gap counts from
      // its first scheduled request (so start-up is not a gap, but a connection that is not up by then is).
      const offset = (P.intervalMs * i) / P.connections;
      pSlots.push({ link: undefined, seq: 0, pending: new Map(), gap: new GapTracker(offset + P.intervalMs), failures: 0, dec: new FrameDecoder() });
      pConnect(i);
      const slot = i;
      later(offset, () => { if (!stopping) intervals.push(setInterval(() => pSend(slot), P.intervalMs)); });
    }
  }

  // ---- N and S: one request per connection ---------------------------------------------------------------
  const nInflight = new Set<Link>();
  /** Runs one N or S request on its own connection; `done` is called when it has settled. */
  const oneShot = (kind: 'N' | 'S', slot: number, seq: number, holdMs: number, done?: (ok: boolean) => void): void => {
    const r = begin(kind, slot, seq, false);
    const dec = new FrameDecoder();
    let succeeded = false;
    const link: Link = new Link(host, port, undefined, {
      onConnect: () => {
        st[kind].connections++;
        r.inflight = true;
        if (!P && kind === 'S') markReady();
        link.write(Buffer.concat([encodeHello(kind, holdMs), encodeRequest(seq)]));
      },
      onData: (b) => {
        dec.push(b);
        const f = dec.next();
        if (f === undefined) return;
        if (f.type !== 'rep' || f.seq !== seq || !replyMatches(seq, f.payload)) { link.abort('protocol'); return; }
        succeeded = finish(r, 'ok');
        link.end();
      },
      onClose: (c) => {
        links.delete(link);
        if (kind === 'N') nInflight.delete(link);
        if (!r.done) {
          if (c.established && kind === 'S') st.S.broken_connections++;
          if (!c.established) st[kind].connect_failures++;
          finish(r, c.reason);
        }
        done?.(succeeded);
      },
    });
    r.timer = setTimeout(() => link.abort(link.established ? 'timeout' : 'connect_timeout'), timeout + holdMs);
    links.add(link);
    if (kind === 'N') nInflight.add(link);
  };
  if (N) {
    let seq = 0;
    const maxInflight = N.maxInflight ?? DEFAULTS.perRequest.maxInflight;
    intervals.push(setInterval(() => {
      if (stopping) return;
      if (nInflight.size >= maxInflight) { nSkipped++; return; }
      oneShot('N', 0, (seq = (seq + 1) >>> 0), 0);
    }, N.intervalMs));
  }
  if (S) {
    let seq = 0;
    const sFailures: number[] = [];
    const sLoop = (slot: number): void => {
      if (stopping) return;
      oneShot('S', slot, (seq = (seq + 1) >>> 0), S.holdMs, (ok) => {
        if (ok) { sFailures[slot] = 0; sLoop(slot); return; }
        sFailures[slot] = (sFailures[slot] ?? 0) + 1;
        later(backoffMs(sFailures[slot]!), () => sLoop(slot));
      });
    };
    for (let i = 0; i < S.concurrency; i++) sLoop(i);
  }

  // ---- B: bulk stream, echoed, hashed both ways -----------------------------------------------------------
  const bStreams: BStreamInfo[] = [];
  let bActive: { link: Link; finish: () => void } | undefined;
  let bFailures = 0;
  let bEchoGap = 0;
  const bConnect = (): void => {
    if (stopping || !B) return;
    const index = bStreams.length;
    const pattern = new BulkPattern(0x9e3779b9 + index);
    const hs: Hash = createHash('sha256');
    const hr: Hash = createHash('sha256');
    let sent = 0, received = 0, blocked = false, tokens = 0, lastTick = 0;
    let waitingSince = 0, lastEcho = 0, req: Req | undefined, pump: NodeJS.Timeout | undefined, watchdog: NodeJS.Timeout | undefined;
    let halfClosed = false;
    const info: BStreamInfo = { bytes_sent: 0, bytes_received: 0, sha256_sent: '', sha256_received: '', verified: false, outcome: 'error' };
    const maxBurst = Math.max(BULK_CHUNK, B.rateBytesPerSec / 4);
    const link: Link = new Link(host, port, timeout, {
      onConnect: () => {
        st.B.connections++;
        bStreams.push(info);
        req = begin('B', index, index, true);
        link.write(encodeHello('B'));
        lastTick = lastEcho = now();
        pump = setInterval(() => {
          const t = now();
          tokens = Math.min(maxBurst, tokens + (B.rateBytesPerSec * (t - lastTick)) / 1000);
          lastTick = t;
          while (!blocked && tokens >= 1 && !halfClosed) {
            const n = Math.min(BULK_CHUNK, Math.floor(tokens));
            const chunk = pattern.next(n);
            hs.update(chunk);
            if (sent === received) waitingSince = t;
            sent += n;
            tokens -= n;
            if (!link.write(chunk)) { blocked = true; link.sock.once('drain', () => { blocked = false; }); }
          }
        }, BULK_TICK_MS);
        watchdog = setInterval(() => {
          if (sent > received && now() - Math.max(waitingSince, lastEcho) > timeout) link.abort('timeout');
        }, 50);
      },
      onData: (b) => {
        const t = now();
        if (sent > received) bEchoGap = Math.max(bEchoGap, t - Math.max(lastEcho, waitingSince));
        lastEcho = t;
        if (!P) markReady();
        hr.update(b);
        received += b.length;
        if (received > sent) link.abort('protocol');
      },
      onServerEnd: () => { if (halfClosed) link.destroy(); },
      onClose: (c) => {
        clearInterval(pump);
        clearInterval(watchdog);
        links.delete(link);
        if (bActive?.link === link) bActive = undefined;
        if (!c.established) {
          if (c.byClient) return;
          st.B.connect_failures++;
          bFailures++;
          if (!stopping) later(backoffMs(bFailures), bConnect);
          return;
        }
        info.bytes_sent = sent;
        info.bytes_received = received;
        info.sha256_sent = hs.digest('hex');
        info.sha256_received = hr.digest('hex');
        // Clean: we half-closed at stop, the service echoed everything and ended. A service FIN before the echo
        // is complete (e.g. a middlebox without half-close) is an early close, i.e. a broken stream.
        const clean = halfClosed && c.serverEnded && received === sent;
        info.verified = clean && info.sha256_sent === info.sha256_received;
        info.outcome = info.verified ? 'ok' : clean ? 'protocol' : halfClosed && c.serverEnded ? 'closed' : c.reason;
        if (!clean) st.B.broken_connections++;
        if (req) finish(req, info.outcome);
        if (!clean) { bFailures++; if (!stopping) later(backoffMs(bFailures), bConnect); }
        else bFailures = 0;
      },
    });
    links.add(link);
    bActive = { link, finish: () => { halfClosed = true; if (link.established) link.halfClose(); else link.destroy(); } };
  };
  if (B) bConnect();

  // ---- progress, stop, report -----------------------------------------------------------------------------
  const totals = (): { requests: number; ok: number; failed: number; broken: number } => {
    let requests = 0, ok = 0, failed = 0, broken = 0;
    for (const k of ['P', 'N', 'S', 'B'] as const) { requests += st[k].requests; ok += st[k].ok; failed += st[k].failed; broken += st[k].broken_connections; }
    return { requests, ok, failed, broken };
  };
  const progress = (): WorkloadProgress => {
    const t = totals();
    return { t: round2(now()), ready: isReady, requests: t.requests, ok: t.ok, failed: t.failed, inflight: outstanding, broken_connections: t.broken };
  };
  let progressTimer: NodeJS.Timeout | undefined;
  if (cfg.onProgress) {
    const cb = cfg.onProgress;
    void ready.then(() => { if (!stopping) cb(progress()); });
    progressTimer = setInterval(() => cb(progress()), cfg.progressIntervalMs ?? DEFAULTS.progressIntervalMs);
  }

  let stopPromise: Promise<WorkloadReport> | undefined;
  let finishedResolve!: (r: WorkloadReport) => void;
  const finished = new Promise<WorkloadReport>((r) => { finishedResolve = r; });

  const stop = (reason: StopReason = 'api'): Promise<WorkloadReport> => {
    stopPromise ??= (async () => {
      stopping = true;
      stopAt = now();
      for (const i of intervals) clearInterval(i);
      for (const t of timers) clearTimeout(t);
      timers.clear();
      bActive?.finish();
      // Drain: wait for every outstanding request (and the bulk echo) to settle, up to the drain timeout.
      const deadline = stopAt + drainTimeoutMs;
      while ((outstanding > 0 || bActive) && now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const drainedAt = now();
      // What is still outstanding now failed: its reply did not come in time. Idle P connections are ended by
      // the client (not broken); connections with outstanding requests are given up on ("timeout").
      const pLinks = new Set<Link>();
      for (const ps of pSlots) {
        const l = ps.link;
        if (!l) continue;
        pLinks.add(l);
        if (ps.pending.size > 0) l.abort('timeout');
        else if (l.established) l.end();
        else l.destroy();
      }
      for (const l of [...links]) if (!pLinks.has(l)) l.abort('timeout');
      // Close events (which settle the aborted requests) come from libuv's close phase: wait for them.
      const settleBy = now() + 2000;
      while ((outstanding > 0 || bActive) && now() < settleBy) await new Promise((r) => setTimeout(r, 1));
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
  if (cfg.durationMs !== undefined) later(cfg.durationMs, () => void stop('duration'));

  const buildReport = (reason: StopReason, drainedAt: number, cpu: NodeJS.CpuUsage): WorkloadReport => {
    for (const k of ['P', 'N', 'S', 'B'] as const) st[k].latency_ms = summarizeLatencies(lat[k]);
    const gaps = pSlots.map((ps) => round2(ps.gap.result(stopAt)));
    const pGap = gaps.length ? Math.max(...gaps) : 0;
    const nGap = N ? round2(maxGap(nOkTimes, 0, stopAt)) : 0;
    const t = totals();
    const failures: Partial<Record<FailReason, number>> = {};
    let lost = 0;
    for (const k of ['P', 'N', 'S', 'B'] as const) {
      lost += st[k].inflight_lost;
      for (const [r, n] of Object.entries(st[k].failures)) failures[r as FailReason] = (failures[r as FailReason] ?? 0) + (n ?? 0);
    }
    const bBytesSent = bStreams.reduce((a, s) => a + s.bytes_sent, 0);
    const bBytesRecv = bStreams.reduce((a, s) => a + s.bytes_received, 0);
    const bVerified = bStreams.length > 0 && bStreams.every((s) => s.verified);
    const wall = Math.max(1, now());
    return {
      target: `${host}:${port}`,
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
        N: { ...st.N, new_connection_gap_ms: nGap, skipped: nSkipped },
        S: st.S,
        B: { ...st.B, bytes_sent: bBytesSent, bytes_received: bBytesRecv, verified: bVerified, max_echo_gap_ms: round2(bEchoGap), streams: bStreams },
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
