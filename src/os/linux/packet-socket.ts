// The plumbing shared by hanet's AF_PACKET SOCK_DGRAM sockets on one interface (ARP: arp.ts, NDP: ndp.ts): open and
// bind to the interface (optionally behind a BPF filter), uv_poll readiness, synchronous drain(), reply listeners,
// the interface's MAC, errors. Subclasses encode what they send and decode what they receive.
import { performance } from 'node:perf_hooks';
import { HanetError } from '../../errors.js';
import { formatMac } from '../../proto/inet.js';
import { AF_PACKET, PACKET_STATISTICS, SOCK_DGRAM, SOL_PACKET, isNativeError, native, sockaddrLl, type NativePoller } from './native.js';

const PACKET_OUTGOING = 4;

/** A classic BPF program from [code, jt, jf, k] instructions (struct sock_filter, little-endian on x86/arm). */
export function bpfProgram(ins: Array<[code: number, jt: number, jf: number, k: number]>): Buffer {
  const b = Buffer.alloc(ins.length * 8);
  ins.forEach(([code, jt, jf, k], i) => { b.writeUInt16LE(code, i * 8); b[i * 8 + 2] = jt; b[i * 8 + 3] = jf; b.writeUInt32LE(k >>> 0, i * 8 + 4); });
  return b;
}
/** Ancillary BPF load of the packet type (SKF_AD_OFF + SKF_AD_PKTTYPE), and the type of what this host sends. */
export const SKF_AD_PKTTYPE = 0xfffff004;
export const PACKET_OUTGOING_TYPE = 4;

/** Subscribers of one kind of event; on() returns the unsubscribe function. */
export class Listeners<T> {
  private readonly list: ((e: T) => void)[] = [];
  get size(): number { return this.list.length; }
  on(cb: (e: T) => void): () => void {
    this.list.push(cb);
    return () => {
      const i = this.list.indexOf(cb);
      if (i !== -1) this.list.splice(i, 1);
    };
  }
  emit(e: T): void { for (const l of [...this.list]) l(e); }
  clear(): void { this.list.length = 0; }
}

export abstract class PacketSocket {
  private fd: number;
  protected readonly ifindex: number;
  private readonly poller: NativePoller;
  private readonly buf: Buffer;
  private closed = false;

  /** `what` names the socket in errors ("ARP", "NDP"); `protocol` is the ethertype it receives. */
  constructor(protected readonly ifname: string, private readonly what: string, private readonly protocol: number,
    opts: { filter?: Buffer; bufferSize: number }) {
    const n = native();
    try {
      this.ifindex = n.ifNameToIndex(ifname);
    } catch (e) {
      throw sockErr(`open ${what} socket on ${ifname}: no such interface`, e);
    }
    this.buf = Buffer.alloc(opts.bufferSize);
    try {
      // Protocol 0: the socket receives nothing until bind() names the protocol and the interface (and the filter,
      // if any, is in place by then), so no frame of another interface is ever queued.
      this.fd = n.socket(AF_PACKET, SOCK_DGRAM, 0);
    } catch (e) {
      throw sockErr(`open ${what} socket on ${ifname}`, e);
    }
    try {
      if (opts.filter) n.attachFilter(this.fd, opts.filter);
      n.bind(this.fd, sockaddrLl(this.ifindex, protocol));
      this.poller = new n.Poller(this.fd, n.constants.UV_READABLE, () => this.drain());
    } catch (e) {
      n.close(this.fd);
      throw sockErr(`bind ${what} socket to ${ifname}`, e);
    }
  }

  /** The interface's current MAC, from the bound packet socket's address (follows MAC changes). */
  mac(): string {
    const sa = native().getsockname(this.fd);
    const halen = sa[11] ?? 0;
    return formatMac(sa.subarray(12, 12 + Math.min(halen, 8)));
  }

  /** Packets that passed the filter since the last call (PACKET_STATISTICS tp_packets; read-and-reset). */
  takePacketCount(): number {
    return native().getsockoptInt(this.fd, SOL_PACKET, PACKET_STATISTICS);
  }

  /** Sends one packet (network layer; the kernel adds the Ethernet header) to `dstMac` on the interface. */
  protected sendPacket(pkt: Uint8Array, dstMac: Uint8Array, what: string): void {
    if (this.closed) throw new HanetError('HANET_ERR_SOCKET', `${what} on ${this.ifname}: socket closed`);
    try {
      native().sendto(this.fd, Buffer.from(pkt.buffer, pkt.byteOffset, pkt.byteLength), sockaddrLl(this.ifindex, this.protocol, dstMac));
    } catch (e) {
      throw sockErr(`${what} on ${this.ifname}`, e);
    }
  }

  /** Handles one received packet (its events go to the subclass's listeners). `sourceMac` is the Ethernet source. */
  protected abstract handle(packet: Uint8Array, sourceMac: string, atMs: number): void;

  /** Drops every listener (at close). */
  protected abstract clearListeners(): void;

  /** Reads pending packets now (before judging probe timeouts), delivering their events synchronously. */
  drain(): void {
    const n = native();
    while (!this.closed) {
      let r;
      try {
        r = n.recvfrom(this.fd, this.buf);
      } catch (e) {
        if (isNativeError(e) && (e.code === 'ENETDOWN' || e.code === 'ENOBUFS')) continue; // transient: keep reading
        throw sockErr(`${this.what} receive on ${this.ifname}`, e);
      }
      if (r === null) return;
      const atMs = performance.now();
      // sockaddr_ll: ifindex at 4, pkttype at 10, halen at 11, address at 12; only our interface's incoming packets
      if (r.address.length < 12 || r.address.readInt32LE(4) !== this.ifindex || r.address[10] === PACKET_OUTGOING) continue;
      const sourceMac = formatMac(r.address.subarray(12, 12 + Math.min(r.address[11] ?? 0, 8)));
      this.handle(new Uint8Array(this.buf.buffer, this.buf.byteOffset, Math.min(r.length, this.buf.length)), sourceMac, atMs);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller.stop();
    try { native().close(this.fd); } catch { /* ignore */ }
    this.fd = -1;
    this.clearListeners();
  }
}

/** A HanetError for a failed socket call: HANET_ERR_PERMISSION without CAP_NET_RAW, else HANET_ERR_SOCKET. */
export function sockErr(what: string, e: unknown): HanetError {
  if (e instanceof HanetError) return e;
  if (isNativeError(e) && (e.code === 'EPERM' || e.code === 'EACCES')) {
    return new HanetError('HANET_ERR_PERMISSION', `${what}: ${e.message} (needs CAP_NET_RAW)`, { cause: e });
  }
  return new HanetError('HANET_ERR_SOCKET', `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}
