// Control messages over UDP on an ethernet private link: a PrivateLink that binds (localAddress, port), sends to
// (peerAddress, port), and passes on only authenticated, fresh messages from its peer addressed to this node.
//
// Receive pipeline: datagram -> decodeControl (framing, HMAC, recipient, body) -> sender must be the link's peer
// -> ReplayGuard.admit -> onMessage. Every drop is counted by reason and reported to onReject (logs/metrics).
// The source address of a datagram is not checked: the HMAC authenticates the sender, and a routed or NATed
// path (the udp kind, later) may change it.
// The ControlSender (our session and sequence counter) and the ReplayGuard are passed in so that one of each is
// shared by every link of a daemon: sequence numbers then stay increasing per session across links, and a
// message replayed from one link onto another is still refused.
import { createSocket, type Socket } from 'node:dgram';
import { HanetError } from '../errors.js';
import { decodeControl, REJECT_REASONS, type ControlKey, type ControlMessage, type RejectReason, type ControlSender } from '../proto/control.js';
import type { ReplayGuard } from '../proto/replay.js';
import type { LinkStats, PrivateLink, ReceivedMessage, RejectEvent } from './types.js';

export interface UdpControlLinkOptions {
  /** Link name (from the configuration). */
  name: string;
  /** Node at the other end. */
  peer: string;
  key: ControlKey;
  /** This daemon's sending session (its `node` is this node's name). */
  sender: ControlSender;
  guard: ReplayGuard;
  localAddress: string;
  peerAddress: string;
  /** Port on both ends (the configuration's `port`); localPort/peerPort override it (tests on one host). */
  port?: number;
  localPort?: number;
  peerPort?: number;
  now?: () => number;
  /** Aborting closes the link (and aborts open() if still binding). */
  signal?: AbortSignal;
}

type Listener<T> = (v: T) => void;

export class UdpControlLink implements PrivateLink {
  readonly kind = 'ethernet' as const;
  readonly name: string;
  readonly peer: string;
  readonly localAddress: string;
  readonly peerAddress: string;
  readonly peerPort: number;
  private readonly key: ControlKey;
  private readonly sender: ControlSender;
  private readonly guard: ReplayGuard;
  private readonly now: () => number;
  private readonly socket: Socket;
  private readonly messageListeners = new Set<Listener<ReceivedMessage>>();
  private readonly rejectListeners = new Set<Listener<RejectEvent>>();
  private readonly counters: LinkStats;
  private closed: Promise<void> | undefined;
  private readonly onAbort = (): void => { void this.close(); };

  /** Binds the socket and returns the open link. Throws HANET_ERR_SOCKET if the bind fails, HANET_ERR_ABORTED if aborted. */
  static async open(opts: UdpControlLinkOptions): Promise<UdpControlLink> {
    const link = new UdpControlLink(opts);
    await link.bind(opts.localPort ?? opts.port ?? 7431, opts.signal);
    return link;
  }

  private constructor(opts: UdpControlLinkOptions) {
    this.name = opts.name;
    this.peer = opts.peer;
    this.localAddress = opts.localAddress;
    this.peerAddress = opts.peerAddress;
    this.peerPort = opts.peerPort ?? opts.port ?? 7431;
    this.key = opts.key;
    this.sender = opts.sender;
    this.guard = opts.guard;
    this.now = opts.now ?? Date.now;
    this.counters = {
      sent: 0, sendErrors: 0, bytesSent: 0, received: 0, bytesReceived: 0,
      rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>,
    };
    this.socket = createSocket({ type: 'udp4', reuseAddr: true });
    this.socket.on('message', (buf, rinfo) => this.receive(buf, `${rinfo.address}:${rinfo.port}`));
    // After bind, socket errors (e.g. ICMP-triggered) must not crash the daemon; the link stays usable.
    this.socket.on('error', (err) => { this.counters.lastSendError = err.message; });
  }

  /** The bound local port (useful with port 0). */
  get localPort(): number {
    return this.socket.address().port;
  }

  private bind(port: number, signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) {
      this.socket.close();
      this.closed = Promise.resolve();
      return Promise.reject(new HanetError('HANET_ERR_ABORTED', `link ${this.name}: aborted before bind`, { cause: signal.reason }));
    }
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        signal?.removeEventListener('abort', onAbortBind);
        this.socket.close();
        this.closed = Promise.resolve();
        reject(new HanetError('HANET_ERR_SOCKET', `link ${this.name}: cannot bind UDP ${this.localAddress}:${port}: ${err.message}`, { cause: err }));
      };
      const onAbortBind = (): void => {
        this.socket.off('error', onError);
        void this.close();
        reject(new HanetError('HANET_ERR_ABORTED', `link ${this.name}: aborted while binding`, { cause: signal?.reason }));
      };
      signal?.addEventListener('abort', onAbortBind, { once: true });
      this.socket.once('error', onError);
      this.socket.bind({ address: this.localAddress, port, exclusive: false }, () => {
        this.socket.off('error', onError);
        signal?.removeEventListener('abort', onAbortBind);
        signal?.addEventListener('abort', this.onAbort, { once: true });
        this.signal = signal;
        resolve();
      });
    });
  }

  private signal: AbortSignal | undefined;

  send(msg: ControlMessage): void {
    const { bytes } = this.sender.encode(this.peer, msg); // throws on an invalid message: a bug, not a transport error
    if (this.closed) {
      this.counters.sendErrors++;
      this.counters.lastSendError = 'link closed';
      return;
    }
    this.socket.send(bytes, this.peerPort, this.peerAddress, (err) => {
      if (err) {
        this.counters.sendErrors++;
        this.counters.lastSendError = err.message;
      } else {
        this.counters.sent++;
        this.counters.bytesSent += bytes.length;
      }
    });
  }

  onMessage(cb: (m: ReceivedMessage) => void): () => void {
    this.messageListeners.add(cb);
    return () => { this.messageListeners.delete(cb); };
  }

  onReject(cb: (r: RejectEvent) => void): () => void {
    this.rejectListeners.add(cb);
    return () => { this.rejectListeners.delete(cb); };
  }

  stats(): LinkStats {
    return { ...this.counters, rejected: { ...this.counters.rejected } };
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.signal?.removeEventListener('abort', this.onAbort);
      this.closed = new Promise((resolve) => {
        try {
          this.socket.close(() => resolve());
        } catch {
          resolve(); // already closed
        }
      });
    }
    return this.closed;
  }

  /** Handles one datagram (public for tests that feed bytes without a socket). */
  receive(bytes: Buffer, from: string): void {
    const at = this.now();
    const r = decodeControl(this.key, bytes, { recipient: this.sender.node });
    if (!r.ok) {
      this.reject({ reason: r.reason, from, at, bytes: bytes.length, ...(r.detail !== undefined ? { detail: r.detail } : {}) });
      return;
    }
    const env = r.envelope;
    if (env.sender !== this.peer) {
      this.reject({ reason: 'unexpected-sender', from, at, bytes: bytes.length, sender: env.sender, detail: `expected ${this.peer}` });
      return;
    }
    const v = this.guard.admit(env);
    if (!v.ok) {
      this.reject({ reason: v.reason, from, at, bytes: bytes.length, sender: env.sender, detail: `session ${env.session} seq ${env.seq} sent ${env.sentAt}` });
      return;
    }
    this.counters.received++;
    this.counters.bytesReceived += bytes.length;
    this.counters.lastReceivedAt = at;
    const m: ReceivedMessage = { link: this.name, envelope: env, message: r.message, receivedAt: at };
    for (const cb of this.messageListeners) cb(m);
  }

  private reject(e: Omit<RejectEvent, 'link'>): void {
    this.counters.rejected[e.reason]++;
    const ev: RejectEvent = { link: this.name, ...e };
    for (const cb of this.rejectListeners) cb(ev);
  }
}
