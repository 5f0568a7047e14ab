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
import type { PeerMessage } from '../core/messages.js';
import type { ControlKey, ControlSender } from '../proto/control.js';
import type { ReplayGuard } from '../proto/replay.js';
import { ControlChannel } from './control-rx.js';
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


export class UdpControlLink implements PrivateLink {
  readonly kind = 'ethernet' as const;
  readonly name: string;
  readonly peer: string;
  readonly localAddress: string;
  readonly peerAddress: string;
  readonly peerPort: number;
  private readonly sender: ControlSender;
  private readonly socket: Socket;
  /** The receive pipeline and counters, shared with the links that frame control messages themselves. */
  private readonly channel: ControlChannel;
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
    this.sender = opts.sender;
    this.channel = new ControlChannel({ name: opts.name, peer: opts.peer, node: opts.sender.node, key: opts.key, guard: opts.guard, ...(opts.now ? { now: opts.now } : {}) });
    this.socket = createSocket({ type: 'udp4', reuseAddr: true });
    this.socket.on('message', (buf, rinfo) => this.receive(buf, `${rinfo.address}:${rinfo.port}`));
    // After bind, socket errors (e.g. ICMP-triggered) must not crash the daemon; the link stays usable.
    this.socket.on('error', (err) => { this.channel.counters.lastSendError = err.message; });
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

  send(msg: PeerMessage): void {
    const { bytes } = this.sender.encode(this.peer, msg); // throws on an invalid message: a bug, not a transport error
    if (this.closed) {
      this.channel.sendFailed('link closed');
      return;
    }
    this.socket.send(bytes, this.peerPort, this.peerAddress, (err) => {
      if (err) this.channel.sendFailed(err.message);
      else this.channel.sent(bytes.length);
    });
  }

  onMessage(cb: (m: ReceivedMessage) => void): () => void {
    return this.channel.onMessage(cb);
  }

  onReject(cb: (r: RejectEvent) => void): () => void {
    return this.channel.onReject(cb);
  }

  stats(): LinkStats {
    return this.channel.stats();
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
    this.channel.receive(bytes, from);
  }
}
