// The workload report: its types, the exact definitions of every number in it, and the human summary.
//
// DEFINITIONS (hanet and keepalived are compared with these; change them only together with docs/CONTRACTS.md)
// Times are milliseconds from process.hrtime, relative to the client's start. "stop" is the moment stop was
// requested (duration over, SIGTERM, stdin "stop", stop() call); after it no request is issued and the client
// drains: it waits for outstanding replies up to the drain timeout, then ends its connections itself.
//
// - request: one P request (a REQ frame on a persistent connection), one N request (a connection attempt that
//   carries one REQ), one S request (a connection attempt carrying one REQ that the service holds holdMs), or
//   one B stream (an established bulk connection, counted once however many bytes it carries).
//   P and B requests begin when sent on an established connection; N and S when their connection is attempted.
// - ok: the reply arrived, however late, before the request's deadline (P, N: requestTimeoutMs after it began;
//   S: holdMs + requestTimeoutMs), with the right payload. A B stream is ok iff it ended verified (below).
// - failed: every request that is not ok; `failures` gives the reason:
//     timeout          the deadline passed with no reply (connection established)
//     connect_timeout  the deadline passed while still connecting (N, S)
//     refused          ECONNREFUSED
//     reset            ECONNRESET / EPIPE (the peer or a middlebox sent RST)
//     closed           the service closed the connection (FIN) before replying
//     unreachable      EHOSTUNREACH / ENETUNREACH / ENETDOWN / EHOSTDOWN
//     protocol         malformed or mismatching reply (wrong payload, unknown seq, more bytes echoed than sent)
//     error            any other socket error
//   A P connection whose oldest outstanding request passes its deadline is declared dead (an application with
//   that timeout would give up on it): it is destroyed, counted as broken with reason "timeout", its other
//   outstanding requests fail with "timeout", and the P slot reconnects. Replies can therefore never be "late
//   after the timeout": a reply is ok or its request already failed.
// - broken_connections: P, S and B connections that were established and then closed, errored or were declared
//   dead before the client ended them (N connections are not counted: an N failure is a failed request).
//   Failed connection attempts are not broken connections; they are counted in `connect_failures` per stream.
// - inflight_lost: failed requests whose request bytes had been written to an established connection, i.e.
//   requests outstanding on a connection when it broke plus requests that timed out with no reply (a B stream
//   that broke or could not be verified counts 1). Requests that failed while connecting are failed, not lost.
// - stream_verified: every B stream ended cleanly (client half-closes at stop, service echoes the rest and
//   ends) with bytes received == bytes sent and sha256(received) == sha256(sent), and there was at least one
//   stream. A B stream that broke is never verified (the client starts a new one; all must verify).
//   True when B is not part of the workload.
// - max_gap_ms: for each P slot (one of the `connections` persistent connections, kept across reconnects), the
//   largest interval between consecutive successful replies, counting from the slot's first scheduled request
//   (start + stagger + one interval) to its first reply, and from the last reply to max(stop, last reply)
//   (stats.ts maxGap/GapTracker) — so a cut of 1 s shows ~1000 ms plus up to one interval and the RTT,
//   and an outage still going on at stop counts up to stop. The report gives the maximum over slots
//   (streams.P.max_gap_by_slot_ms has each); 0 when P is not part of the workload.
// - latency_ms: nearest-rank p50/p99 (and max, count) of ok P requests' reply time - send time.
// - new_connection_gap_ms: the same gap definition over the completion times of ok N requests, counted from the
//   client's start. Its floor is the N interval plus scheduling jitter.
// - duration_ms: start to stop (the measured period); drain_ms: stop to the end of draining.
// - timeline: per bucket_ms of send time (from start), ok and failed requests of all kinds and the largest
//   latency of ok P requests; a latency-over-time chart of the run.
// - origin_hrtime_ns: the client's time origin (its "0 ms") as process.hrtime.bigint() in decimal — CLOCK_MONOTONIC,
//   the same clock in every process of the machine — so another process (the bench) can place its own events,
//   e.g. the moment of a cut, on the report's and the request log's (--log) time axis.
// - client: the instrument's own cost and stalls (CPU of the client process, event-loop delay). A gap that
//   coincides with a large loop delay was (partly) caused by the instrument, not by the network. Loop delay is
//   measured with a 5 ms timer and reported beyond it.
import type { StreamKind } from './protocol.js';
import type { LatencySummary, TimelineReport } from './stats.js';

export type FailReason = 'timeout' | 'connect_timeout' | 'refused' | 'reset' | 'closed' | 'unreachable' | 'protocol' | 'error';
export const FAIL_REASONS: readonly FailReason[] = ['timeout', 'connect_timeout', 'refused', 'reset', 'closed', 'unreachable', 'protocol', 'error'];

export type StopReason = 'duration' | 'signal' | 'stdin' | 'api' | 'abort';

export interface StreamReport {
  enabled: boolean;
  requests: number;
  ok: number;
  failed: number;
  inflight_lost: number;
  broken_connections: number;
  /** connections established */
  connections: number;
  /** connection attempts that failed (refused, timed out ...) before being established */
  connect_failures: number;
  failures: Partial<Record<FailReason, number>>;
  latency_ms: LatencySummary;
}

export interface PStreamReport extends StreamReport {
  max_gap_ms: number;
  max_gap_by_slot_ms: number[];
}
export interface NStreamReport extends StreamReport {
  new_connection_gap_ms: number;
  /** ticks at which no N request was started because maxInflight were already outstanding */
  skipped: number;
}
export interface BStreamInfo {
  bytes_sent: number;
  bytes_received: number;
  sha256_sent: string;
  sha256_received: string;
  verified: boolean;
  outcome: 'ok' | FailReason;
}
export interface BStreamReport extends StreamReport {
  bytes_sent: number;
  bytes_received: number;
  verified: boolean;
  /** largest interval between echo arrivals while echo was outstanding, over all B streams */
  max_echo_gap_ms: number;
  streams: BStreamInfo[];
}

export interface WorkloadReport {
  target: string;
  started_at: string;
  stop_reason: StopReason;
  requests: number;
  failed: number;
  broken_connections: number;
  inflight_lost: number;
  stream_verified: boolean;
  max_gap_ms: number;
  latency_ms: { p50: number; p99: number; max: number; count: number };
  new_connection_gap_ms: number;
  duration_ms: number;
  drain_ms: number;
  failures: Partial<Record<FailReason, number>>;
  streams: { P: PStreamReport; N: NStreamReport; S: StreamReport; B: BStreamReport };
  timeline: TimelineReport;
  client: { cpu_user_ms: number; cpu_system_ms: number; cpu_pct_of_one_core: number; loop_delay_p99_ms: number; loop_delay_max_ms: number };
  config: Record<string, unknown>;
  /** The client's time origin on CLOCK_MONOTONIC (ns, decimal); see the definitions above. */
  origin_hrtime_ns?: string;
}

export interface WorkloadProgress {
  t: number;
  ready: boolean;
  requests: number;
  ok: number;
  failed: number;
  inflight: number;
  broken_connections: number;
  /** Failed requests so far whose bytes were on an established connection (see inflight_lost above). */
  inflight_lost?: number;
}

const fmt = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : '-');
const mib = (b: number): string => `${(b / (1024 * 1024)).toFixed(2)} MiB`;

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')).join('\n');
}

/** A short readable summary of a report (the CLI prints it without --json). */
export function formatReport(r: WorkloadReport): string {
  const rows: string[][] = [['stream', 'requests', 'ok', 'failed', 'lost', 'broken', 'p50 ms', 'p99 ms', 'max ms', 'gap ms']];
  const kinds: StreamKind[] = ['P', 'N', 'S', 'B'];
  for (const k of kinds) {
    const s = r.streams[k];
    if (!s.enabled) continue;
    const gap = k === 'P' ? fmt(r.streams.P.max_gap_ms, 1) : k === 'N' ? fmt(r.streams.N.new_connection_gap_ms, 1) : k === 'B' ? fmt(r.streams.B.max_echo_gap_ms, 1) : '';
    rows.push([k, String(s.requests), String(s.ok), String(s.failed), String(s.inflight_lost), k === 'N' ? '' : String(s.broken_connections),
      fmt(s.latency_ms.p50), fmt(s.latency_ms.p99), fmt(s.latency_ms.max), gap]);
  }
  rows.push(['total', String(r.requests), String(r.requests - r.failed), String(r.failed), String(r.inflight_lost), String(r.broken_connections), '', '', '', '']);
  const reasons = Object.entries(r.failures).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const b = r.streams.B;
  const lines = [
    `workload against ${r.target}: ${fmt(r.duration_ms / 1000)} s (stopped by ${r.stop_reason}, drained in ${fmt(r.drain_ms, 0)} ms)`,
    table(rows),
    [
      r.streams.P.enabled ? `max gap (P): ${fmt(r.max_gap_ms, 1)} ms` : '',
      r.streams.N.enabled ? `new-connection gap (N): ${fmt(r.new_connection_gap_ms, 1)} ms` : '',
      r.streams.P.enabled ? `P latency p50 ${fmt(r.latency_ms.p50)} / p99 ${fmt(r.latency_ms.p99)} ms` : '',
    ].filter(Boolean).join('   '),
    b.enabled ? `bulk: ${b.streams.length} stream(s), sent ${mib(b.bytes_sent)}, echoed ${mib(b.bytes_received)}, verified: ${r.stream_verified ? 'yes' : 'NO'}` : 'bulk: not run',
    `failure reasons: ${reasons}`,
    `instrument: cpu ${fmt(r.client.cpu_pct_of_one_core, 1)}% of one core, event-loop delay p99 ${fmt(r.client.loop_delay_p99_ms, 1)} / max ${fmt(r.client.loop_delay_max_ms, 1)} ms`,
    // "Nothing lost" with a large gap means TCP retransmission covered an outage shorter than the request timeout.
    `verdict: ${r.failed === 0 && r.broken_connections === 0 && r.inflight_lost === 0 && r.stream_verified ? 'nothing lost' : 'LOSS'} (largest gap ${fmt(r.max_gap_ms, 1)} ms)`,
  ];
  return lines.join('\n');
}
