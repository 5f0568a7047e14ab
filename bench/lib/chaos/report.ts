// The chaos run's numbers: losses attributed to no-path periods (the watcher's episodes) or not, per fault kind the
// count, largest gap and double answering, and the one JSON object `npm run chaos -- --json` prints.
import type { WorkloadProgress, WorkloadReport } from '../../../src/lab/workload/index.js';
import type { Episode as WatchEpisode, WatchSummary } from '../../../src/lab/watch/watcher.js';
import type { Leftover } from '../../../src/lab/watch/leftovers.js';
import type { EpisodeRecord } from './episode.js';
import { FAULT_KINDS, FAULT_MIX, type FaultKind } from './schedule.js';

/** One workload of the run: its target, the viewer whose ARP cache its packets go through, its progress and report. */
export interface WorkloadRun {
  client: string;
  address: string;
  viewer: string;
  /** Progress lines with their time on CLOCK_MONOTONIC (ms), once the origin is known. */
  progress: WorkloadProgress[];
  report?: WorkloadReport;
}

export interface KindRow { kind: FaultKind; count: number; largest_gap_ms: number; double_answer_ms: number; black_hole_ms: number; unsettled: number }

export interface ChaosResult {
  seed: number;
  faults: number;
  duration_s: number;
  requests: number;
  failed: number;
  broken_connections: number;
  inflight_lost: number;
  no_path_requests: number;
  /** Every bulk stream verified, except streams broken while their address had no path. */
  stream_verified: boolean;
  /** Every bulk stream verified, no exception. */
  stream_verified_strict: boolean;
  double_answer_ms: number;
  double_answer_over_timeout_ms: number;
  stale_answer_ms: number;
  black_hole_ms: number;
  no_path_ms: number;
  leftovers: number;
  leftover_details: Leftover[];
  unsettled: Array<{ index: number; kind: FaultKind; what: string; problem: string }>;
  per_kind: KindRow[];
  per_episode: Array<{ index: number; kind: FaultKind; what: string; at_s: number; settle_ms: number; largest_gap_ms: number; gap_on: string; double_answer_ms: number; black_hole_ms: number }>;
  mix: Record<string, number>;
  watcher: Omit<WatchSummary, 'episodes'>;
  /** Losses not attributed to a no-path period, with the episodes they fell into. */
  losses: Array<{ at_s: number; address: string; failed: number; broken: number; lost: number; episode?: string }>;
  double_answers_over_timeout: Array<{ address: string; ms: number; who: string; episode?: string }>;
}

const originMs = (r: WorkloadReport | undefined): number | undefined => (r?.origin_hrtime_ns ? Number(BigInt(r.origin_hrtime_ns)) / 1e6 : undefined);

/** The episode record whose window [start, settled] holds time t. */
function episodeAt(eps: EpisodeRecord[], t: number): EpisodeRecord | undefined {
  return eps.find((e) => t >= e.start && t <= e.settledAt + 500);
}

const overlap = (a0: number, a1: number, b0: number, b1: number): number => Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));

export function buildResult(args: {
  seed: number; startedAt: number; endedAt: number; episodes: EpisodeRecord[]; workloads: WorkloadRun[]; watch: WatchSummary;
  leftovers: Leftover[]; timeoutMs: number; requestTimeoutMs: number;
}): ChaosResult {
  const { episodes, workloads, watch } = args;
  const noPath = watch.episodes.filter((e) => e.kind === 'no-path');
  const losses: ChaosResult['losses'] = [];
  let noPathRequests = 0;
  let failed = 0, broken = 0, lost = 0, requests = 0;
  let verified = true, strict = true;
  for (const w of workloads) {
    const r = w.report;
    const origin = originMs(r);
    requests += r?.requests ?? 0;
    let prev = { failed: 0, broken_connections: 0, inflight_lost: 0 };
    let attributedF = 0, attributedB = 0, attributedL = 0;
    for (const p of w.progress) {
      const df = p.failed - prev.failed, db = p.broken_connections - prev.broken_connections, dl = (p.inflight_lost ?? 0) - prev.inflight_lost;
      prev = { failed: p.failed, broken_connections: p.broken_connections, inflight_lost: p.inflight_lost ?? 0 };
      if (df <= 0 && db <= 0 && dl <= 0) continue;
      const t = (origin ?? 0) + p.t;
      // A loss seen at t began at most one request timeout (+ a progress period) before: was there no path then?
      const np = noPath.some((e) => e.address === w.address && e.viewer === w.viewer && overlap(e.start, e.end, t - args.requestTimeoutMs - 500, t) > 0);
      if (np) { noPathRequests += Math.max(0, df) + Math.max(0, db); attributedF += Math.max(0, df); attributedB += Math.max(0, db); attributedL += Math.max(0, dl); continue; }
      losses.push({ at_s: Math.round((t - args.startedAt) / 100) / 10, address: w.address, failed: df, broken: db, lost: dl, ...(episodeAt(episodes, t) ? { episode: `#${episodeAt(episodes, t)!.index} ${episodeAt(episodes, t)!.kind}` } : {}) });
    }
    // The report is final (drain included): what the progress lines did not place counts as a loss, not as no-path.
    const f = Math.max(0, (r?.failed ?? 0) - attributedF), b = Math.max(0, (r?.broken_connections ?? 0) - attributedB);
    failed += f;
    broken += b;
    lost += Math.max(0, (r?.inflight_lost ?? 0) - attributedL);
    // A bulk stream that broke while its address had no path is not hanet's loss either (its break is counted above).
    verified &&= (r?.stream_verified ?? false) || (r !== undefined && f === 0 && b === 0);
    strict &&= r?.stream_verified ?? false;
  }
  const doubles = watch.episodes.filter((e) => e.kind === 'double');
  const over = doubles.filter((e) => e.end - e.start > args.timeoutMs).map((e) => ({
    address: e.address, ms: Math.round(e.end - e.start), who: e.detail,
    ...(episodeAt(episodes, e.start) ? { episode: `#${episodeAt(episodes, e.start)!.index} ${episodeAt(episodes, e.start)!.kind}` } : {}),
  }));
  const blackHoles = watch.episodes.filter((x) => x.kind === 'black-hole');
  const within = (e: EpisodeRecord, we: WatchEpisode[]) => we.reduce((x, w) => x + overlap(w.start, w.end, e.start, e.settledAt), 0);
  /** The largest P latency of requests sent during the episode, over every workload: the longest stall clients saw. */
  const gapOf = (e: EpisodeRecord): { ms: number; address: string } => {
    let best = { ms: 0, address: '' };
    for (const w of workloads) {
      const origin = originMs(w.report);
      const tl = w.report?.timeline;
      if (origin === undefined || !tl) continue;
      const i0 = Math.max(0, Math.floor((e.start - origin) / tl.bucket_ms)), i1 = Math.min(tl.p_max_latency_ms.length - 1, Math.ceil((e.settledAt - origin) / tl.bucket_ms));
      for (let i = i0; i <= i1; i++) if ((tl.p_max_latency_ms[i] ?? 0) > best.ms) best = { ms: tl.p_max_latency_ms[i]!, address: `${w.client}->${w.address}` };
    }
    return best;
  };
  const per_episode = episodes.map((e) => {
    const g = gapOf(e);
    return { index: e.index, kind: e.kind, what: e.what, at_s: Math.round((e.faultAt - args.startedAt) / 100) / 10, settle_ms: Math.round(e.settledAt - e.healedAt),
      largest_gap_ms: Math.round(g.ms), gap_on: g.address, double_answer_ms: Math.round(within(e, doubles)), black_hole_ms: Math.round(within(e, blackHoles)) };
  });
  const per_kind: KindRow[] = FAULT_KINDS.map((kind) => {
    const eps = per_episode.filter((e) => e.kind === kind);
    return {
      kind, count: eps.length, largest_gap_ms: Math.max(0, ...eps.map((e) => e.largest_gap_ms)),
      double_answer_ms: eps.reduce((s, e) => s + e.double_answer_ms, 0), black_hole_ms: eps.reduce((s, e) => s + e.black_hole_ms, 0),
      unsettled: episodes.filter((e) => e.kind === kind && e.unsettled).length,
    };
  });
  const { episodes: _e, ...watchRest } = watch;
  void _e;
  return {
    seed: args.seed, faults: episodes.length, duration_s: Math.round((args.endedAt - args.startedAt) / 1000),
    requests, failed, broken_connections: broken, inflight_lost: lost, no_path_requests: noPathRequests, stream_verified: verified, stream_verified_strict: strict,
    double_answer_ms: watch.doubleAnswerMs, double_answer_over_timeout_ms: watch.doubleAnswerOverTimeoutMs, stale_answer_ms: watch.staleAnswerMs,
    black_hole_ms: watch.blackHoleMs, no_path_ms: watch.noPathMs,
    leftovers: args.leftovers.length, leftover_details: args.leftovers,
    unsettled: episodes.filter((e) => e.unsettled).map((e) => ({ index: e.index, kind: e.kind, what: e.what, problem: e.unsettled! })),
    per_kind, per_episode, mix: Object.fromEntries(FAULT_KINDS.map((k) => [k, FAULT_MIX[k].weight])),
    watcher: watchRest, losses, double_answers_over_timeout: over,
  };
}

/** The per-kind table as Markdown (bench/CHAOS.md). */
export function kindTable(r: ChaosResult): string {
  const rows = ['| fault | count | largest gap (ms) | double answering (ms) | black hole (ms) | unsettled |', '|---|---:|---:|---:|---:|---:|'];
  for (const k of r.per_kind) rows.push(`| ${k.kind} | ${k.count} | ${k.largest_gap_ms} | ${k.double_answer_ms} | ${k.black_hole_ms} | ${k.unsettled} |`);
  return rows.join('\n');
}
