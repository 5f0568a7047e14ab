// A private link over a routed network: IP packets between a TUN device and one UDP socket, sealed with AES-GCM
// (src/proto/udp-tunnel.ts), and hanet control messages on the same socket. Implements PrivateLink for the control
// part; the core sees the TUN like any private interface. The kernel here has no GRE/IPIP/WireGuard, so the bridge
// is in userspace: addon socket + uv_poll, reads drained in bursts (no per-packet promises or streams).
// The socket (src/links/peer-socket.ts) is bound to the underlay's interface, shared with nobody and connected to
// the peer's underlay address and port. Data keys follow the control sessions the replay guard adopted: until the
// first control round trip after either end starts, data is dropped (txNoSession, 'no-session').
import { lookup } from 'node:dns/promises';
import { isIp } from '../core/ip.js';
import { HanetError } from '../errors.js';
import type { PeerMessage } from '../core/messages.js';
import type { ControlKey, ControlSender } from '../proto/control.js';
import type { ReplayGuard } from '../proto/replay.js';
import { encodeTunnelControl, TUNNEL_CONTROL, TUNNEL_DATA, TUNNEL_DROP_REASONS, TunnelOpener, TunnelSealer, type TunnelDropReason } from '../proto/udp-tunnel.js';
import { isNativeError } from '../os/linux/native.js';
import type { PacketPort, TunStats } from '../os/linux/tun.js';
import { ControlChannel } from './control-rx.js';
import { deviceHolding, PeerSocket } from './peer-socket.js';
import type { LinkStats, PrivateLink, ReceivedMessage, RejectEvent } from './types.js';

export interface UdpTunnelStats extends LinkStats {
  udp: {
    local: string;
    remote: string;
    /** The interface the socket is bound to (null: none). */
    device: string | null;
    /** Whether the socket is connected to the peer (the kernel filters by source). */
    connected: boolean;
    txPackets: number;
    txBytes: number;
    txErrors: number;
    lastTxError?: string;
    /** Packets from the TUN dropped because no session of the peer is adopted yet (control handshake pending). */
    txNoSession: number;
    rxPackets: number;
    rxBytes: number;
    /** Datagrams dropped, by reason (authentication, replay, session, framing, source). */
    dropped: Record<TunnelDropReason | 'tun-refused' | 'wrong-source', number>;
    tun: TunStats;
  };
}

export interface UdpTunnelLinkOptions {
  name: string;
  peer: string;
  key: ControlKey;
  /** The raw cluster key (data keys are derived from it per pair of sessions). */
  clusterKey: Buffer;
  sender: ControlSender;
  guard: ReplayGuard;
  /** Underlay bind address and port. */
  localAddress: string;
  localPort: number;
  /**
   * The interface the socket is bound to. Left out: the one holding `localAddress` (the underlay's interface), none
   * if that is the loopback (see deviceHolding); given as undefined: none. Datagrams arriving on any other
   * interface find no socket.
   */
  device?: string | undefined;
  /** Peer's underlay host (IPv4 or a name resolved once at open) and port. */
  remoteHost: string;
  remotePort: number;
  tun: PacketPort;
  now?: () => number;
}

const SOCKET_BUFFER = 4 << 20;

/**
 * The sealer of each (daemon, link), kept across link objects: its key belongs to (our session, the peer's
 * session, link), so a link reopened in the same daemon must continue the counter, never restart it under the
 * same key (a repeated AES-GCM nonce).
 */
const sealers = new WeakMap<ControlSender, Map<string, TunnelSealer>>();

export class UdpTunnelLink implements PrivateLink {
  readonly kind = 'udp' as const;
  readonly name: string;
  readonly peer: string;
  private readonly channel: ControlChannel;
  private readonly opener: TunnelOpener;
  private readonly socket: PeerSocket;
  private readonly sealers: Map<string, TunnelSealer>;
  private closed = false;
  private readonly s: Omit<UdpTunnelStats['udp'], 'tun' | 'connected'>;

  /** Resolves the remote, binds the socket and starts the bridge. Throws HANET_ERR_SOCKET if the bind fails. */
  static async open(opts: UdpTunnelLinkOptions): Promise<UdpTunnelLink> {
    let remote = opts.remoteHost;
    if (!isIp(remote, 4)) {
      try {
        remote = (await lookup(remote, { family: 4 })).address;
      } catch (e) {
        throw new HanetError('HANET_ERR_CONFIG', `link ${opts.name}: cannot resolve ${opts.remoteHost}: ${(e as Error).message}`, { cause: e });
      }
    }
    return new UdpTunnelLink(opts, remote);
  }

  private constructor(private readonly o: UdpTunnelLinkOptions, remote: string) {
    this.name = o.name;
    this.peer = o.peer;
    this.channel = new ControlChannel({ name: o.name, peer: o.peer, sender: o.sender, key: o.key, guard: o.guard, ...(o.now ? { now: o.now } : {}) });
    this.opener = new TunnelOpener(o.clusterKey, o.name, o.peer, { node: o.sender.node, session: o.sender.session });
    let perSender = sealers.get(o.sender);
    if (!perSender) sealers.set(o.sender, (perSender = new Map()));
    this.sealers = perSender;
    const device = 'device' in o ? o.device : deviceHolding(o.localAddress);
    this.s = {
      local: `${o.localAddress}:${o.localPort}`, remote: `${remote}:${o.remotePort}`, device: device ?? null,
      txPackets: 0, txBytes: 0, txErrors: 0, txNoSession: 0, rxPackets: 0, rxBytes: 0,
      dropped: Object.fromEntries([...TUNNEL_DROP_REASONS, 'tun-refused', 'wrong-source'].map((r) => [r, 0])) as UdpTunnelStats['udp']['dropped'],
    };
    const from = this.s.remote;
    this.socket = PeerSocket.open({
      name: o.name, localAddress: o.localAddress, localPort: o.localPort, device, peerAddress: remote, peerPort: o.remotePort,
      bufferBytes: SOCKET_BUFFER,
      onDatagram: (d) => this.receive(d, from),
      onDrop: (why) => { this.s.dropped[why]++; },
    });
    this.channel.setResend((m) => this.send(m));
    o.tun.onPacket((pkt) => this.fromTun(pkt));
    o.tun.setCarrier(true);
  }

  /** The sealer for the peer's adopted session (none before the control handshake adopted one). */
  private sealer(): TunnelSealer | undefined {
    const peerSession = this.o.guard.adoptedSession(this.peer);
    if (peerSession === undefined) return undefined;
    let s = this.sealers.get(this.name);
    if (s?.peerSession !== peerSession) {
      s = new TunnelSealer(this.o.clusterKey, this.name, { node: this.o.sender.node, session: this.o.sender.session }, { node: this.peer, session: peerSession });
      this.sealers.set(this.name, s);
    }
    return s;
  }

  private fromTun(pkt: Buffer): void {
    const s = this.sealer();
    if (!s) { this.s.txNoSession++; return; }
    this.transmit(s.seal(pkt));
  }

  private transmit(d: Buffer): boolean {
    if (this.closed) return false;
    try {
      this.socket.send(d);
      this.s.txPackets++;
      this.s.txBytes += d.length;
      return true;
    } catch (e) {
      // EAGAIN (socket buffer full), ENETUNREACH/EHOSTUNREACH (underlay route gone), ECONNREFUSED (peer not there).
      this.s.txErrors++;
      this.s.lastTxError = isNativeError(e) ? e.code : String(e);
      return false;
    }
  }

  private receive(d: Buffer, from: string): void {
    this.s.rxPackets++;
    this.s.rxBytes += d.length;
    if (d[0] === TUNNEL_DATA) {
      const r = this.opener.open(d, this.o.guard.adoptedSession(this.peer));
      if (!r.ok) { this.s.dropped[r.reason]++; return; }
      if (!this.o.tun.write(r.packet)) this.s.dropped['tun-refused']++;
    } else if (d[0] === TUNNEL_CONTROL) {
      this.channel.receive(d.subarray(1), from);
    } else {
      this.s.dropped['bad-type']++;
    }
  }

  send(msg: PeerMessage): void {
    const bytes = this.channel.encode(msg);
    if (this.closed) { this.channel.sendFailed('link closed'); return; }
    if (this.transmit(encodeTunnelControl(bytes))) this.channel.sent(bytes.length);
    else this.channel.sendFailed(this.s.lastTxError ?? 'send failed');
  }

  onMessage(cb: (m: ReceivedMessage) => void): () => void { return this.channel.onMessage(cb); }
  onReject(cb: (r: RejectEvent) => void): () => void { return this.channel.onReject(cb); }

  stats(): UdpTunnelStats {
    return { ...this.channel.stats(), udp: { ...this.s, connected: this.socket.connected, dropped: { ...this.s.dropped }, tun: this.o.tun.stats() } };
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.socket.close();
      this.o.tun.close();
    }
    return Promise.resolve();
  }
}
