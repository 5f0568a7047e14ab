// Freshness and replay protection for authenticated control messages, without clocks shared between nodes:
// session binding. Pure state; the receiver's own monotonic clock is injected (only used to rotate nonces).
//
// Per peer, this node keeps a random nonce (rotated, see below) that it puts in every message to that peer; the
// peer names it back in the `echo` of its messages. The peer's messages are accepted only if:
//  1. they come from the peer session this node has adopted and echo its current or previous nonce, and their
//     sequence number is new within that session (64-entry sliding window: 'replay', 'too-old'); or
//  2. they come from another session of the peer and echo this node's CURRENT nonce: the peer restarted (only a
//     session alive now can have heard the current nonce). The new session is adopted and the nonce rotated at
//     once, so that no other session (an older one, whose messages may have been captured) can ever echo the
//     current nonce: an older session of the peer is never adopted again.
// Everything else is refused: echo 0 ('unbound': the sender has not heard from us yet) or another nonce
// ('stale-session': a restart of either end, or a replay), and is not acted on.
//
// Learning the peer's nonce (what this node echoes): from every accepted message; while no session of the peer is
// adopted, also from refused authenticated ones (a restarted node learns its peer's nonce from the peer's first
// message, whose echo it cannot know yet; latest wins); and from any message of the adopted session newer than all
// seen (after a long outage both ends rotated: each learns the other's nonce from a message it cannot accept yet).
//
// Rotation, on the receiver's monotonic clock: a nonce is replaced once it is rotateMs old AND the peer has named
// it (so the peer always knows the current or the previous one, whatever its heartbeat interval: a link with 60 s
// heartbeats must not be refused for naming a nonce rotated away since), or unconditionally once it is
// maxNonceAgeMs old (a link the peer does not talk on). The previous nonce stays valid for the adopted session.
//
// So: every message captured before a receiver's restart names a nonce of the dead daemon and is refused forever;
// a restarted sender is accepted after one round trip (its message, our reply, its next message); no wall clock is
// read, so a clock step changes nothing. A message held back by an attacker is accepted once (the window), and only
// while the nonce it names is current or previous: on a link that carries heartbeats, ~2 * rotateMs (20 s) after
// the nonce was issued; if the attacker also cuts the link, up to 2 * maxNonceAgeMs (200 s).
//
// Memory: one state per peer (at most maxSenders, least recently seen evicted); links feed the guard only
// messages whose MAC verified and whose sender is the link's peer: an unauthenticated message never moves it.
import { performance } from 'node:perf_hooks';
import { NO_NONCE, newSessionId, type ReplayReason, type SessionBinding } from './control.js';

export const REPLAY_WINDOW = 64;
const WINDOW_MASK = (1n << BigInt(REPLAY_WINDOW)) - 1n;

export interface ReplayGuardOptions {
  /** A nonce the peer has named is replaced once it is this old (then it is previous). Default 10 s. */
  rotateMs?: number;
  /** A nonce is replaced once it is this old even if the peer never named it. Default 10 * rotateMs. */
  maxNonceAgeMs?: number;
  maxSenders?: number;
  /** Monotonic ms (default performance.now). */
  now?: () => number;
  /** Nonce source (tests). */
  newNonce?: () => string;
}

export interface ReplayInput {
  sender: string;
  /** The sender's session (hex). */
  session: string;
  /** The sender's nonce for us (hex). */
  nonce: string;
  /** Our nonce as the sender named it (hex; NO_NONCE: none). */
  echo: string;
  seq: bigint;
}

/** `adopted`: this message made its session the peer's current one (the peer restarted, or we did). */
export type ReplayVerdict = { ok: true; adopted: boolean } | { ok: false; reason: ReplayReason };

interface Adopted {
  session: string;
  highest: bigint;
  window: bigint;
  /** Highest seq seen from this session, accepted or not (what may teach its nonce). */
  newest: bigint;
}

interface PeerState {
  current: string;
  currentSince: number;
  /** Whether an accepted message of the peer named the current nonce (the peer knows it: it may be rotated). */
  currentKnown: boolean;
  previous: string | undefined;
  adopted: Adopted | undefined;
  /** The peer's nonce, echoed in our messages. */
  echo: string | undefined;
  lastSeen: number;
}

export class ReplayGuard {
  readonly rotateMs: number;
  readonly maxNonceAgeMs: number;
  private readonly maxSenders: number;
  private readonly now: () => number;
  private readonly newNonce: () => string;
  private readonly peers = new Map<string, PeerState>();

  constructor(opts: ReplayGuardOptions = {}) {
    this.rotateMs = opts.rotateMs ?? 10_000;
    this.maxNonceAgeMs = Math.max(this.rotateMs, opts.maxNonceAgeMs ?? 10 * this.rotateMs);
    this.maxSenders = Math.max(1, opts.maxSenders ?? 256);
    this.now = opts.now ?? (() => performance.now());
    this.newNonce = opts.newNonce ?? newSessionId;
  }

  /** What the next message to `peer` carries: our current nonce for it, and its nonce as we know it. */
  binding(peer: string): SessionBinding {
    const p = this.state(peer, this.now());
    return { nonce: p.current, echo: p.echo ?? NO_NONCE };
  }

  /** The peer's adopted session (whose messages we accept), if any: the udp tunnel keys its data on it. */
  adoptedSession(peer: string): string | undefined {
    return this.peers.get(peer)?.adopted?.session;
  }

  /** Would `m` be accepted now? Changes no state. */
  check(m: ReplayInput): ReplayVerdict {
    return this.judge(m, false);
  }

  /** Checks `m` and records what it teaches: if accepted, the same message is refused next time. */
  admit(m: ReplayInput): ReplayVerdict {
    return this.judge(m, true);
  }

  /** Forgets everything about a peer (e.g. when it is removed from the configuration). */
  forget(peer: string): void {
    this.peers.delete(peer);
  }

  stats(): { peers: number; adopted: number } {
    let adopted = 0;
    for (const p of this.peers.values()) if (p.adopted) adopted++;
    return { peers: this.peers.size, adopted };
  }

  private state(peer: string, now: number): PeerState {
    let p = this.peers.get(peer);
    if (!p) {
      p = { current: this.newNonce(), currentSince: now, currentKnown: false, previous: undefined, adopted: undefined, echo: undefined, lastSeen: now };
      this.peers.set(peer, p);
      this.evict();
    } else {
      const age = now - p.currentSince;
      // Unnamed for two maximum ages: the previous one is as old, both are gone (messages naming them are refused).
      if ((age >= this.rotateMs && p.currentKnown) || age >= this.maxNonceAgeMs) this.rotate(p, now, age < 2 * this.maxNonceAgeMs);
    }
    return p;
  }

  private rotate(p: PeerState, now: number, keepCurrent = true): void {
    p.previous = keepCurrent ? p.current : undefined;
    p.current = this.newNonce();
    p.currentSince = now;
    p.currentKnown = false;
  }

  private judge(m: ReplayInput, commit: boolean): ReplayVerdict {
    const now = this.now();
    const p = commit ? this.state(m.sender, now) : this.peers.get(m.sender);
    if (!p) return { ok: false, reason: m.echo === NO_NONCE ? 'unbound' : 'stale-session' };
    if (commit) p.lastSeen = now;
    const a = p.adopted;

    if (a !== undefined && m.session === a.session) {
      if (commit && m.seq > a.newest) { a.newest = m.seq; p.echo = m.nonce; }
      if (m.echo !== p.current && m.echo !== p.previous) return { ok: false, reason: m.echo === NO_NONCE ? 'unbound' : 'stale-session' };
      if (m.seq > a.highest) {
        if (commit) {
          const shift = m.seq - a.highest;
          a.window = shift >= BigInt(REPLAY_WINDOW) ? 1n : ((a.window << shift) | 1n) & WINDOW_MASK;
          a.highest = m.seq;
        }
      } else {
        const diff = a.highest - m.seq;
        if (diff >= BigInt(REPLAY_WINDOW)) return { ok: false, reason: 'too-old' };
        const bit = 1n << diff;
        if ((a.window & bit) !== 0n) return { ok: false, reason: 'replay' };
        if (commit) a.window |= bit;
      }
      if (commit && m.echo === p.current) p.currentKnown = true;
      return { ok: true, adopted: false };
    }

    if (m.echo !== p.current) {
      if (commit && a === undefined) p.echo = m.nonce; // bootstrap: learn the peer's nonce from its first words
      return { ok: false, reason: m.echo === NO_NONCE ? 'unbound' : 'stale-session' };
    }
    // A session that heard our current nonce: the peer's live one. Adopt it, and rotate so that no other (older)
    // session can name the current nonce again.
    if (commit) {
      p.adopted = { session: m.session, highest: m.seq, window: 1n, newest: m.seq };
      p.echo = m.nonce;
      this.rotate(p, now);
    }
    return { ok: true, adopted: true };
  }

  private evict(): void {
    while (this.peers.size > this.maxSenders) {
      let oldestName: string | undefined;
      let oldestSeen = Infinity;
      for (const [name, s] of this.peers) if (s.lastSeen < oldestSeen) { oldestSeen = s.lastSeen; oldestName = name; }
      if (oldestName === undefined) return;
      this.peers.delete(oldestName);
    }
  }
}
