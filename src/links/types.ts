// The private link interface: one control-message channel to one peer, whatever carries it (ethernet: UDP on a
// kernel-forwarded interface; serial: frames on a tty; udp: a datagram type in the tunnel). The daemon talks to
// peers only through this; open one with openPrivateLink (src/links/open.ts).
import type { PeerMessage } from '../core/messages.js';
import type { PrivateLinkKind } from '../core/types.js';
import type { ControlEnvelope, RejectReason } from '../proto/control.js';
import type { SerialLinkStats } from './serial.js';
import type { UdpTunnelStats } from './udp-tunnel.js';

export type { PrivateLinkKind };

/** An accepted message: authenticated, addressed to us, from the link's peer, not a replay. */
export interface ReceivedMessage {
  link: string;
  envelope: ControlEnvelope;
  message: PeerMessage;
  /** Receiver's clock, ms since the epoch. */
  receivedAt: number;
}

/** A dropped message, for logs (rate-limit them) and metrics. */
export interface RejectEvent {
  link: string;
  reason: RejectReason;
  /** Transport address it came from, e.g. "192.168.100.2:7431". */
  from: string;
  /** The claimed sender, when the header could be read and authenticated. */
  sender?: string;
  detail?: string;
  at: number;
  bytes: number;
}

export interface LinkStats {
  sent: number;
  sendErrors: number;
  bytesSent: number;
  received: number;
  bytesReceived: number;
  /** Dropped messages by reason (every reason present, 0 if none). */
  rejected: Record<RejectReason, number>;
  lastReceivedAt?: number;
  /** Heartbeats re-sent at once to complete a session-binding handshake (src/links/control-rx.ts). */
  handshakeAnswers?: number;
  lastSendError?: string;
  /** The kind's own counters (serial line, udp tunnel). */
  serial?: SerialLinkStats['serial'];
  udp?: UdpTunnelStats['udp'];
}

export interface PrivateLink {
  readonly name: string;
  readonly kind: PrivateLinkKind;
  /** The peer node at the other end. */
  readonly peer: string;
  /** Sends a message to the peer. Never throws on transport errors (counted in stats); throws HANET_ERR_PROTOCOL on an invalid message. */
  send(msg: PeerMessage): void;
  /** Subscribes to accepted messages; returns an unsubscribe function. */
  onMessage(cb: (m: ReceivedMessage) => void): () => void;
  /** Subscribes to dropped messages; returns an unsubscribe function. */
  onReject(cb: (r: RejectEvent) => void): () => void;
  stats(): LinkStats;
  close(): Promise<void>;
}
