// Typed loader for the native addon, plus Linux constants and sockaddr builders shared by the netlink, ARP and TUN
// code. The addon is found by node-gyp-build: build/Release/ first (a dev checkout: `npm ci` compiles it), then
// prebuilds/<platform>-<arch>/ (the installed package: `npm pack` puts the prebuilt addon there).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HanetError } from '../../errors.js';
import { formatIp, parseIp } from '../../core/ip.js';

/** Result of a non-blocking receive: `length` is the datagram's real size (may exceed the buffer: `truncated`). */
export interface RecvResult { length: number; address: Buffer; truncated: boolean }

/** A libuv readiness watcher (uv_poll_t). stop() is idempotent; stop before closing the fd. */
export interface NativePoller { stop(): void; ref(): void; unref(): void }

export interface NativeAddon {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, sockaddr: Buffer): void;
  sendto(fd: number, data: Buffer, sockaddr: Buffer | null): number;
  /** null when nothing is pending (EAGAIN). */
  recvfrom(fd: number, buf: Buffer): RecvResult | null;
  /** null when nothing is pending (EAGAIN). */
  read(fd: number, buf: Buffer): number | null;
  write(fd: number, buf: Buffer): number;
  setsockopt(fd: number, level: number, name: number, value: number | Buffer): void;
  getsockoptInt(fd: number, level: number, name: number): number;
  getsockname(fd: number): Buffer;
  /** connect(2): a UDP socket then exchanges datagrams with that address only. Throws e.g. ENETUNREACH. */
  connect(fd: number, sockaddr: Buffer): void;
  close(fd: number): void;
  ifNameToIndex(name: string): number;
  openTun(name: string, flags: number): { fd: number; name: string };
  /** TUN carrier on/off (TUNSETCARRIER): a private link whose line is gone shows as NO-CARRIER. */
  tunSetCarrier(fd: number, on: boolean): void;
  /** Raw 8N1 termios at `baud` (no flow control, CLOCAL), pending I/O flushed. Throws EINVAL for a rate termios lacks. */
  setSerial(fd: number, baud: number): void;
  /** Bytes queued for output in the tty driver (TIOCOUTQ), -1 if unknown. */
  outq(fd: number): number;
  /** A pseudo-terminal pair: master fd (non-blocking) and the slave's path (set raw). */
  openPty(): { master: number; slave: string };
  /** SO_ATTACH_FILTER with a classic BPF program (8-byte struct sock_filter entries, host byte order). */
  attachFilter(fd: number, program: Buffer): void;
  Poller: new (fd: number, events: number, cb: (status: number, events: number) => void) => NativePoller;
  constants: { UV_READABLE: number; UV_WRITABLE: number; IFF_TUN: number; IFF_TAP: number; IFF_NO_PI: number };
}

/** Errors thrown by the addon carry the errno name as `code` (e.g. 'EPERM'). */
export interface NativeError extends Error { code: string; errno: number; syscall: string }
export const isNativeError = (e: unknown): e is NativeError =>
  e instanceof Error && typeof (e as Partial<NativeError>).errno === 'number' && typeof (e as Partial<NativeError>).code === 'string';

let cached: NativeAddon | undefined;

/** The package's root: the nearest directory above this module holding package.json (dist/src/os/linux -> root). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/** Loads the addon once. Throws HanetError('HANET_ERR_NATIVE') with a hint when no build fits this machine. */
export function native(): NativeAddon {
  if (cached) return cached;
  const root = packageRoot();
  const require = createRequire(import.meta.url);
  try {
    const load = require('node-gyp-build') as (dir: string) => unknown;
    cached = load(root) as NativeAddon;
    return cached;
  } catch (e) {
    throw new HanetError('HANET_ERR_NATIVE', `cannot load the native addon from ${root} (no build in build/Release and no prebuild for ` +
      `${process.platform}-${process.arch} in prebuilds/): build it from source with \`cd ${root} && npm run build:addon\` ` +
      '(needs python3, make and g++; docs/install.md)', { cause: e });
  }
}

// Linux constants (x86_64 and aarch64 share these values).
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SO_SNDBUF = 7;
export const SO_RCVBUFFORCE = 33;
export const SO_SNDBUFFORCE = 32;
export const SO_BINDTODEVICE = 25;
export const SOL_PACKET = 263;
export const SOL_NETLINK = 270;
export const NETLINK_ROUTE = 0;
export const NETLINK_ADD_MEMBERSHIP = 1;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;
export const NETLINK_GET_STRICT_CHK = 12;
export const ETH_P_ARP = 0x0806;
export const ETH_P_ALL = 0x0003;
export const ETH_P_IPV6 = 0x86dd;
/** getsockopt(SOL_PACKET): struct tpacket_stats { tp_packets; tp_drops }, read-and-reset; the first int is tp_packets. */
export const PACKET_STATISTICS = 6;

/** struct sockaddr_nl { u16 family; u16 pad; u32 pid; u32 groups } */
export function sockaddrNl(pid = 0, groups = 0): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16LE(AF_NETLINK, 0);
  b.writeUInt32LE(pid >>> 0, 4);
  b.writeUInt32LE(groups >>> 0, 8);
  return b;
}

/** struct sockaddr_ll { u16 family; be16 protocol; s32 ifindex; u16 hatype; u8 pkttype; u8 halen; u8 addr[8] } */
export function sockaddrLl(ifindex: number, protocol: number, addr?: Uint8Array): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16LE(AF_PACKET, 0);
  b.writeUInt16BE(protocol, 2);
  b.writeInt32LE(ifindex, 4);
  if (addr) {
    b.writeUInt8(Math.min(addr.length, 8), 11);
    Buffer.from(addr.subarray(0, 8)).copy(b, 12);
  }
  return b;
}

/** struct sockaddr_in { u16 family; be16 port; be32 addr; u8 zero[8] }. Throws HANET_ERR_CONFIG for a non-IPv4 address. */
export function sockaddrIn(ip: string, port: number): Buffer {
  const p = parseIp(ip);
  if (p?.family !== 4) throw new HanetError('HANET_ERR_CONFIG', `${JSON.stringify(ip)} is not an IPv4 address`);
  const b = Buffer.alloc(16);
  b.writeUInt16LE(AF_INET, 0);
  b.writeUInt16BE(port, 2);
  b.set(p.bytes, 4);
  return b;
}

/** "address:port" of a struct sockaddr_in (as recvfrom returns it), or "?" for another family. */
export function formatSockaddrIn(b: Buffer): string {
  if (b.length < 8 || b.readUInt16LE(0) !== AF_INET) return '?';
  return `${formatIp(b.subarray(4, 8)) ?? '?'}:${b.readUInt16BE(2)}`;
}

/** Network-byte-order protocol as sockaddr_ll/socket() expect it (htons). */
export const htons = (v: number): number => ((v & 0xff) << 8) | ((v >> 8) & 0xff);

// ---- link monitor (native/monitor.cc); kept apart from the loader above ----

/** A byte pattern at an offset of the Ethernet frame: (frame[offset+i] & mask[i]) == (value[i] & mask[i]). */
export interface NativeByteMatch { offset: number; value: Buffer; mask?: Buffer }
/** `reply`: answers the probe; otherwise life (passive liveness). ethertype -1: any. */
export interface NativeFrameRule { reply: boolean; ethertype: number; bytes: NativeByteMatch[] }
export interface NativeMonitorConfig {
  interfaces: Array<{
    ifname: string;
    carrierIntervalMs: number;
    targets: Array<{ id: string; intervalMs: number; frame: Buffer; rules: NativeFrameRule[]; unicast?: boolean }>;
  }>;
}
/** Which path of the monitor saw a link change (native/monitor.cc emits exactly these). */
export type NativeLinkSource = 'start' | 'event' | 'poll' | 'resync';
/** Observations as the addon reports them; `at` is CLOCK_MONOTONIC in ms. */
export type NativeObservation =
  | { type: 'link'; iface: string; at: number; present: boolean; up: boolean; lowerUp: boolean; ifindex: number; mac: string; source: NativeLinkSource }
  | { type: 'miss'; iface: string; at: number; target: string; misses: number; lastReplyAt?: number }
  | { type: 'reply'; iface: string; at: number; target: string; afterMisses: number; from: string; rttMs?: number }
  | { type: 'error'; iface: string; at: number; code: string; message: string };
export interface NativeTargetStats {
  id: string; misses: number; confirmed: boolean; sent: number; unicastSent: number; suppressed: number; replies: number; life: number; lifeSocket: boolean;
  sendErrors: number; missed: number; lastProbeAt?: number; lastReplyAt?: number; rttMs?: number;
}
export interface NativeIfaceStats {
  ifname: string; ifindex: number; present: boolean; up: boolean; lowerUp: boolean; socket: boolean; protocol: number;
  filtered: boolean; watched: boolean; carrierReads: number; carrierFile: boolean; carrierFileReads: number; linkEvents: number; frames: number; unmatched: number;
  targets: NativeTargetStats[];
}
export interface NativeMonitorStats { wakeups: number; jsWakeups: number; observations: number; interfaces: NativeIfaceStats[] }
export interface NativeMonitor {
  update(config: NativeMonitorConfig): void;
  /** null once closed */
  stats(): NativeMonitorStats | null;
  /** Stops and joins the thread and closes its fds; idempotent. */
  close(): void;
  ref(): void;
  unref(): void;
}
export interface NativeMonitorBinding {
  Monitor: new (config: NativeMonitorConfig, cb: (batch: NativeObservation[]) => void) => NativeMonitor;
  /** CLOCK_MONOTONIC now, ms (the clock of process.hrtime). */
  monotonicNowMs(): number;
}

/** The monitor part of the addon; throws HanetError('HANET_ERR_NATIVE') when the loaded addon predates it. */
export function monitorBinding(): NativeMonitorBinding {
  // The addon object carries these members when built from native/monitor.cc (binding.gyp); checked at run time.
  const n = native() as NativeAddon & Partial<NativeMonitorBinding>;
  const { Monitor, monotonicNowMs } = n;
  if (typeof Monitor !== 'function' || typeof monotonicNowMs !== 'function') {
    throw new HanetError('HANET_ERR_NATIVE', 'the native addon has no link monitor (rebuild it: `npm install`)');
  }
  return { Monitor, monotonicNowMs };
}
