// A private link over a routed network: IP packets between a TUN device and one UDP socket, sealed with AES-GCM
// (src/proto/udp-tunnel.ts), and hanet control messages on the same socket. Implements PrivateLink for the control
// part; the core sees the TUN like any private interface. The kernel here has no GRE/IPIP/WireGuard, so the bridge
// is in userspace: addon socket + uv_poll, reads drained in bursts (no per-packet promises or streams).
import { lookup } from 'node:dns/promises';
import { isIp } from '../core/ip.js';
import { HanetError } from '../errors.js';
import type { PeerMessage } from '../core/messages.js';
import type { ControlKey, ControlSender } from '../proto/control.js';
import type { ReplayGuard } from '../proto/replay.js';
import { encodeTunnelControl, TUNNEL_CONTROL, TUNNEL_DATA, TUNNEL_DROP_REASONS, TunnelOpener, TunnelSealer, type TunnelDropReason } from '../proto/udp-tunnel.js';
import { AF_INET, isNativeError, native, SOCK_DGRAM, SOL_SOCKET, SO_RCVBUF, SO_RCVBUFFORCE, SO_SNDBUF, type NativePoller } from '../os/linux/native.js';
import type { PacketPort, TunStats } from '../os/linux/tun.js';
import { ControlChannel } from './control-rx.js';
import type { LinkStats, PrivateLink, ReceivedMessage, RejectEvent } from './types.js';

export interface UdpTunnelStats extends LinkStats {
  udp: {
    local: string;
    remote: string;
    txPackets: number;
    txBytes: number;
    txErrors: number;
    lastTxError?: string;
    rxPackets: number;
    rxBytes: number;
    /** Datagrams dropped, by reason (authentication, replay, framing). */
    dropped: Record<TunnelDropReason | 'tun-refused', number>;
    tun: TunStats;
  };
}

export interface UdpTunnelLinkOptions {
  name: string;
  peer: string;
  key: ControlKey;
  /** The raw cluster key (data keys are derived from it per session). */
  clusterKey: Buffer;
  sender: ControlSender;
  guard: ReplayGuard;
  /** Underlay bind address and port. */
  localAddress: string;
  localPort: number;
  /** Peer's underlay host (IPv4 or a name resolved once at open) and port. */
  remoteHost: string;
  remotePort: number;
  tun: PacketPort;
  now?: () => number;
}

/** struct sockaddr_in { u16 family; be16 port; be32 addr; u8 zero[8] } */
export function sockaddrIn(ip: string, port: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AF_INET, 0);
  b.writeUInt16BE(port, 2);
  ip.split('.').forEach((o, i) => { b[4 + i] = Number(o); });
  return b;
}

const READ_BURST = 64;
const SOCKET_BUFFER = 4 << 20;
const SO_SNDBUFFORCE = 32;

export class UdpTunnelLink implements PrivateLink {
  readonly kind = 'udp' as const;
  readonly name: string;
  readonly peer: string;
  private readonly channel: ControlChannel;
  private readonly sealer: TunnelSealer;
  private readonly opener: TunnelOpener;
  private readonly poller: NativePoller;
  private readonly rbuf = Buffer.allocUnsafe(65536);
  private closed = false;
  private readonly s: Omit<UdpTunnelStats['udp'], 'tun'>;

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
    const n = native();
    const fd = n.socket(AF_INET, SOCK_DGRAM, 0);
    try {
      for (const [force, plain] of [[SO_RCVBUFFORCE, SO_RCVBUF], [SO_SNDBUFFORCE, SO_SNDBUF]] as const) {
        try { n.setsockopt(fd, SOL_SOCKET, force, SOCKET_BUFFER); } catch { try { n.setsockopt(fd, SOL_SOCKET, plain, SOCKET_BUFFER); } catch { /* default */ } }
      }
      n.setsockopt(fd, SOL_SOCKET, 2 /* SO_REUSEADDR */, 1);
      n.bind(fd, sockaddrIn(opts.localAddress, opts.localPort));
    } catch (e) {
      n.close(fd);
      throw new HanetError('HANET_ERR_SOCKET', `link ${opts.name}: cannot bind UDP ${opts.localAddress}:${opts.localPort}: ${(e as Error).message}`, { cause: e });
    }
    return new UdpTunnelLink(opts, fd, remote);
  }

  private readonly to: Buffer;

  private constructor(private readonly o: UdpTunnelLinkOptions, private readonly fd: number, remote: string) {
    this.name = o.name;
    this.peer = o.peer;
    this.to = sockaddrIn(remote, o.remotePort);
    this.channel = new ControlChannel({ name: o.name, peer: o.peer, node: o.sender.node, key: o.key, guard: o.guard, ...(o.now ? { now: o.now } : {}) });
    this.sealer = new TunnelSealer(o.clusterKey, o.sender.node, o.peer);
    this.opener = new TunnelOpener(o.clusterKey, o.peer, o.sender.node);
    this.s = {
      local: `${o.localAddress}:${o.localPort}`, remote: `${remote}:${o.remotePort}`,
      txPackets: 0, txBytes: 0, txErrors: 0, rxPackets: 0, rxBytes: 0,
      dropped: Object.fromEntries([...TUNNEL_DROP_REASONS, 'tun-refused'].map((r) => [r, 0])) as Record<TunnelDropReason | 'tun-refused', number>,
    };
    const n = native();
    this.poller = new n.Poller(fd, n.constants.UV_READABLE, (status) => { if (status >= 0) this.drain(); });
    o.tun.onPacket((pkt) => this.transmit(this.sealer.seal(pkt)));
    o.tun.setCarrier(true);
  }

  private transmit(d: Buffer): boolean {
    if (this.closed) return false;
    try {
      native().sendto(this.fd, d, this.to);
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

  private drain(): void {
    const n = native();
    for (let i = 0; i < READ_BURST && !this.closed; i++) {
      let r;
      try {
        r = n.recvfrom(this.fd, this.rbuf);
      } catch {
        continue; // ECONNREFUSED etc. from an earlier send's ICMP error: reported once, the socket stays usable
      }
      if (!r) return;
      if (r.truncated || r.length === 0) { this.s.dropped.truncated++; continue; }
      const d = this.rbuf.subarray(0, r.length);
      this.s.rxPackets++;
      this.s.rxBytes += r.length;
      if (d[0] === TUNNEL_DATA) {
        const o = this.opener.open(d);
        if (!o.ok) { this.s.dropped[o.reason]++; continue; }
        if (!this.o.tun.write(o.packet)) this.s.dropped['tun-refused']++;
      } else if (d[0] === TUNNEL_CONTROL) {
        this.channel.receive(Buffer.from(d.subarray(1)), `${formatSockaddr(r.address)}`);
      } else {
        this.s.dropped['bad-type']++;
      }
    }
  }

  send(msg: PeerMessage): void {
    const { bytes } = this.o.sender.encode(this.peer, msg);
    if (this.closed) { this.channel.sendFailed('link closed'); return; }
    if (this.transmit(encodeTunnelControl(bytes))) this.channel.sent(bytes.length);
    else this.channel.sendFailed(this.s.lastTxError ?? 'send failed');
  }

  onMessage(cb: (m: ReceivedMessage) => void): () => void { return this.channel.onMessage(cb); }
  onReject(cb: (r: RejectEvent) => void): () => void { return this.channel.onReject(cb); }

  stats(): UdpTunnelStats {
    return { ...this.channel.stats(), udp: { ...this.s, dropped: { ...this.s.dropped }, tun: this.o.tun.stats() } };
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.poller.stop();
      native().close(this.fd);
      this.o.tun.close();
    }
    return Promise.resolve();
  }
}

function formatSockaddr(b: Buffer): string {
  if (b.length >= 8 && b.readUInt16LE(0) === AF_INET) return `${b[4]}.${b[5]}.${b[6]}.${b[7]}:${b.readUInt16BE(2)}`;
  return '?';
}
