// ARP on one interface through an AF_PACKET SOCK_DGRAM socket bound to ETH_P_ARP: gratuitous ARP,
// probes (sender 0.0.0.0) and reply notifications, driven by uv_poll readiness; drain() reads synchronously.
//
// Clock: `atMs` is performance.now() (monotonic, ms since process start) taken when the frame is read
// from the socket, not when it arrived; call drain() before judging a probe timeout so that a stalled
// event loop does not turn a received reply into a false failure.
import { HanetError } from '../../errors.js';
import { ARP_LEN, ARP_REPLY, BROADCAST_MAC, arpProbe, decodeArp, encodeArp, gratuitousArp } from '../../proto/arp.js';
import { isIp } from '../../core/ip.js';
import { parseMac } from '../../proto/inet.js';
import { ETH_P_ARP } from './native.js';
import { Listeners, PACKET_OUTGOING_TYPE, PacketSocket, SKF_AD_PKTTYPE, bpfProgram } from './packet-socket.js';

export interface ArpReplyEvent { senderIp: string; senderMac: string; atMs: number }
/** Another host announced `ip` (a gratuitous ARP: sender IP = target IP) from `mac`, which is not this interface's. */
export interface ArpAnnouncement { ip: string; mac: string; atMs: number }

export interface ArpSocket {
  /** request, sip = tip = ip, sha = this interface's MAC, broadcast */
  sendGratuitous(ip: string): void;
  /** request, sip 0.0.0.0 (no cache pollution), broadcast */
  sendProbe(targetIp: string): void;
  /** Every ARP reply received on the interface (sender 0.0.0.0 ignored). Returns an unsubscribe function. */
  onReply(cb: (r: ArpReplyEvent) => void): () => void;
  /** Gratuitous ARPs of other hosts (another node now answers for an address). Returns an unsubscribe function. */
  onAnnouncement(cb: (a: ArpAnnouncement) => void): () => void;
  /** This interface's MAC address (read from the socket, so a changed MAC is seen). Fakes may leave it out. */
  mac?(): string;
  /** read pending frames now (before judging probe timeouts) */
  drain(): void;
  close(): void;
}

const BROADCAST = parseMac(BROADCAST_MAC)!;

class PacketArpSocket extends PacketSocket implements ArpSocket {
  private readonly replies = new Listeners<ArpReplyEvent>();
  private readonly announcements = new Listeners<ArpAnnouncement>();

  constructor(ifname: string, opts: ArpOptions) {
    super(ifname, 'ARP', ETH_P_ARP, { bufferSize: 256, ...(opts.announcementsOnly ? { filter: garpFilterProgram() } : {}) });
  }

  sendGratuitous(ip: string): void {
    if (!isIp(ip, 4)) throw new HanetError('HANET_ERR_SOCKET', `gratuitous ARP: '${ip}' is not an IPv4 address`);
    this.sendPacket(encodeArp(gratuitousArp(ip, this.mac())), BROADCAST, `gratuitous ARP for ${ip}`);
  }

  sendProbe(targetIp: string): void {
    if (!isIp(targetIp, 4)) throw new HanetError('HANET_ERR_SOCKET', `ARP probe: '${targetIp}' is not an IPv4 address`);
    this.sendPacket(encodeArp(arpProbe(targetIp, this.mac())), BROADCAST, `ARP probe for ${targetIp}`);
  }

  onReply(cb: (r: ArpReplyEvent) => void): () => void { return this.replies.on(cb); }
  onAnnouncement(cb: (a: ArpAnnouncement) => void): () => void { return this.announcements.on(cb); }

  protected handle(packet: Uint8Array, _sourceMac: string, atMs: number): void {
    if (packet.length < ARP_LEN) return;
    const d = decodeArp(packet);
    if (!d.ok || d.value.senderIp === '0.0.0.0') return;
    const v = d.value;
    if (v.senderIp === v.targetIp && this.announcements.size > 0 && v.senderMac !== this.mac()) { // gratuitous ARPs are rare: the MAC is read at each (it may change)
      this.announcements.emit({ ip: v.senderIp, mac: v.senderMac, atMs });
    }
    if (v.op === ARP_REPLY) this.replies.emit({ senderIp: v.senderIp, senderMac: v.senderMac, atMs });
  }

  protected clearListeners(): void {
    this.replies.clear();
    this.announcements.clear();
  }
}

export interface ArpOptions {
  /**
   * Receive only other hosts' gratuitous ARPs (announcements), filtered in the kernel: when the native link monitor
   * probes, the many ARP requests and replies on a LAN (every node probes its gateway 100 times a second) must not
   * wake this process.
   */
  announcementsOnly?: boolean;
}

/** Classic BPF over the ARP packet: incoming, sender IP = target IP, sender IP not 0.0.0.0. */
export function garpFilterProgram(): Buffer {
  return bpfProgram([
    [0x20, 0, 0, SKF_AD_PKTTYPE],      // 0: ld pkttype
    [0x15, 6, 0, PACKET_OUTGOING_TYPE],// 1: jeq outgoing -> drop
    [0x20, 0, 0, 14],                  // 2: ld [14] sender IP
    [0x15, 4, 0, 0],                   // 3: jeq 0 -> drop
    [0x07, 0, 0, 0],                   // 4: tax
    [0x20, 0, 0, 24],                  // 5: ld [24] target IP
    [0x1d, 0, 1, 0],                   // 6: jeq x -> accept, else drop
    [0x06, 0, 0, 0x40000],             // 7: accept
    [0x06, 0, 0, 0],                   // 8: drop
  ]);
}

/** Opens an ARP socket on `ifname` (needs CAP_NET_RAW). */
export function openArp(ifname: string, opts: ArpOptions = {}): ArpSocket & { mac(): string; takePacketCount(): number } {
  return new PacketArpSocket(ifname, opts);
}
