// Datagrams of the `udp` private link (a routed private network): IP packets sealed with AES-256-GCM, and hanet
// control messages, on one UDP socket. Pure codec + per-session replay window; decode never throws.
//
//   data     01 | session (8) | counter u64 BE (8) | AES-256-GCM(IP packet) | tag (16)     AAD = the first 17 bytes
//   control  02 | control message (src/proto/control.ts: its own HMAC, sequence number and replay guard)
//
// Keys: per sending session, HKDF-SHA256(cluster key, salt = session id, info = "hanet udp data v1 <from>><to>").
// A fresh random session id at every link open gives a fresh key, so the 96-bit nonce (4 zero bytes + counter)
// never repeats under one key even though the counter restarts; the direction in `info` means a packet cannot be
// reflected back to its sender. Overhead: 33 bytes + UDP/IPv4 28 = 61 bytes per packet.
// Why AES-GCM and not a truncated HMAC: the same per-packet cost here (~5 µs per 1400-byte packet in Node 20, most
// of it per-call overhead; HMAC-SHA256 was ~3 µs) and it also hides the traffic from the routed network.
//
// Replay protection for data (a judgment call): a 1024-packet sliding window per session, as IPsec/WireGuard do.
// Packets of sessions evicted from the 4-entry cache can be replayed once after a peer restart; a replayed IP
// packet is a duplicate the transport above already handles (TCP discards it by sequence number), so this
// bounds the nuisance without persisting state.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

export const TUNNEL_DATA = 0x01;
export const TUNNEL_CONTROL = 0x02;
export const TUNNEL_HEADER_BYTES = 17;
export const TUNNEL_TAG_BYTES = 16;
export const TUNNEL_OVERHEAD = TUNNEL_HEADER_BYTES + TUNNEL_TAG_BYTES;
/** UDP (8) + IPv4 (20) headers of the underlay. */
export const UDP4_OVERHEAD = 28;
export const REPLAY_WINDOW_PACKETS = 1024;
const MAX_SESSIONS = 4;

export const TUNNEL_DROP_REASONS = ['truncated', 'bad-type', 'bad-tag', 'replay', 'too-old'] as const;
export type TunnelDropReason = (typeof TUNNEL_DROP_REASONS)[number];

/** The largest inner MTU for an underlay MTU (IPv4). 1500 -> 1439; the default link MTU is 1420 (margin for options). */
export const tunnelMtu = (underlayMtu: number): number => underlayMtu - UDP4_OVERHEAD - TUNNEL_OVERHEAD;

export function deriveTunnelKey(clusterKey: Buffer, session: Buffer, from: string, to: string): Buffer {
  return Buffer.from(hkdfSync('sha256', clusterKey, session, `hanet udp data v1 ${from}>${to}`, 32));
}

/** Seals this node's packets to one peer: one random session per instance, counter from 1. */
export class TunnelSealer {
  readonly session: Buffer;
  private readonly key: Buffer;
  private counter = 0;
  private readonly iv = Buffer.alloc(12);

  constructor(clusterKey: Buffer, from: string, to: string, session: Buffer = randomBytes(8)) {
    this.session = session;
    this.key = deriveTunnelKey(clusterKey, session, from, to);
  }

  seal(pkt: Uint8Array): Buffer {
    const c = ++this.counter;
    const out = Buffer.allocUnsafe(TUNNEL_HEADER_BYTES + pkt.length + TUNNEL_TAG_BYTES);
    out[0] = TUNNEL_DATA;
    this.session.copy(out, 1);
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

export type OpenResult = { ok: true; packet: Buffer; session: string } | { ok: false; reason: TunnelDropReason };

/** Opens the peer's data packets: per-session keys (derived on first sight, up to 4 cached) and replay windows. */
export class TunnelOpener {
  private readonly sessions = new Map<string, { key: Buffer; window: ReplayWindow }>();
  private readonly iv = Buffer.alloc(12);

  constructor(private readonly clusterKey: Buffer, private readonly from: string, private readonly to: string) {}

  open(d: Uint8Array): OpenResult {
    if (d.length < TUNNEL_OVERHEAD) return { ok: false, reason: 'truncated' };
    if (d[0] !== TUNNEL_DATA) return { ok: false, reason: 'bad-type' };
    const buf = Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.byteLength);
    const sid = buf.toString('hex', 1, 9);
    const hi = buf.readUInt32BE(9);
    const lo = buf.readUInt32BE(13);
    // Counters above 2^53 never occur (285 years at 1 Mpps); such a header is forged or corrupt.
    if (hi > 0x1fffff) return { ok: false, reason: 'bad-tag' };
    const c = hi * 0x1_0000_0000 + lo;
    let s = this.sessions.get(sid);
    const fresh = !s;
    s ??= { key: deriveTunnelKey(this.clusterKey, buf.subarray(1, 9), this.from, this.to), window: new ReplayWindow() };
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
    if (fresh) {
      this.sessions.set(sid, s);
      if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    }
    return { ok: true, packet, session: sid };
  }
}

export function encodeTunnelControl(msg: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(msg.length + 1);
  out[0] = TUNNEL_CONTROL;
  out.set(msg, 1);
  return out;
}
