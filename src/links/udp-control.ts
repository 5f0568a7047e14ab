// Control messages over UDP on an ethernet private link: a PrivateLink whose socket (src/links/peer-socket.ts) is
// bound to the link's interface and address, shares its port with nobody, and is connected to the peer's address
// and port; it passes on only authenticated, fresh messages from its peer addressed to this node.
//
// Receive pipeline: datagram (from the peer's address and port, on the link's interface: the kernel checked) ->
// decodeControl (framing, HMAC, recipient, body) -> sender must be the link's peer -> ReplayGuard.admit (session
// binding) -> onMessage. Every drop is counted by reason and reported to onReject (logs/metrics).
// The ControlSender (our session and sequence counter) and the ReplayGuard are passed in so that one of each is
// shared by every link of a daemon: sequence numbers then stay increasing per session across links, the session
// binding with a peer is the same on all links to it, and a message replayed from one link onto another is refused.
import { HanetError } from '../errors.js';
import type { PeerMessage } from '../core/messages.js';
import type { ControlKey, ControlSender } from '../proto/control.js';
import type { ReplayGuard } from '../proto/replay.js';
import { isNativeError } from '../os/linux/native.js';
import { ControlChannel } from './control-rx.js';
import { PeerSocket } from './peer-socket.js';
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
  /** The link's interface: the socket is bound to it (undefined: not bound to a device; tests on loopback). */
  device?: string | undefined;
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
  private readonly socket: PeerSocket;
  /** The receive pipeline and counters, shared with the links that frame control messages themselves. */
  private readonly channel: ControlChannel;
  private closed = false;
  private readonly signal: AbortSignal | undefined;
  private readonly onAbort = (): void => { void this.close(); };

  /** Binds the socket and returns the open link. Throws HANET_ERR_SOCKET if the bind fails, HANET_ERR_ABORTED if aborted. */
  static async open(opts: UdpControlLinkOptions): Promise<UdpControlLink> {
    if (opts.signal?.aborted) throw new HanetError('HANET_ERR_ABORTED', `link ${opts.name}: aborted before bind`, { cause: opts.signal.reason });
    return new UdpControlLink(opts);
  }

  private constructor(opts: UdpControlLinkOptions) {
    this.name = opts.name;
    this.peer = opts.peer;
    this.localAddress = opts.localAddress;
    this.peerAddress = opts.peerAddress;
    this.peerPort = opts.peerPort ?? opts.port ?? 7431;
    this.channel = new ControlChannel({ name: opts.name, peer: opts.peer, sender: opts.sender, key: opts.key, guard: opts.guard, ...(opts.now ? { now: opts.now } : {}) });
    const from = `${opts.peerAddress}:${this.peerPort}`;
    this.socket = PeerSocket.open({
      name: opts.name, localAddress: opts.localAddress, localPort: opts.localPort ?? opts.port ?? 7431, device: opts.device,
      peerAddress: opts.peerAddress, peerPort: this.peerPort,
      onDatagram: (d) => this.channel.receive(d, from), // decoded synchronously: nothing keeps the buffer
      onDrop: (why, src) => this.channel.dropped(why, src, 0),
    });
    this.channel.setResend((m) => this.send(m));
    this.signal = opts.signal;
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** The bound local port (useful with port 0). */
  get localPort(): number {
    return this.socket.localPort;
  }

  /** Socket errors (ICMP errors from the peer's address, e.g. its daemon not running) the socket recovered from. */
  get socketErrors(): number {
    return this.socket.pollErrors;
  }

  /** Whether the kernel filters datagrams by source (the socket is connected to the peer). */
  get connected(): boolean {
    return this.socket.connected;
  }

  send(msg: PeerMessage): void {
    const bytes = this.channel.encode(msg); // throws on an invalid message: a bug, not a transport error
    if (this.closed) {
      this.channel.sendFailed('link closed');
      return;
    }
    try {
      this.socket.send(bytes);
      this.channel.sent(bytes.length);
    } catch (e) {
      // EAGAIN (buffer full), ENETUNREACH (interface down), ECONNREFUSED (the peer's daemon is not running).
      this.channel.sendFailed(isNativeError(e) ? e.code : String(e));
    }
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
      this.closed = true;
      this.signal?.removeEventListener('abort', this.onAbort);
      this.socket.close();
    }
    return Promise.resolve();
  }

  /** Handles one datagram (public for tests that feed bytes without a socket). */
  receive(bytes: Buffer, from: string): void {
    this.channel.receive(bytes, from);
  }
}
