// Replay protection for authenticated control messages: per (sender, session) sliding-window sequence check,
// clock-skew check, and rejection of messages from a sender's superseded sessions. Pure state; clock injected.
//
// Rules, in order (first failing rule gives the reason):
//  1. 'stale':  |receiver now - sentAt| > maxSkewMs (default 30 s). Bounds how long any captured message is useful.
//  2. 'stale-session': the message's session is not the sender's current one. The current session is the one whose
//     messages carry the latest send times; a session that is new to the guard becomes current only if its send
//     time is later than every send time seen in the current session (the sender's own clock orders its own
//     sessions). So after a restart, messages of the earlier session — replayed, or delayed ones never seen —
//     are rejected. Cost: if a sender's clock steps backwards across a restart, its new session is refused until
//     its clock passes the old session's last send time, or until the old session is forgotten (at most
//     2 * maxSkewMs after its last message) — whichever comes first.
//  3. 'too-old': seq is 64 or more below the highest seq seen in the session (outside the window).
//  4. 'replay':  seq already seen (a bit in the 64-entry window bitmap; bit i = highest - i).
// Messages inside the window that were not seen yet are accepted once (UDP may reorder).
// Memory: sessions are forgotten 2 * maxSkewMs after their last accepted message (by then rule 1 rejects all
// their messages anyway), at most maxSessionsPerSender (8) per sender and maxSenders (256) senders, oldest evicted.
// Only feed the guard messages whose MAC verified: an unauthenticated message must never move its state.
import type { ReplayReason } from './control.js';

export const REPLAY_WINDOW = 64;
const WINDOW_MASK = (1n << BigInt(REPLAY_WINDOW)) - 1n;

export interface ReplayGuardOptions {
  maxSkewMs?: number;
  maxSessionsPerSender?: number;
  maxSenders?: number;
  now?: () => number;
}

export interface ReplayInput {
  sender: string;
  /** Session id (hex). */
  session: string;
  seq: bigint;
  /** Send time, ms since the epoch (sender's clock). */
  sentAt: number;
}

export type ReplayVerdict = { ok: true } | { ok: false; reason: ReplayReason };

interface SessionState {
  highest: bigint;
  window: bigint;
  maxSentAt: number;
  lastSeen: number;
}

interface SenderState {
  sessions: Map<string, SessionState>;
  current: string | undefined;
  lastSeen: number;
}

export class ReplayGuard {
  readonly maxSkewMs: number;
  private readonly maxSessionsPerSender: number;
  private readonly maxSenders: number;
  private readonly now: () => number;
  private readonly senders = new Map<string, SenderState>();

  constructor(opts: ReplayGuardOptions = {}) {
    this.maxSkewMs = opts.maxSkewMs ?? 30_000;
    this.maxSessionsPerSender = Math.max(1, opts.maxSessionsPerSender ?? 8);
    this.maxSenders = Math.max(1, opts.maxSenders ?? 256);
    this.now = opts.now ?? Date.now;
  }

  /** Would `m` be accepted now? Does not change any state. */
  check(m: ReplayInput): ReplayVerdict {
    return this.judge(m, this.now(), false);
  }

  /** Checks `m` and, if accepted, records it (so the same message is refused next time). */
  admit(m: ReplayInput): ReplayVerdict {
    return this.judge(m, this.now(), true);
  }

  /** Forgets everything about a sender (e.g. when it is removed from the configuration). */
  forget(sender: string): void {
    this.senders.delete(sender);
  }

  stats(): { senders: number; sessions: number } {
    let sessions = 0;
    for (const s of this.senders.values()) sessions += s.sessions.size;
    return { senders: this.senders.size, sessions };
  }

  private judge(m: ReplayInput, now: number, commit: boolean): ReplayVerdict {
    if (!(Math.abs(now - m.sentAt) <= this.maxSkewMs)) return { ok: false, reason: 'stale' };
    let sender = this.senders.get(m.sender);
    if (sender && commit) this.prune(sender, now);
    const expired = (s: SessionState): boolean => now - s.lastSeen > 2 * this.maxSkewMs;
    const cur = sender?.current !== undefined ? sender.sessions.get(sender.current) : undefined;
    const live = cur !== undefined && !expired(cur) ? cur : undefined;
    const known = sender?.sessions.get(m.session);

    if (known !== undefined && !expired(known)) {
      if (m.session !== sender?.current) return { ok: false, reason: 'stale-session' };
      if (m.seq > known.highest) {
        if (commit) {
          const shift = m.seq - known.highest;
          known.window = shift >= BigInt(REPLAY_WINDOW) ? 1n : ((known.window << shift) | 1n) & WINDOW_MASK;
          known.highest = m.seq;
        }
      } else {
        const diff = known.highest - m.seq;
        if (diff >= BigInt(REPLAY_WINDOW)) return { ok: false, reason: 'too-old' };
        const bit = 1n << diff;
        if ((known.window & bit) !== 0n) return { ok: false, reason: 'replay' };
        if (commit) known.window |= bit;
      }
      if (commit) {
        known.maxSentAt = Math.max(known.maxSentAt, m.sentAt);
        known.lastSeen = now;
        sender.lastSeen = now;
      }
      return { ok: true };
    }

    // A session new to the guard (or forgotten): it must be later than the sender's current session.
    if (live !== undefined && m.sentAt <= live.maxSentAt) return { ok: false, reason: 'stale-session' };
    if (!commit) return { ok: true };
    if (!sender) {
      sender = { sessions: new Map(), current: undefined, lastSeen: now };
      this.senders.set(m.sender, sender);
      this.evictSenders();
    }
    sender.sessions.delete(m.session);
    sender.sessions.set(m.session, { highest: m.seq, window: 1n, maxSentAt: m.sentAt, lastSeen: now });
    sender.current = m.session;
    sender.lastSeen = now;
    while (sender.sessions.size > this.maxSessionsPerSender) {
      // Oldest first (Map keeps insertion order; a session is inserted when it becomes current).
      const oldest = sender.sessions.keys().next().value as string;
      sender.sessions.delete(oldest);
    }
    return { ok: true };
  }

  private prune(sender: SenderState, now: number): void {
    for (const [id, s] of sender.sessions) {
      if (now - s.lastSeen > 2 * this.maxSkewMs) {
        sender.sessions.delete(id);
        if (sender.current === id) sender.current = undefined;
      }
    }
  }

  private evictSenders(): void {
    while (this.senders.size > this.maxSenders) {
      let oldestName: string | undefined;
      let oldestSeen = Infinity;
      for (const [name, s] of this.senders) if (s.lastSeen < oldestSeen) { oldestSeen = s.lastSeen; oldestName = name; }
      if (oldestName === undefined) return;
      this.senders.delete(oldestName);
    }
  }
}
