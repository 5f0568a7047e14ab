// The workload client's request streams P (persistent connections, pipelined requests), N (a new connection per
// request) and S (slow requests the service holds), on the run context client.ts gives them; B is in bulk.ts.
import { WORKLOAD_DEFAULTS } from '../../cli/lab-options.js';
import { backoffMs, Link } from './link.js';
import { FrameDecoder, encodeHello, encodeRequest, replyMatches, type StreamKind } from './protocol.js';
import type { FailReason, StreamReport } from './report.js';
import { GapTracker } from './stats.js';

/** One request: its stream, slot and sequence number, when it was sent, and its deadline timer. */
export interface Req { kind: StreamKind; slot: number; seq: number; sentAt: number; done: boolean; inflight: boolean; timer?: NodeJS.Timeout | undefined }

/** What the streams share with the client run (client.ts): target, clock, request bookkeeping, timers, stop flag. */
export interface RunContext {
  readonly host: string;
  readonly port: number;
  /** The request timeout (ms). */
  readonly timeout: number;
  /** Whether P runs: then P alone decides when the run is ready (every slot has had a reply). */
  readonly hasP: boolean;
  readonly st: Record<StreamKind, StreamReport>;
  /** Every connection not yet closed, so stop() can end the stragglers. */
  readonly links: Set<Link>;
  /** Set by stop(): no new requests or connections. */
  stopping: boolean;
  now(): number;
  begin(kind: StreamKind, slot: number, seq: number, inflight: boolean): Req;
  /** Settles a request; false if it already was. */
  finish(r: Req, outcome: 'ok' | FailReason, at?: number): boolean;
  /** A timer that stop() cancels. */
  later(ms: number, fn: () => void): void;
  /** An interval that stop() cancels. */
  every(ms: number, fn: () => void): void;
  markReady(): void;
}

export interface PersistentStream {
  /** At stop: ends idle connections, gives up on those with outstanding requests; returns the P connections. */
  close(): Set<Link>;
  /** Each slot's largest reply gap up to `stopAt`. */
  gaps(stopAt: number): number[];
}

/** P: persistent connections, pipelined requests matched by seq. */
export function startPersistent(ctx: RunContext, P: { connections: number; intervalMs: number }): PersistentStream {
  const { host, port, timeout, st } = ctx;
  interface PSlot { link: Link | undefined; seq: number; pending: Map<number, Req>; gap: GapTracker; failures: number; dec: FrameDecoder }
  const pSlots: PSlot[] = [];
  const pFirstReply = new Set<number>();
  const pConnect = (slot: number): void => {
    const ps = pSlots[slot]!;
    if (ctx.stopping) return;
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
          const at = ctx.now();
          if (f.type !== 'rep') { link.abort('protocol'); return; }
          const r = ps.pending.get(f.seq);
          if (!r || !replyMatches(f.seq, f.payload)) { link.abort('protocol'); return; }
          ps.pending.delete(f.seq);
          ctx.finish(r, 'ok', at);
          ps.gap.hit(at);
          ps.failures = 0;
          if (!pFirstReply.has(slot)) { pFirstReply.add(slot); if (pFirstReply.size === P.connections) ctx.markReady(); }
        }
      },
      onClose: (c) => {
        ctx.links.delete(link);
        ps.link = undefined;
        if (c.byClient) return;
        if (c.established) st.P.broken_connections++;
        else st.P.connect_failures++;
        for (const r of ps.pending.values()) ctx.finish(r, c.reason);
        ps.pending.clear();
        ps.failures++;
        if (!ctx.stopping) ctx.later(backoffMs(ps.failures), () => pConnect(slot));
      },
    });
    ps.link = link;
    ctx.links.add(link);
  };
  const pSend = (slot: number): void => {
    const ps = pSlots[slot]!;
    if (ctx.stopping || !ps.link?.open) return;
    const seq = (ps.seq = (ps.seq + 1) >>> 0);
    const r = ctx.begin('P', slot, seq, true);
    const link = ps.link;
    // A request with no reply by its deadline makes the whole connection dead (see report.ts).
    r.timer = setTimeout(() => { if (!r.done) link.abort('timeout'); }, timeout);
    ps.pending.set(seq, r);
    link.write(encodeRequest(seq));
  };
  for (let i = 0; i < P.connections; i++) {
    // Stagger the slots over one interval so the service sees an even request rate. A slot's gap counts from
    // its first scheduled request (so start-up is not a gap, but a connection that is not up by then is).
    const offset = (P.intervalMs * i) / P.connections;
    pSlots.push({ link: undefined, seq: 0, pending: new Map(), gap: new GapTracker(offset + P.intervalMs), failures: 0, dec: new FrameDecoder() });
    pConnect(i);
    const slot = i;
    ctx.later(offset, () => { if (!ctx.stopping) ctx.every(P.intervalMs, () => pSend(slot)); });
  }
  return {
    close: () => {
      // Idle P connections are ended by the client (not broken); connections with outstanding requests are
      // given up on ("timeout").
      const pLinks = new Set<Link>();
      for (const ps of pSlots) {
        const l = ps.link;
        if (!l) continue;
        pLinks.add(l);
        if (ps.pending.size > 0) l.abort('timeout');
        else if (l.established) l.end();
        else l.destroy();
      }
      return pLinks;
    },
    gaps: (stopAt) => pSlots.map((ps) => ps.gap.result(stopAt)),
  };
}

/** Runs one N or S request on its own connection; `done` is called when it has settled. */
function oneShot(ctx: RunContext, kind: 'N' | 'S', slot: number, seq: number, holdMs: number, inflight?: Set<Link>, done?: (ok: boolean) => void): void {
  const { st } = ctx;
  const r = ctx.begin(kind, slot, seq, false);
  const dec = new FrameDecoder();
  let succeeded = false;
  const link: Link = new Link(ctx.host, ctx.port, undefined, {
    onConnect: () => {
      st[kind].connections++;
      r.inflight = true;
      if (!ctx.hasP && kind === 'S') ctx.markReady();
      link.write(Buffer.concat([encodeHello(kind, holdMs), encodeRequest(seq)]));
    },
    onData: (b) => {
      dec.push(b);
      const f = dec.next();
      if (f === undefined) return;
      if (f.type !== 'rep' || f.seq !== seq || !replyMatches(seq, f.payload)) { link.abort('protocol'); return; }
      succeeded = ctx.finish(r, 'ok');
      link.end();
    },
    onClose: (c) => {
      ctx.links.delete(link);
      inflight?.delete(link);
      if (!r.done) {
        if (c.established && kind === 'S') st.S.broken_connections++;
        if (!c.established) st[kind].connect_failures++;
        ctx.finish(r, c.reason);
      }
      done?.(succeeded);
    },
  });
  r.timer = setTimeout(() => link.abort(link.established ? 'timeout' : 'connect_timeout'), ctx.timeout + holdMs);
  ctx.links.add(link);
  inflight?.add(link);
}

/** N: a new connection with one request every intervalMs (open loop, at most maxInflight outstanding). */
export function startPerRequest(ctx: RunContext, N: { intervalMs: number; maxInflight?: number }): { skipped(): number } {
  const inflight = new Set<Link>();
  let skipped = 0;
  let seq = 0;
  const maxInflight = N.maxInflight ?? WORKLOAD_DEFAULTS.perRequest.maxInflight;
  ctx.every(N.intervalMs, () => {
    if (ctx.stopping) return;
    if (inflight.size >= maxInflight) { skipped++; return; }
    oneShot(ctx, 'N', 0, (seq = (seq + 1) >>> 0), 0, inflight);
  });
  return { skipped: () => skipped };
}

/** S: `concurrency` requests always outstanding, each on its own connection, held holdMs by the service. */
export function startSlow(ctx: RunContext, S: { concurrency: number; holdMs: number }): void {
  let seq = 0;
  const sFailures: number[] = [];
  const sLoop = (slot: number): void => {
    if (ctx.stopping) return;
    oneShot(ctx, 'S', slot, (seq = (seq + 1) >>> 0), S.holdMs, undefined, (ok) => {
      if (ok) { sFailures[slot] = 0; sLoop(slot); return; }
      sFailures[slot] = (sFailures[slot] ?? 0) + 1;
      ctx.later(backoffMs(sFailures[slot]!), () => sLoop(slot));
    });
  };
  for (let i = 0; i < S.concurrency; i++) sLoop(i);
}
