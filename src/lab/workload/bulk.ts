// The workload client's B stream: one connection streaming pseudo-random bytes at a fixed rate, echoed by the
// service and hashed both ways, so a takeover that loses, duplicates or reorders a byte shows as unverified.
import { createHash, type Hash } from 'node:crypto';
import { backoffMs, Link } from './link.js';
import { BulkPattern, encodeHello } from './protocol.js';
import type { BStreamInfo } from './report.js';
import type { Req, RunContext } from './streams.js';

/** Largest write of the bulk pump and its burst allowance (250 ms of rate) after the socket was blocked. */
const BULK_CHUNK = 64 * 1024;
const BULK_TICK_MS = 10;

export interface BulkStream {
  /** Every bulk connection that was established, in order. */
  readonly streams: BStreamInfo[];
  /** A bulk connection is open (stop() waits for its echo). */
  active(): boolean;
  /** At stop: half-closes the open connection, so the service ends it once everything is echoed. */
  finish(): void;
  /** The longest the echo fell silent while bytes were outstanding, over all bulk connections. */
  echoGap(): number;
}

export function startBulk(ctx: RunContext, B: { rateBytesPerSec: number }): BulkStream {
  const { host, port, timeout, st } = ctx;
  const bStreams: BStreamInfo[] = [];
  let bActive: { link: Link; finish: () => void } | undefined;
  let bFailures = 0;
  let bEchoGap = 0;
  const bConnect = (): void => {
    if (ctx.stopping) return;
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
        req = ctx.begin('B', index, index, true);
        link.write(encodeHello('B'));
        lastTick = lastEcho = ctx.now();
        pump = setInterval(() => {
          const t = ctx.now();
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
          if (sent > received && ctx.now() - Math.max(waitingSince, lastEcho) > timeout) link.abort('timeout');
        }, 50);
      },
      onData: (b) => {
        const t = ctx.now();
        if (sent > received) bEchoGap = Math.max(bEchoGap, t - Math.max(lastEcho, waitingSince));
        lastEcho = t;
        if (!ctx.hasP) ctx.markReady();
        hr.update(b);
        received += b.length;
        if (received > sent) link.abort('protocol');
      },
      onServerEnd: () => { if (halfClosed) link.destroy(); },
      onClose: (c) => {
        clearInterval(pump);
        clearInterval(watchdog);
        ctx.links.delete(link);
        if (bActive?.link === link) bActive = undefined;
        if (!c.established) {
          if (c.byClient) return;
          st.B.connect_failures++;
          bFailures++;
          if (!ctx.stopping) ctx.later(backoffMs(bFailures), bConnect);
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
        if (req) ctx.finish(req, info.outcome);
        if (!clean) { bFailures++; if (!ctx.stopping) ctx.later(backoffMs(bFailures), bConnect); }
        else bFailures = 0;
      },
    });
    ctx.links.add(link);
    bActive = { link, finish: () => { halfClosed = true; if (link.established) link.halfClose(); else link.destroy(); } };
  };
  bConnect();
  return { streams: bStreams, active: () => bActive !== undefined, finish: () => bActive?.finish(), echoGap: () => bEchoGap };
}
