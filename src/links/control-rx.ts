// A private link's control channel, whatever carries its bytes (UDP datagrams, serial frames, udp tunnel
// datagrams). Receive: decode + HMAC, sender must be the link's peer, replay guard (session binding), then
// listeners; every drop counted by reason. Send: the message sealed with this daemon's session and the session
// binding the guard holds for the peer. Also the counters and listener sets every PrivateLink needs.
//
// The handshake after either end starts (src/proto/replay.ts) needs a message each way; waiting for the next
// heartbeats made it ~2 heartbeat intervals (measured in the lab: 40-60 ms at 20 ms). So when a message shows that
// the peer lacks our current nonce (refused: 'unbound', 'stale-session') or that we just adopted its new session,
// the channel re-sends our last heartbeat at once (without its RTT echo; at most NUDGE_BURST in NUDGE_WINDOW_MS, as
// a handshake needs two or three in a row): it then takes a few one-way trips. The answer goes to the link's peer
// only (never to a datagram's source), so a replayed message cannot make the link send anywhere else.
import { performance } from 'node:perf_hooks';
import type { PeerMessage } from '../core/messages.js';
import { decodeControl, REJECT_REASONS, type ControlKey, type ControlSender, type RejectReason } from '../proto/control.js';
import type { ReplayGuard } from '../proto/replay.js';
import type { LinkStats, ReceivedMessage, RejectEvent } from './types.js';

export interface ControlChannelOptions {
  name: string;
  peer: string;
  /** This daemon's sending side; its `node` is the recipient received messages must be addressed to. */
  sender: ControlSender;
  key: ControlKey;
  guard: ReplayGuard;
  now?: () => number;
}

/** At most NUDGE_BURST immediate handshake answers in NUDGE_WINDOW_MS (replayed messages cannot make the link flood its peer: 40/s). */
export const NUDGE_BURST = 4;
export const NUDGE_WINDOW_MS = 100;

export class ControlChannel {
  readonly counters: LinkStats;
  /** The last heartbeat sent, without its RTT echo: what the handshake answers re-send. */
  private lastHeartbeat: PeerMessage | undefined;
  private resend: ((msg: PeerMessage) => void) | undefined;
  /** When the last NUDGE_BURST answers were sent. */
  private readonly nudges: number[] = [];
  private readonly messageListeners = new Set<(m: ReceivedMessage) => void>();
  private readonly rejectListeners = new Set<(r: RejectEvent) => void>();
  private readonly now: () => number;

  constructor(private readonly o: ControlChannelOptions) {
    this.now = o.now ?? Date.now;
    this.counters = {
      sent: 0, sendErrors: 0, bytesSent: 0, received: 0, bytesReceived: 0,
      rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>,
    };
  }

  onMessage(cb: (m: ReceivedMessage) => void): () => void {
    this.messageListeners.add(cb);
    return () => { this.messageListeners.delete(cb); };
  }

  onReject(cb: (r: RejectEvent) => void): () => void {
    this.rejectListeners.add(cb);
    return () => { this.rejectListeners.delete(cb); };
  }

  /** How the link sends a message: enables the immediate handshake answers. */
  setResend(send: (msg: PeerMessage) => void): void {
    this.resend = send;
  }

  /** The bytes of `msg` for the peer. Throws HANET_ERR_PROTOCOL on an invalid message (a bug at the sender). */
  encode(msg: PeerMessage): Buffer {
    const bytes = this.o.sender.encode(this.o.peer, msg, this.o.guard.binding(this.o.peer)).bytes;
    if (msg.type === 'heartbeat') {
      const { echo: _echo, ...rest } = msg;
      this.lastHeartbeat = rest;
    }
    return bytes;
  }

  /** Sends the last heartbeat again now, if any and not too soon after the previous time. */
  private nudge(): void {
    const t = performance.now();
    if (!this.resend || !this.lastHeartbeat) return;
    if (this.nudges.length >= NUDGE_BURST && t - this.nudges[0]! < NUDGE_WINDOW_MS) return;
    this.nudges.push(t);
    if (this.nudges.length > NUDGE_BURST) this.nudges.shift();
    this.counters.handshakeAnswers = (this.counters.handshakeAnswers ?? 0) + 1;
    // After the current receive has finished: never re-enter the link's send path from inside its receive path.
    const send = this.resend;
    const msg = this.lastHeartbeat;
    queueMicrotask(() => send(msg));
  }

  /** Counts a drop made below the codec (e.g. a datagram from another address before the socket was connected). */
  dropped(reason: RejectReason, from: string, bytes: number): void {
    this.reject({ reason, from, at: this.now(), bytes });
  }

  sent(bytes: number): void {
    this.counters.sent++;
    this.counters.bytesSent += bytes;
  }

  sendFailed(why: string): void {
    this.counters.sendErrors++;
    this.counters.lastSendError = why;
  }

  stats(): LinkStats {
    return { ...this.counters, rejected: { ...this.counters.rejected } };
  }

  /** One control message as it came off the link. Never throws (unless a listener does). */
  receive(bytes: Uint8Array, from: string): void {
    const at = this.now();
    const r = decodeControl(this.o.key, bytes, { recipient: this.o.sender.node });
    if (!r.ok) {
      this.reject({ reason: r.reason, from, at, bytes: bytes.length, ...(r.detail !== undefined ? { detail: r.detail } : {}) });
      return;
    }
    const env = r.envelope;
    if (env.sender !== this.o.peer) {
      this.reject({ reason: 'unexpected-sender', from, at, bytes: bytes.length, sender: env.sender, detail: `expected ${this.o.peer}` });
      return;
    }
    const v = this.o.guard.admit(env);
    if (!v.ok) {
      this.reject({ reason: v.reason, from, at, bytes: bytes.length, sender: env.sender, detail: `session ${env.session} seq ${env.seq} echo ${env.echo}` });
      if (v.reason === 'unbound' || v.reason === 'stale-session') this.nudge();
      return;
    }
    this.counters.received++;
    this.counters.bytesReceived += bytes.length;
    this.counters.lastReceivedAt = at;
    const m: ReceivedMessage = { link: this.o.name, envelope: env, message: r.message, receivedAt: at };
    for (const cb of this.messageListeners) cb(m);
    if (v.adopted) this.nudge();
  }

  private reject(e: Omit<RejectEvent, 'link'>): void {
    this.counters.rejected[e.reason]++;
    const ev: RejectEvent = { link: this.o.name, ...e };
    for (const cb of this.rejectListeners) cb(ev);
  }
}
