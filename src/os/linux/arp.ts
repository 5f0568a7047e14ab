// ARP on one interface through an AF_PACKET SOCK_DGRAM socket bound to ETH_P_ARP: gratuitous ARP,
// probes (sender 0.0.0.0) and reply notifications, driven by uv_poll readiness; drain() reads synchronously.
//
// Clock: `atMs` is performance.now() (monotonic, ms since process start) taken when the frame is read
// from the socket, not when it arrived; call drain() before judging a probe timeout so that a stalled
// event loop does not turn a received reply into a false failure.
import { performance } from 'node:perf_hooks';
import { HanetError } from '../../errors.js';
import { ARP_LEN, ARP_REPLY, BROADCAST_MAC, arpProbe, decodeArp, encodeArp, gratuitousArp } from '../../proto/arp.js';
import { isIp } from '../../core/ip.js';
import { formatMac, parseMac } from '../../proto/inet.js';
import { AF_PACKET, ETH_P_ARP, SOCK_DGRAM, htons, isNativeError, native, sockaddrLl, type NativePoller } from './native.js';

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
  /** read pending frames now (before judging probe timeouts) */
  drain(): void;
  close(): void;
}

class PacketArpSocket implements ArpSocket {
  private fd: number;
  private readonly ifindex: number;
  private readonly poller: NativePoller;
  private readonly buf = Buffer.alloc(256);
  private readonly dest: Buffer;
  private readonly listeners: ((r: ArpReplyEvent) => void)[] = [];
  private readonly announcementListeners: ((a: ArpAnnouncement) => void)[] = [];
  private closed = false;

  constructor(private readonly ifname: string) {
    const n = native();
    let ifindex: number;
    try {
      ifindex = n.ifNameToIndex(ifname);
    } catch (e) {
      throw sockErr(`open ARP socket on ${ifname}: no such interface`, e);
    }
    this.ifindex = ifindex;
    this.dest = sockaddrLl(ifindex, ETH_P_ARP, parseMac(BROADCAST_MAC));
    try {
      this.fd = n.socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ARP));
    } catch (e) {
      throw sockErr(`open ARP socket on ${ifname}`, e);
    }
    try {
      n.bind(this.fd, sockaddrLl(ifindex, ETH_P_ARP));
      this.poller = new n.Poller(this.fd, n.constants.UV_READABLE, () => this.drain());
    } catch (e) {
      n.close(this.fd);
      throw sockErr(`bind ARP socket to ${ifname}`, e);
    }
    // Frames from other interfaces may have been queued between socket() and bind(): discard them.
    while (n.recvfrom(this.fd, this.buf) !== null) { /* discard */ }
  }

  /** The interface's current MAC, from the bound packet socket's address (follows MAC changes). */
  mac(): string {
    const sa = native().getsockname(this.fd);
    const halen = sa[11] ?? 0;
    return formatMac(sa.subarray(12, 12 + Math.min(halen, 8)));
  }

  private send(pkt: Uint8Array, what: string): void {
    if (this.closed) throw new HanetError('HANET_ERR_SOCKET', `${what} on ${this.ifname}: socket closed`);
    try {
      native().sendto(this.fd, Buffer.from(pkt.buffer, pkt.byteOffset, pkt.byteLength), this.dest);
    } catch (e) {
      throw sockErr(`${what} on ${this.ifname}`, e);
    }
  }

  sendGratuitous(ip: string): void {
    if (!isIp(ip, 4)) throw new HanetError('HANET_ERR_SOCKET', `gratuitous ARP: '${ip}' is not an IPv4 address`);
    this.send(encodeArp(gratuitousArp(ip, this.mac())), `gratuitous ARP for ${ip}`);
  }

  sendProbe(targetIp: string): void {
    if (!isIp(targetIp, 4)) throw new HanetError('HANET_ERR_SOCKET', `ARP probe: '${targetIp}' is not an IPv4 address`);
    this.send(encodeArp(arpProbe(targetIp, this.mac())), `ARP probe for ${targetIp}`);
  }

  onReply(cb: (r: ArpReplyEvent) => void): () => void {
    return subscribe(this.listeners, cb);
  }

  onAnnouncement(cb: (a: ArpAnnouncement) => void): () => void {
    return subscribe(this.announcementListeners, cb);
  }

  drain(): void {
    const n = native();
    while (!this.closed) {
      let r;
      try {
        r = n.recvfrom(this.fd, this.buf);
      } catch (e) {
        if (isNativeError(e) && (e.code === 'ENETDOWN' || e.code === 'ENOBUFS')) continue; // transient: keep reading
        throw sockErr(`ARP receive on ${this.ifname}`, e);
      }
      if (r === null) return;
      const atMs = performance.now();
      // sockaddr_ll: ifindex at offset 4; ignore anything not from our interface.
      if (r.address.length >= 8 && r.address.readInt32LE(4) !== this.ifindex) continue;
      if (r.length < ARP_LEN) continue;
      const d = decodeArp(new Uint8Array(this.buf.buffer, this.buf.byteOffset, Math.min(r.length, this.buf.length)));
      if (!d.ok || d.value.senderIp === '0.0.0.0') continue;
      const v = d.value;
      if (v.senderIp === v.targetIp && this.announcementListeners.length > 0 && v.senderMac !== this.mac()) { // gratuitous ARPs are rare: the MAC is read at each (it may change)
        const a: ArpAnnouncement = { ip: v.senderIp, mac: v.senderMac, atMs };
        for (const l of [...this.announcementListeners]) l(a);
      }
      if (v.op !== ARP_REPLY) continue;
      const ev: ArpReplyEvent = { senderIp: v.senderIp, senderMac: v.senderMac, atMs };
      for (const l of [...this.listeners]) l(ev);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller.stop();
    try { native().close(this.fd); } catch { /* ignore */ }
    this.fd = -1;
    this.listeners.length = 0;
    this.announcementListeners.length = 0;
  }
}

function subscribe<T>(list: T[], cb: T): () => void {
  list.push(cb);
  return () => {
    const i = list.indexOf(cb);
    if (i !== -1) list.splice(i, 1);
  };
}

function sockErr(what: string, e: unknown): HanetError {
  if (e instanceof HanetError) return e;
  if (isNativeError(e) && (e.code === 'EPERM' || e.code === 'EACCES')) {
    return new HanetError('HANET_ERR_PERMISSION', `${what}: ${e.message} (needs CAP_NET_RAW)`, { cause: e });
  }
  return new HanetError('HANET_ERR_SOCKET', `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/** Opens an ARP socket on `ifname` (needs CAP_NET_RAW). */
export function openArp(ifname: string): ArpSocket & { mac(): string } {
  return new PacketArpSocket(ifname);
}
