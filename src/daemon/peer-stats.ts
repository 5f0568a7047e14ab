// What the daemon learns about its private links around the core: heartbeat round-trip times (from the echo of our
// own send time in the peer's heartbeat: no clock sync needed) and the control messages each link dropped.
import type { HeartbeatMessage, PeerMessage } from '../core/messages.js';
import type { HeartbeatSettings } from '../core/types.js';

/** Heartbeat round-trip time of a private link, from the echo in the peer's heartbeats (1 ms resolution). */
export interface LinkRtt { lastMs: number | null; avgMs: number | null; samples: number }

/** Smoothing of the average heartbeat RTT (EWMA weight of a new sample). */
const RTT_ALPHA = 0.2;
/** A repeated rejection (same link and reason) is recorded as an event at most this often; counts stay exact. */
export const REJECT_EVENT_EVERY_MS = 10_000;

export class PeerStats {
  /** The peer's last heartbeat per link (its envelope, and when we got it): echoed in our next heartbeat. */
  private readonly lastRx = new Map<string, { seq: number; sentAt: number; at: number }>();
  private readonly rtt = new Map<string, LinkRtt>();
  readonly rejected: Record<string, number> = {};
  private readonly rejectedByLink = new Map<string, Record<string, number>>();
  /** Per link and reason: when the last 'message-rejected' event was recorded, and how many were not since. */
  private readonly rejectLog = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly heartbeatOf: (link: string) => HeartbeatSettings, private readonly now: () => number, private readonly wallNow: () => number) {}

  /** A heartbeat came in: remember it (to echo it), and measure our round trip from its echo of ours. */
  heartbeat(link: string, msg: HeartbeatMessage, envelope: { seq: number; sentAt: number }): void {
    this.lastRx.set(link, { seq: envelope.seq, sentAt: envelope.sentAt, at: this.now() });
    if (!msg.echo) return;
    const ms = this.wallNow() - msg.echo.at - (msg.echo.holdMs ?? 0);
    // Send times are whole ms: a sub-ms round trip can come out as -1. A wall-clock step gives nonsense: dropped.
    if (!(ms >= -1 && ms < this.heartbeatOf(link).timeoutMs * 10)) return;
    const r = this.rtt.get(link) ?? { lastMs: null, avgMs: null, samples: 0 };
    r.lastMs = Math.max(0, ms);
    r.avgMs = r.avgMs === null ? r.lastMs : r.avgMs + RTT_ALPHA * (r.lastMs - r.avgMs);
    r.samples++;
    this.rtt.set(link, r);
  }

  /** Our heartbeat echoes the peer's last one (if it is recent), so the peer can measure its round trip. */
  withEcho(link: string, msg: PeerMessage): PeerMessage {
    if (msg.type !== 'heartbeat') return msg;
    const rx = this.lastRx.get(link);
    const now = this.now();
    if (!rx || now - rx.at > this.heartbeatOf(link).timeoutMs) return msg;
    return { ...msg, echo: { seq: rx.seq, at: rx.sentAt, holdMs: Math.max(0, Math.round(now - rx.at)) } };
  }

  /**
   * Counts a dropped control message; returns how many of its kind went unrecorded before it when it should be
   * recorded as an event now (at most once per REJECT_EVENT_EVERY_MS per link and reason, so a flood of forged
   * packets cannot flood the log), else undefined.
   */
  reject(link: string, reason: string): number | undefined {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
    const perLink = this.rejectedByLink.get(link) ?? {};
    perLink[reason] = (perLink[reason] ?? 0) + 1;
    this.rejectedByLink.set(link, perLink);
    const now = this.now();
    const key = `${link}\u0000${reason}`;
    const last = this.rejectLog.get(key);
    if (last && now - last.at < REJECT_EVENT_EVERY_MS) { last.suppressed++; return undefined; }
    this.rejectLog.set(key, { at: now, suppressed: 0 });
    return last?.suppressed ?? 0;
  }

  rttOf(link: string): LinkRtt { return { ...(this.rtt.get(link) ?? { lastMs: null, avgMs: null, samples: 0 }) }; }
  rejectedOn(link: string): Record<string, number> { return { ...this.rejectedByLink.get(link) }; }
}
