// Datagrams of the `udp` private link (a routed private network): IP packets sealed with AES-256-GCM, and hanet
// control messages, on one UDP socket. Pure codec + replay window; decode never throws.
//
//   data     01 | session (8) | counter u64 BE (8) | AES-256-GCM(IP packet) | tag (16)     AAD = the first 17 bytes
//   control  02 | control message (src/proto/control.ts: its own HMAC, sequence number and session binding)
//
// Data keys belong to a pair of live daemons: for the direction from -> to on link L,
//   key = HKDF-SHA256(cluster key, salt = from's session || to's session, info = "hanet udp data v2 L from>to")
// where the sessions are the two daemons' control sessions (random at each start) and `session` in the header is
// the sender's. A receiver opens data only from the peer session its control replay guard has ADOPTED (which
// only happens once that session proved it is live, by naming our fresh nonce: src/proto/replay.ts), with the key
// of (that session, its own session), and keeps exactly that one receive state. Packets of any earlier session
// of the peer are refused before any crypto ('stale-session'); packets sealed for an earlier session of ours
// do not authenticate ('bad-tag'). Adoption only moves forward, so no sequence of replayed sessions can bring an
// old key back: the 4-session cache that issue #11 cycled (50 of 50 old packets replayed) is gone.
// The 96-bit GCM nonce is 4 zero bytes + the counter; a key is used by exactly one sealer (one per daemon, link
// and peer session: the link keeps it across reopens), so a (key, nonce) pair never repeats. Direction and link
// are in `info`: a packet cannot be reflected to its sender or moved to another link.
// Overhead: 33 bytes + UDP/IPv4 28 = 61 bytes per packet. AES-GCM costs ~5 µs per 1400-byte packet in Node 20
// (most of it per-call overhead) and also hides the traffic from the routed network.
//
// Replay protection within a session: a 1024-packet sliding window per receive state, as IPsec/WireGuard do.
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';

export const TUNNEL_DATA = 0x01;
export const TUNNEL_CONTROL = 0x02;
export const TUNNEL_HEADER_BYTES = 17;
export const TUNNEL_TAG_BYTES = 16;
export const TUNNEL_OVERHEAD = TUNNEL_HEADER_BYTES + TUNNEL_TAG_BYTES;
/** UDP (8) + IPv4 (20) headers of the underlay. */
export const UDP4_OVERHEAD = 28;
export const REPLAY_WINDOW_PACKETS = 1024;

/** 'no-session': no session of the peer adopted yet; 'stale-session': a packet of another (earlier) peer session. */
export const TUNNEL_DROP_REASONS = ['truncated', 'bad-type', 'bad-tag', 'replay', 'too-old', 'stale-session', 'no-session'] as const;
export type TunnelDropReason = (typeof TUNNEL_DROP_REASONS)[number];

/** The largest inner MTU for an underlay MTU (IPv4). 1500 -> 1439; the default link MTU is 1420 (margin for options). */
export const tunnelMtu = (underlayMtu: number): number => underlayMtu - UDP4_OVERHEAD - TUNNEL_OVERHEAD;

/** One direction's data key. Sessions are 16 hex digits (control sessions). */
export function deriveTunnelKey(clusterKey: Buffer, link: string, from: { node: string; session: string }, to: { node: string; session: string }): Buffer {
  const salt = Buffer.concat([Buffer.from(from.session, 'hex'), Buffer.from(to.session, 'hex')]);
  return Buffer.from(hkdfSync('sha256', clusterKey, salt, `hanet udp data v2 ${link} ${from.node}>${to.node}`, 32));
}

/** Seals this daemon's packets to one session of the peer: counter from 1. */
export class TunnelSealer {
  /** The peer session this sealer's key is for. */
  readonly peerSession: string;
  private readonly header = Buffer.alloc(TUNNEL_HEADER_BYTES);
  private readonly key: Buffer;
  private counter = 0;
  private readonly iv = Buffer.alloc(12);

  constructor(clusterKey: Buffer, link: string, from: { node: string; session: string }, to: { node: string; session: string }) {
    this.peerSession = to.session;
    this.key = deriveTunnelKey(clusterKey, link, from, to);
    this.header[0] = TUNNEL_DATA;
    this.header.write(from.session, 1, 'hex');
  }

  seal(pkt: Uint8Array): Buffer {
    const c = ++this.counter;
    const out = Buffer.allocUnsafe(TUNNEL_HEADER_BYTES + pkt.length + TUNNEL_TAG_BYTES);
    this.header.copy(out, 0, 0, 9);
    out.writeBigUInt64BE(BigInt(c), 9);
    this.iv.writeUInt32BE(Math.floor(c / 0x1_0000_0000), 4);
    this.iv.writeUInt32BE(c >>> 0, 8);
    const ci = createCipheriv('aes-256-gcm', this.key, this.iv, { authTagLength: TUNNEL_TAG_BYTES });
    ci.setAAD(out.subarray(0, TUNNEL_HEADER_BYTES));
    const n = ci.update(pkt).copy(out, TUNNEL_HEADER_BYTES);
    ci.final();
    ci.getAuthTag().copy(out, TUNNEL_HEADER_BYTES + n);
    return out;
  }
}

/** Sliding window over packet counters (bitmap ring of REPLAY_WINDOW_PACKETS bits). */
export class ReplayWindow {
  private top = 0;
  private readonly bits = new Uint32Array(REPLAY_WINDOW_PACKETS / 32);

  /** Would `c` be accepted? (No state change: call commit after the packet authenticated.) */
  check(c: number): 'ok' | 'replay' | 'too-old' {
    if (c > this.top) return 'ok';
    if (this.top - c >= REPLAY_WINDOW_PACKETS) return 'too-old';
    const i = c % REPLAY_WINDOW_PACKETS;
    return this.bits[i >>> 5]! & (1 << (i & 31)) ? 'replay' : 'ok';
  }

  commit(c: number): void {
    if (c > this.top) {
      const diff = c - this.top;
      if (diff >= REPLAY_WINDOW_PACKETS) this.bits.fill(0);
      else for (let k = this.top + 1; k <= c; k++) { const i = k % REPLAY_WINDOW_PACKETS; this.bits[i >>> 5] = (this.bits[i >>> 5] ?? 0) & ~(1 << (i & 31)); }
      this.top = c;
    }
    const i = c % REPLAY_WINDOW_PACKETS;
    this.bits[i >>> 5] = (this.bits[i >>> 5] ?? 0) | (1 << (i & 31));
  }
}

export type OpenResult = { ok: true; packet: Buffer } | { ok: false; reason: TunnelDropReason };

/**
 * Opens the peer's data packets on one link: exactly one receive state, for the peer session the caller names
 * (the replay guard's adopted one); a new session replaces it, with a new key and window.
 */
export class TunnelOpener {
  private state: { session: string; id: Buffer; key: Buffer; window: ReplayWindow } | undefined;
  private readonly iv = Buffer.alloc(12);

  /** `from`: the peer's node name; `to`: this daemon (node name and control session). */
  constructor(private readonly clusterKey: Buffer, private readonly link: string, private readonly from: string, private readonly to: { node: string; session: string }) {}

  /** The peer session whose packets are accepted now (after the first packet of it, or undefined). */
  get session(): string | undefined { return this.state?.session; }

  open(d: Uint8Array, peerSession: string | undefined): OpenResult {
    if (d.length < TUNNEL_OVERHEAD) return { ok: false, reason: 'truncated' };
    if (d[0] !== TUNNEL_DATA) return { ok: false, reason: 'bad-type' };
    if (peerSession === undefined) return { ok: false, reason: 'no-session' };
    const buf = Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    if (this.state?.session !== peerSession) {
      this.state = {
        session: peerSession, id: Buffer.from(peerSession, 'hex'), window: new ReplayWindow(),
        key: deriveTunnelKey(this.clusterKey, this.link, { node: this.from, session: peerSession }, this.to),
      };
    }
    const s = this.state;
    if (buf.compare(s.id, 0, 8, 1, 9) !== 0) return { ok: false, reason: 'stale-session' };
    const hi = buf.readUInt32BE(9);
    const lo = buf.readUInt32BE(13);
    // Counters above 2^53 never occur (285 years at 1 Mpps); such a header is forged or corrupt.
    if (hi > 0x1fffff) return { ok: false, reason: 'bad-tag' };
    const c = hi * 0x1_0000_0000 + lo;
    const w = s.window.check(c);
    if (w !== 'ok') return { ok: false, reason: w };
    buf.copy(this.iv, 4, 9, 17);
    const tagAt = buf.length - TUNNEL_TAG_BYTES;
    let packet: Buffer;
    try {
      const de = createDecipheriv('aes-256-gcm', s.key, this.iv, { authTagLength: TUNNEL_TAG_BYTES });
      de.setAAD(buf.subarray(0, TUNNEL_HEADER_BYTES));
      de.setAuthTag(buf.subarray(tagAt));
      packet = de.update(buf.subarray(TUNNEL_HEADER_BYTES, tagAt));
      de.final();
    } catch {
      return { ok: false, reason: 'bad-tag' };
    }
    s.window.commit(c);
    return { ok: true, packet };
  }
}

export function encodeTunnelControl(msg: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(msg.length + 1);
  out[0] = TUNNEL_CONTROL;
  out.set(msg, 1);
  return out;
}
