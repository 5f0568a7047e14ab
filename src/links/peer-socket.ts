// The UDP socket of a private link (the ethernet link's control socket, the udp link's tunnel socket), made in the
// addon so that it is locked to its link: it never shares its port (no SO_REUSEADDR/SO_REUSEPORT: another user's
// bind fails with EADDRINUSE), it is bound to the link's interface (SO_BINDTODEVICE: a datagram that arrives on
// any other interface, e.g. from the public LAN to the private address, finds no socket and is dropped by the
// kernel), and it is connected to the peer's address and port (the kernel drops datagrams from anyone else).
//
// Measured in the lab before this (issue #11): a `nobody` process that bound the same address and port with
// SO_REUSEADDR received ~70 control datagrams in 1.5 s and the daemon none; datagrams from the LAN reached the
// daemon. Bound to its device, the socket survives the device going down and up (the binding is by ifindex).
// connect() fails while the device is administratively down (ENETUNREACH: the kernel's route lookup for a
// device-bound socket needs the device up, but no route), so an unconnected socket retries at most every
// CONNECT_RETRY_MS from send() and meanwhile drops, in userspace, datagrams whose source is not the peer.
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import { canonicalIp } from '../core/ip.js';
import { HanetError } from '../errors.js';
import {
  AF_INET, formatSockaddrIn, isNativeError, native, sockaddrIn, SOCK_DGRAM, SOL_SOCKET, SO_BINDTODEVICE, SO_RCVBUF, SO_RCVBUFFORCE, SO_SNDBUF,
  SO_SNDBUFFORCE, type NativePoller,
} from '../os/linux/native.js';

export interface PeerSocketOptions {
  /** The link's name (error messages). */
  name: string;
  localAddress: string;
  localPort: number;
  /** The interface to bind to; undefined: not bound to one (a wildcard local address, or tests on loopback). */
  device?: string | undefined;
  peerAddress: string;
  peerPort: number;
  /** SO_RCVBUF/SO_SNDBUF (forced past the sysctl limits when allowed); default: the kernel's. */
  bufferBytes?: number;
  /** Each datagram from the peer; `d` is only valid during the call. */
  onDatagram(d: Buffer): void;
  /** Datagrams dropped by this socket itself: truncated, or from another source before the socket was connected. */
  onDrop?(why: 'truncated' | 'wrong-source', from: string): void;
}

const READ_BURST = 64;
const SO_ERROR = 4;
const CONNECT_RETRY_MS = 100;

/**
 * The interface holding `address` in this network namespace (the udp link's underlay), or undefined if none
 * does or it is the loopback: an address on `lo` (a routed host reachable over several uplinks) receives on the
 * uplinks, so binding to `lo` would cut it off; such a socket is only connected, not bound to a device.
 */
export function deviceHolding(address: string): string | undefined {
  const want = canonicalIp(address);
  if (want === undefined) return undefined;
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (addrs?.some((a) => !a.internal && canonicalIp(a.address) === want)) return name;
  }
  return undefined;
}

export class PeerSocket {
  readonly fd: number;
  private poller: NativePoller;
  private readonly peer: Buffer;
  private readonly rbuf = Buffer.allocUnsafe(65536);
  private isConnected = false;
  private lastConnectTry = -Infinity;
  private closed = false;
  /** Why the last connect() failed (errno name), while unconnected. */
  connectError: string | undefined;

  /** Creates, binds and (if it can) connects the socket. Throws HANET_ERR_SOCKET if the bind fails. */
  static open(o: PeerSocketOptions): PeerSocket {
    const n = native();
    const peer = sockaddrIn(o.peerAddress, o.peerPort);
    const local = sockaddrIn(o.localAddress, o.localPort);
    const fd = n.socket(AF_INET, SOCK_DGRAM, 0);
    try {
      if (o.bufferBytes !== undefined) {
        for (const [force, plain] of [[SO_RCVBUFFORCE, SO_RCVBUF], [SO_SNDBUFFORCE, SO_SNDBUF]] as const) {
          try { n.setsockopt(fd, SOL_SOCKET, force, o.bufferBytes); } catch { try { n.setsockopt(fd, SOL_SOCKET, plain, o.bufferBytes); } catch { /* default */ } }
        }
      }
      // Before bind: the port is then reserved on this device only, and nobody can bind it there with reuse flags.
      if (o.device !== undefined) n.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, Buffer.from(`${o.device}\0`));
      n.bind(fd, local);
    } catch (e) {
      n.close(fd);
      const dev = o.device !== undefined ? ` on ${o.device}` : '';
      throw new HanetError('HANET_ERR_SOCKET', `link ${o.name}: cannot bind UDP ${o.localAddress}:${o.localPort}${dev}: ${(e as Error).message}`, { cause: e });
    }
    return new PeerSocket(o, fd, peer);
  }

  private constructor(private readonly o: PeerSocketOptions, fd: number, peer: Buffer) {
    this.fd = fd;
    this.peer = peer;
    this.tryConnect(0);
    this.poller = this.watch();
  }

  /**
   * A readiness watcher on the socket. libuv stops a uv_poll handle for good when poll() reports POLLERR, which
   * a connected UDP socket gets from every ICMP error (port unreachable while the peer's daemon is down: a pending
   * ECONNREFUSED); measured in the lab: the link never received again. So on an error the error is cleared
   * (SO_ERROR), what is pending is read, and a new watcher takes over.
   */
  private watch(): NativePoller {
    const n = native();
    return new n.Poller(this.fd, n.constants.UV_READABLE, (status) => {
      if (status >= 0) { this.drain(); return; }
      this.pollErrors++;
      try { n.getsockoptInt(this.fd, SOL_SOCKET, SO_ERROR); } catch { /* cleared or closed */ }
      this.poller.stop();
      if (this.closed) return;
      this.poller = this.watch();
      this.drain();
    });
  }

  /** How often the watcher had to be renewed after a socket error (ICMP errors from the peer's address). */
  pollErrors = 0;

  /** Whether the kernel filters by source (connect() succeeded). */
  get connected(): boolean { return this.isConnected; }

  /** The bound local port (useful with port 0). */
  get localPort(): number { return native().getsockname(this.fd).readUInt16BE(2); }

  private tryConnect(now: number): void {
    if (this.isConnected || now - this.lastConnectTry < CONNECT_RETRY_MS) return;
    this.lastConnectTry = now;
    try {
      native().connect(this.fd, this.peer);
      this.isConnected = true;
      this.connectError = undefined;
    } catch (e) {
      this.connectError = isNativeError(e) ? e.code : String(e);
    }
  }

  /** Sends one datagram to the peer. Throws the addon's error (EAGAIN, ENETUNREACH, ECONNREFUSED, ...). */
  send(d: Buffer): void {
    if (this.closed) throw new HanetError('HANET_ERR_SOCKET', `link ${this.o.name}: socket closed`);
    if (!this.isConnected) this.tryConnect(performance.now());
    native().sendto(this.fd, d, this.isConnected ? null : this.peer);
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
      if (r.truncated || r.length === 0) { this.o.onDrop?.('truncated', formatSockaddrIn(r.address)); continue; }
      // Connected: the kernel already filtered. Not yet: compare family, port and address (sockaddr_in bytes 0-7).
      if (!this.isConnected && (r.address.length < 8 || !r.address.subarray(0, 8).equals(this.peer.subarray(0, 8)))) {
        this.o.onDrop?.('wrong-source', formatSockaddrIn(r.address));
        continue;
      }
      this.o.onDatagram(this.rbuf.subarray(0, r.length));
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller.stop();
    native().close(this.fd);
  }
}
