// Link monitor of public interfaces: a native thread (native/monitor.cc) reads the carrier, sends the probe frames
// built here by the TS codecs, matches replies, and wakes JavaScript only with observations that changed.
//
// Observations, not verdicts: the core (src/core/health.ts) keeps deciding. The thread applies the same rules:
// a probe is missed only if no reply arrived before the next probe was sent; a change of the carrier verdict
// (present && up && lowerUp) restarts miss counting; a `reply` is reported when it ends misses or is the first since
// that change. Times: `at` is on the performance.now() axis of this process (the daemon's clock); `monoMs` is
// CLOCK_MONOTONIC, comparable between processes of one host (and equal to process.hrtime.bigint() / 1e6).
import { performance } from 'node:perf_hooks';
import { HanetError } from '../../errors.js';
import { BROADCAST_MAC, ETHERTYPE_ARP, arpProbe, encodeEthernetArp } from '../../proto/arp.js';
import { ipBytes } from '../../core/ip.js';
import { ETHERTYPE_IPV6, ICMPV6_NA, IPPROTO_ICMPV6, ND_HOP_LIMIT, encodeNdp, multicastMac, neighborSolicitation } from '../../proto/ndp.js';
import { parseMac } from '../../proto/inet.js';
import {
  isNativeError, monitorBinding, type NativeFrameRule, type NativeLinkSource, type NativeMonitor, type NativeMonitorConfig, type NativeObservation,
  type NativeTargetStats,
} from './native.js';

/** A byte pattern at an offset of the Ethernet frame: matches when (frame[offset+i] & mask[i]) == (value[i] & mask[i]). */
export interface ByteMatch { offset: number; value: Uint8Array; mask?: Uint8Array }
/** `reply`: the frame answers the probe (ends misses). `life`: traffic we did not ask for that proves the path
 * (passive liveness): while the target is confirmed and nothing is missed, a slot with life frames sends no probe. */
export type FrameRuleKind = 'reply' | 'life';
/** Matches when the ethertype (if given) and every byte pattern match; patterns must lie in the first 256 bytes. */
export interface FrameRule { kind: FrameRuleKind; ethertype?: number; bytes?: ByteMatch[] }
/** One probed party on an interface (e.g. the gateway, or a peer's public address): its own miss count. */
/**
 * `unicast`: once the target answered, probe the Ethernet address that answered instead of the frame's destination
 * (a broadcast probe reaches every host on the LAN); back to the frame's destination after a miss or a carrier change.
 */
export interface ProbeTarget { id: string; intervalMs: number; frame: Uint8Array; rules: FrameRule[]; unicast?: boolean }
/** carrierIntervalMs: direct carrier reads (RTM_GETLINK) this often; 0 = netlink events only. */
export interface WatchedInterface { ifname: string; carrierIntervalMs: number; targets: ProbeTarget[] }
export interface MonitorConfig { interfaces: WatchedInterface[] }

/** Which path saw a link change: the first read, a netlink event, a periodic read, or a read after lost events. */
export type LinkSource = NativeLinkSource;
export interface LinkObservation {
  type: 'link'; iface: string; at: number; monoMs: number; present: boolean; up: boolean; lowerUp: boolean; ifindex: number; mac: string; source: LinkSource;
}
/** The target's miss count grew (from 0, or further); `lastReplyAt` on the `at` axis. */
export interface MissObservation { type: 'miss'; iface: string; target: string; at: number; monoMs: number; misses: number; lastReplyAt?: number }
/** A reply after misses (`afterMisses` > 0) or the first since the carrier verdict changed (`afterMisses` 0);
 * `at` is when the kernel received it, `from` the sender's MAC (e.g. the gateway's, for a life rule). */
export interface ReplyObservation {
  type: 'reply'; iface: string; target: string; at: number; monoMs: number; afterMisses: number; from: string; rttMs?: number;
}
/** A socket operation of the thread failed (reported once until the error changes); `code` is the errno name. */
export interface MonitorErrorObservation { type: 'error'; iface: string; at: number; monoMs: number; code: string; message: string }
export type MonitorObservation = LinkObservation | MissObservation | ReplyObservation | MonitorErrorObservation;

export interface TargetStats extends Omit<NativeTargetStats, 'lastProbeAt' | 'lastReplyAt'> { lastProbeAt?: number; lastReplyAt?: number }
export interface InterfaceStats {
  ifname: string; ifindex: number; present: boolean; up: boolean; lowerUp: boolean;
  /** the probe/reply socket is open; `protocol` it is bound to (0x0806 ARP, 3 = all); `filtered`: a BPF filter is
   * attached; `watched`: replies are read as they come (a target unconfirmed or missing), else at each probe slot */
  socket: boolean; protocol: number; filtered: boolean; watched: boolean;
  /** RTM_GETLINK reads; `carrierFile`: the sysfs carrier file is this device's and read every interval instead */
  carrierReads: number; carrierFile: boolean; carrierFileReads: number;
  linkEvents: number; frames: number; unmatched: number; targets: TargetStats[];
}
export interface MonitorStats {
  /** epoll wake-ups of the thread; `jsWakeups`: batches delivered to JavaScript; `observations` in them */
  wakeups: number; jsWakeups: number; observations: number; interfaces: InterfaceStats[];
}

export interface LinkMonitor {
  /** Replaces the configuration; state of interfaces and targets that stay (same name / id) is kept. */
  update(config: MonitorConfig): void;
  /** Observations in the order the thread made them. Returns an unsubscribe function. */
  onObservation(cb: (o: MonitorObservation) => void): () => void;
  /** The same, a batch at a time: what the thread saw in one wake-up (e.g. every target's miss of one probe round). */
  onBatch(cb: (os: MonitorObservation[]) => void): () => void;
  stats(): MonitorStats;
  /** Stops and joins the thread and closes its sockets; idempotent. */
  close(): void;
  /** While running the monitor keeps the event loop alive (default); unref() lets the process exit. */
  ref(): void;
  unref(): void;
}

/**
 * CLOCK_MONOTONIC minus performance.now(), in ms: the same clock (libuv's hrtime), so the offset is constant.
 * Sampled a few times; the tightest bracket wins (error below a few µs).
 */
export function monotonicOffsetMs(): number {
  const { monotonicNowMs } = monitorBinding();
  let best = Infinity, offset = 0;
  for (let i = 0; i < 5; i++) {
    const a = performance.now();
    const m = monotonicNowMs();
    const b = performance.now();
    if (b - a < best) { best = b - a; offset = m - (a + b) / 2; }
  }
  return offset;
}

function check(config: MonitorConfig): NativeMonitorConfig {
  const bad = (msg: string): never => { throw new HanetError('HANET_ERR_CONFIG', `link monitor: ${msg}`); };
  const names = new Set<string>();
  const buf = (u: Uint8Array): Buffer => Buffer.from(u.buffer, u.byteOffset, u.byteLength);
  return {
    interfaces: config.interfaces.map((w) => {
      if (names.has(w.ifname)) bad(`interface ${w.ifname} listed twice`);
      names.add(w.ifname);
      if (!(w.carrierIntervalMs >= 0)) bad(`${w.ifname}: carrierIntervalMs must be >= 0`);
      const ids = new Set<string>();
      return {
        ifname: w.ifname,
        carrierIntervalMs: w.carrierIntervalMs,
        targets: w.targets.map((t) => {
          if (ids.has(t.id)) bad(`${w.ifname}: target ${t.id} listed twice`);
          ids.add(t.id);
          if (!(t.intervalMs >= 1)) bad(`${w.ifname}/${t.id}: intervalMs must be >= 1`);
          if (t.frame.length < 14) bad(`${w.ifname}/${t.id}: the probe must be a whole Ethernet frame`);
          const rules: NativeFrameRule[] = t.rules.map((r) => ({
            reply: r.kind === 'reply',
            ethertype: r.ethertype ?? -1,
            bytes: (r.bytes ?? []).map((b) => {
              if (b.value.length === 0 || (b.mask && b.mask.length !== b.value.length) || b.offset < 0 || b.offset + b.value.length > 256) {
                bad(`${w.ifname}/${t.id}: a byte pattern must be non-empty, within the first 256 bytes, with a mask of its length`);
              }
              return b.mask ? { offset: b.offset, value: buf(b.value), mask: buf(b.mask) } : { offset: b.offset, value: buf(b.value) };
            }),
          }));
          return { id: t.id, intervalMs: t.intervalMs, frame: buf(t.frame), rules, ...(t.unicast ? { unicast: true } : {}) };
        }),
      };
    }),
  };
}

function toObservation(o: NativeObservation, offset: number): MonitorObservation {
  const at = o.at - offset;
  switch (o.type) {
    case 'link': return { ...o, at, monoMs: o.at };
    case 'miss': return { ...o, at, monoMs: o.at, ...(o.lastReplyAt !== undefined ? { lastReplyAt: o.lastReplyAt - offset } : {}) };
    case 'reply': return { ...o, at, monoMs: o.at };
    case 'error': return { ...o, at, monoMs: o.at };
  }
}

class NativeLinkMonitor implements LinkMonitor {
  private readonly m: NativeMonitor;
  private readonly listeners: Array<(o: MonitorObservation) => void> = [];
  private readonly batchListeners: Array<(os: MonitorObservation[]) => void> = [];
  private readonly offset = monotonicOffsetMs();
  private closed = false;

  constructor(config: MonitorConfig) {
    const { Monitor } = monitorBinding();
    const cfg = check(config);
    try {
      this.m = new Monitor(cfg, (batch) => this.deliver(batch));
    } catch (e) {
      if (isNativeError(e) && (e.code === 'EPERM' || e.code === 'EACCES')) {
        throw new HanetError('HANET_ERR_PERMISSION', `link monitor: ${e.message} (needs CAP_NET_RAW)`, { cause: e });
      }
      throw new HanetError(e instanceof TypeError ? 'HANET_ERR_CONFIG' : 'HANET_ERR_NATIVE', `link monitor: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  private deliver(batch: NativeObservation[]): void {
    if (this.closed) return;
    const os = batch.map((raw) => toObservation(raw, this.offset));
    for (const o of os) for (const l of [...this.listeners]) l(o);
    for (const l of [...this.batchListeners]) l(os);
  }

  onBatch(cb: (os: MonitorObservation[]) => void): () => void {
    this.batchListeners.push(cb);
    return () => {
      const i = this.batchListeners.indexOf(cb);
      if (i !== -1) this.batchListeners.splice(i, 1);
    };
  }

  update(config: MonitorConfig): void {
    if (this.closed) throw new HanetError('HANET_ERR_NATIVE', 'link monitor: closed');
    this.m.update(check(config));
  }

  onObservation(cb: (o: MonitorObservation) => void): () => void {
    this.listeners.push(cb);
    return () => {
      const i = this.listeners.indexOf(cb);
      if (i !== -1) this.listeners.splice(i, 1);
    };
  }

  stats(): MonitorStats {
    const s = this.m.stats();
    if (!s) return { wakeups: 0, jsWakeups: 0, observations: 0, interfaces: [] };
    const perf = (x: number | undefined): number | undefined => (x === undefined ? undefined : x - this.offset);
    return {
      ...s,
      interfaces: s.interfaces.map((f) => ({
        ...f,
        targets: f.targets.map((t) => ({ ...t, lastProbeAt: perf(t.lastProbeAt), lastReplyAt: perf(t.lastReplyAt) })),
      })),
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.m.close();
    this.listeners.length = 0;
    this.batchListeners.length = 0;
  }

  ref(): void { this.m.ref(); }
  unref(): void { this.m.unref(); }
}

/** Starts the monitor thread (needs CAP_NET_RAW). Observations are delivered asynchronously, so listeners added
 * right after start() miss nothing (the first ones are each interface's `link` with source `start`). */
export function startMonitor(config: MonitorConfig): LinkMonitor {
  return new NativeLinkMonitor(config);
}

// ---- ready-made targets (the TS codecs build the frames; the thread only compares bytes) ----

const ETH_HEADER = 14;
const ETH_SRC_AT = 6;
// Offsets inside the 28-byte ARP packet (RFC 826 layout, as src/proto/arp.ts encodes it).
const ARP_OP_AT = 6, ARP_SENDER_IP_AT = 14, ARP_TARGET_MAC_AT = 18;

export interface ArpTargetOptions {
  id: string;
  /** this interface's MAC: the probe's sender and the address replies must be sent to */
  ownMac: string;
  /** the probed IPv4 address (gateway, or a peer's public address) */
  targetIp: string;
  intervalMs: number;
  /** Passive liveness: the target's own ARP requests count as life. */
  lifeFromArpRequests?: boolean;
  /** Passive liveness: any frame from these source MACs (e.g. the gateway's) counts as life. */
  lifeFromMacs?: string[];
}

/**
 * An ARP probe target: the probe is an RFC 5227 probe (sender 0.0.0.0, no cache is polluted; broadcast until the
 * target answers, then to its MAC until a miss) and a
 * reply is an ARP reply from `targetIp` addressed to `ownMac`.
 */
export function arpTarget(o: ArpTargetOptions): ProbeTarget {
  const ip = ipBytes(4, o.targetIp);
  const own = parseMac(o.ownMac);
  if (!ip || !own) throw new HanetError('HANET_ERR_CONFIG', `link monitor: ARP target ${o.id}: bad address ${ip ? o.ownMac : o.targetIp}`);
  const at = (arpOffset: number): number => ETH_HEADER + arpOffset;
  const op = (code: number): ByteMatch => ({ offset: at(ARP_OP_AT), value: Uint8Array.of(0, code) });
  const rules: FrameRule[] = [{
    kind: 'reply', ethertype: ETHERTYPE_ARP,
    bytes: [op(2), { offset: at(ARP_SENDER_IP_AT), value: ip }, { offset: at(ARP_TARGET_MAC_AT), value: own }],
  }];
  if (o.lifeFromArpRequests) rules.push({ kind: 'life', ethertype: ETHERTYPE_ARP, bytes: [op(1), { offset: at(ARP_SENDER_IP_AT), value: ip }] });
  for (const m of o.lifeFromMacs ?? []) {
    const mac = parseMac(m);
    if (!mac) throw new HanetError('HANET_ERR_CONFIG', `link monitor: ARP target ${o.id}: bad MAC ${m}`);
    rules.push({ kind: 'life', bytes: [{ offset: ETH_SRC_AT, value: mac }] });
  }
  const frame = encodeEthernetArp({ dst: BROADCAST_MAC, src: o.ownMac, arp: arpProbe(o.targetIp, o.ownMac) });
  // Unicast once answered: N servers probing every 10 ms by broadcast cost every host of the LAN N*100 ARP frames a
  // second (the 32-server scale run: 155% of a core for the idle daemons, the machine 3% idle).
  return { id: o.id, intervalMs: o.intervalMs, frame, rules, unicast: true };
}

// Offsets in an Ethernet frame carrying IPv6 + ICMPv6 (no extension headers: NDP forbids none, hanet's filters and
// decoder follow none): the ICMPv6 type, and a Neighbor Advertisement's target address.
const IPV6_AT = ETH_HEADER, ICMPV6_AT = ETH_HEADER + 40, NA_TARGET_AT = ICMPV6_AT + 8;

export interface NdpTargetOptions {
  id: string;
  ownMac: string;
  /** the probed IPv6 address (gateway — often link-local — or a peer's public address) */
  targetIp: string;
  /**
   * Source of the Neighbor Solicitation: this interface's link-local address (the answer comes by unicast to us), or
   * undefined for '::' (the answer is multicast to all nodes). Never a service address (docs/troubleshooting.md).
   */
  source?: string;
  intervalMs: number;
}

/**
 * An NDP probe target: a Neighbor Solicitation for `targetIp` to its solicited-node address (built by the NDP codec),
 * and a reply is a Neighbor Advertisement (hop limit 255) for `targetIp`, sent to us (unicast) or to all nodes.
 */
export function ndpTarget(o: NdpTargetOptions): ProbeTarget {
  const ip = ipBytes(6, o.targetIp);
  const own = parseMac(o.ownMac);
  if (!ip || !own) throw new HanetError('HANET_ERR_CONFIG', `link monitor: NDP target ${o.id}: bad address ${ip ? o.ownMac : o.targetIp}`);
  const ns = neighborSolicitation(o.targetIp, o.ownMac, o.source);
  const packet = encodeNdp(ns);
  const frame = new Uint8Array(ETH_HEADER + packet.length);
  frame.set(parseMac(multicastMac(ns.destination)!)!, 0);
  frame.set(own, 6);
  frame[12] = ETHERTYPE_IPV6 >> 8; frame[13] = ETHERTYPE_IPV6 & 0xff;
  frame.set(packet, ETH_HEADER);
  const rules: FrameRule[] = [{
    kind: 'reply', ethertype: ETHERTYPE_IPV6,
    bytes: [
      { offset: IPV6_AT + 6, value: Uint8Array.of(IPPROTO_ICMPV6, ND_HOP_LIMIT) },
      { offset: ICMPV6_AT, value: Uint8Array.of(ICMPV6_NA) },
      { offset: NA_TARGET_AT, value: ip },
    ],
  }];
  return { id: o.id, intervalMs: o.intervalMs, frame, rules };
}
