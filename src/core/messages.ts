// The messages hanet nodes exchange over their private links, as the core sees them. The core owns these types;
// the wire codec (src/proto/control.ts) validates bodies with schemas typed against them, so a field added here and
// not there (or there and not here) does not compile.

/** Addresses an owner asks one helper to hold: renewed by every heartbeat to that helper. */
export interface Claim {
  claimId: string;
  lan: string;
  addresses: string[];
  ownerLinkAddress: string;
  leaseMs: number;
}

/**
 * Echo of the peer's last heartbeat, for the heartbeat round-trip time (filled in and read by the daemon, which sees
 * the envelopes; the core ignores it): `seq` and `at` are that message's envelope sequence number and send time (the
 * peer's own clock, ms since the epoch), `holdMs` how long the echoing node held it. RTT = now - at - holdMs.
 */
export interface HeartbeatEcho { seq: number; at: number; holdMs?: number }

/**
 * What a node reports of one of its LANs: whether it can carry it (`healthy`), whether it reaches the LAN's gateway
 * (`gateway`: false during a gateway outage, while the port itself works), and its own service addresses there
 * (peers probe them to tell their own port's failure from the gateway's, and never help anyone else claim them).
 */
export interface LanReport { healthy: boolean; gateway?: boolean; addresses?: string[] }

export type PeerMessage =
  /** `link6`: the sender's IPv6 address on this link (the IPv6 next hop toward it), when it has one. */
  | { type: 'heartbeat'; ready?: boolean; lans: Record<string, LanReport>; canHelp: boolean; helping: string[]; claims: Claim[]; link6?: string; echo?: HeartbeatEcho }
  | ({ type: 'takeover' } & Claim)
  | { type: 'takeover-ack'; claimId: string; ok: boolean; reason?: string }
  | { type: 'release'; claimId: string }
  | { type: 'release-ack'; claimId: string };


export type PeerMessageType = PeerMessage['type'];
/** A message of one type, without its `type` tag: what the wire carries as the body. */
export type MessageBody<T extends PeerMessageType> = Omit<Extract<PeerMessage, { type: T }>, 'type'>;
export type HeartbeatMessage = Extract<PeerMessage, { type: 'heartbeat' }>;
