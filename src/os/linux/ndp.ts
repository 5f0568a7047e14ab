// IPv6 Neighbor Discovery on one interface, the IPv6 counterpart of arp.ts: unsolicited Neighbor Advertisements,
// Neighbor Solicitation probes and advertisement notifications, through an AF_PACKET SOCK_DGRAM socket for ETH_P_IPV6
// (hanet writes the IPv6 header; the kernel adds the Ethernet header) with a BPF filter that lets only NAs in.
//
// Why a packet socket and not a raw ICMPv6 socket (measured on Linux 6.18): a raw socket cannot send from an address
// that is not (yet) usable here — bind() to the owner's address on the helper, to a tentative link-local after a port
// came back up, and a plain sendto() with no usable source all fail with EADDRNOTAVAIL — and plain recvfrom() cannot
// check the hop limit. A packet socket sends from any source and sees every NA, even to a tentative address.
//
// Clock: `atMs` is performance.now() taken when the packet is read (see arp.ts): call drain() before judging a probe.
import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import { HanetError } from '../../errors.js';
import { canonicalIp, isIp, isLinkLocal } from '../../core/ip.js';
import { parseMac } from '../../proto/inet.js';
import {
  ALL_NODES, ICMPV6_NA, IPPROTO_ICMPV6, IPV6_HEADER_LEN, ND_HOP_LIMIT, UNSPECIFIED, decodeNdp, encodeNdp, multicastMac,
  neighborSolicitation, unsolicitedAdvertisement, type NdpMessage,
} from '../../proto/ndp.js';
import type { ArpAnnouncement, ArpReplyEvent } from './arp.js';
import { ETH_P_IPV6 } from './native.js';
import { Listeners, PacketSocket, bpfProgram } from './packet-socket.js';

/**
 * A Neighbor Advertisement seen on the interface. `senderIp`/`senderMac` mean what they mean for ARP replies ("this
 * address is at this MAC": the NA's target and its target link-layer option, or the Ethernet source when an answer
 * to a unicast solicitation carries none), so a probe matcher works for both families.
 */
export interface NaEvent extends ArpReplyEvent {
  /** the IPv6 source of the NA (a proxy answers from its own address) */
  sourceIp: string;
  router: boolean;
  solicited: boolean;
  override: boolean;
}

export interface NdpSocket {
  /** NA "address is at this interface's MAC" to ff02::1: Override set, Router clear, target link-layer option. */
  sendUnsolicitedNa(address: string): void;
  /** NS for `target` to its solicited-node address, from this interface's link-local address (or '::', see openNdp). */
  sendProbe(target: string): void;
  /** Every NA received on the interface. Returns an unsubscribe function. */
  onReply(cb: (r: NaEvent) => void): () => void;
  /**
   * Unsolicited NAs of other hosts (Solicited clear, a target link-layer address that is not this interface's): another
   * node now answers for `ip`, as with gratuitous ARP. Returns an unsubscribe function.
   */
  onAnnouncement(cb: (a: ArpAnnouncement) => void): () => void;
  /** This interface's MAC address. Fakes may leave it out. */
  mac?(): string;
  /** read pending packets now (before judging probe timeouts) */
  drain(): void;
  close(): void;
}

export interface NdpOptions {
  /**
   * Source of probes. 'link-local' (default): the interface's link-local address with the source link-layer option;
   * the answer comes by unicast (measured: 0.04-0.3 ms) and leaves the responder one cache entry for that
   * link-local. 'unspecified': '::'; the responder learns nothing but multicasts its answer to every node on the
   * LAN (ff02::1), which at one probe per 10 ms per server wakes every host. Without a link-local address (IPv6
   * off, addr_gen_mode none) probes go from '::' either way.
   */
  probeSource?: 'link-local' | 'unspecified';
  /** Receive only unsolicited NAs (announcements), filtered in the kernel: probe answers then wake nobody here. */
  announcementsOnly?: boolean;
}

/** How long a looked-up link-local address is reused before asking again (getifaddrs per probe would be wasteful). */
const LINK_LOCAL_TTL_MS = 1000;
const SKF_AD_PKTTYPE = 0xfffff004; // SKF_AD_OFF (-0x1000) + SKF_AD_PKTTYPE (4)
const PACKET_OUTGOING = 4; // sll_pkttype of what this host sends

/**
 * Classic BPF over the IPv6 header (a SOCK_DGRAM packet socket filters from the network header): accept incoming
 * ICMPv6 with hop limit 255 and type 136 (NA) without extension headers, drop everything else in the kernel, so a
 * helper relaying a whole server's traffic through this port copies none of it to user space.
 */
export function naFilterProgram(unsolicitedOnly = false): Buffer {
  return bpfProgram([
    [0x20, 0, 0, SKF_AD_PKTTYPE],      // 0: ld pkttype
    [0x15, 9, 0, PACKET_OUTGOING],     // 1: jeq outgoing -> drop
    [0x30, 0, 0, 6],                   // 2: ldb [6] next header
    [0x15, 0, 7, IPPROTO_ICMPV6],      // 3: jne 58 -> drop
    [0x30, 0, 0, 7],                   // 4: ldb [7] hop limit
    [0x15, 0, 5, ND_HOP_LIMIT],        // 5: jne 255 -> drop
    [0x30, 0, 0, IPV6_HEADER_LEN],     // 6: ldb [40] ICMPv6 type
    [0x15, 0, 3, ICMPV6_NA],           // 7: jne 136 -> drop
    [0x30, 0, 0, IPV6_HEADER_LEN + 4], // 8: ldb [44] NA flags (R S O)
    [0x45, unsolicitedOnly ? 1 : 0, 0, 0x40], // 9: jset Solicited -> drop (only when unsolicitedOnly)
    [0x06, 0, 0, 0x40000],             // 10: accept (whole packet)
    [0x06, 0, 0, 0],                   // 11: drop
  ]);
}

class PacketNdpSocket extends PacketSocket implements NdpSocket {
  private linkLocalCache: { at: number; address: string | undefined } | undefined;
  private readonly replies = new Listeners<NaEvent>();
  private readonly announcements = new Listeners<ArpAnnouncement>();

  constructor(ifname: string, private readonly opts: NdpOptions) {
    super(ifname, 'NDP', ETH_P_IPV6, { filter: naFilterProgram(opts.announcementsOnly === true), bufferSize: 1500 });
  }

  /** The interface's link-local address (looked up at most once a second), or undefined. */
  linkLocal(): string | undefined {
    const now = performance.now();
    if (this.linkLocalCache && now - this.linkLocalCache.at < LINK_LOCAL_TTL_MS) return this.linkLocalCache.address;
    const found = (networkInterfaces()[this.ifname] ?? [])
      .map((a) => (a.family === 'IPv6' ? canonicalIp(a.address, 6) : undefined))
      .find((a): a is string => a !== undefined && isLinkLocal(a));
    this.linkLocalCache = { at: now, address: found };
    return found;
  }

  private send(m: NdpMessage, what: string): void {
    const dstMac = multicastMac(m.destination);
    if (dstMac === undefined) throw new HanetError('HANET_ERR_SOCKET', `${what}: ${m.destination} is not multicast`);
    this.sendPacket(encodeNdp(m), parseMac(dstMac)!, what);
  }

  sendUnsolicitedNa(address: string): void {
    if (!isIp(address, 6) || canonicalIp(address) === UNSPECIFIED) {
      throw new HanetError('HANET_ERR_SOCKET', `unsolicited NA: '${address}' is not an IPv6 unicast address`);
    }
    this.send(unsolicitedAdvertisement(canonicalIp(address)!, this.mac()), `unsolicited NA for ${address} to ${ALL_NODES}`);
  }

  sendProbe(target: string): void {
    if (!isIp(target, 6)) throw new HanetError('HANET_ERR_SOCKET', `NDP probe: '${target}' is not an IPv6 address`);
    const source = this.opts.probeSource === 'unspecified' ? UNSPECIFIED : (this.linkLocal() ?? UNSPECIFIED);
    this.send(neighborSolicitation(canonicalIp(target)!, this.mac(), source), `NDP probe for ${target}`);
  }

  onReply(cb: (r: NaEvent) => void): () => void { return this.replies.on(cb); }
  onAnnouncement(cb: (a: ArpAnnouncement) => void): () => void { return this.announcements.on(cb); }

  protected handle(packet: Uint8Array, sourceMac: string, atMs: number): void {
    const d = decodeNdp(packet);
    if (!d.ok || d.value.kind !== 'na') return;
    const na = d.value;
    if (!na.solicited && na.targetMac !== undefined && this.announcements.size > 0 && na.targetMac !== this.mac()) {
      this.announcements.emit({ ip: na.target, mac: na.targetMac, atMs });
    }
    this.replies.emit({
      senderIp: na.target, senderMac: na.targetMac ?? sourceMac, sourceIp: na.source,
      router: na.router, solicited: na.solicited, override: na.override, atMs,
    });
  }

  protected clearListeners(): void {
    this.replies.clear();
    this.announcements.clear();
  }
}

/** Opens an NDP socket on `ifname` (needs CAP_NET_RAW). */
export function openNdp(ifname: string, opts: NdpOptions = {}): NdpSocket & { mac(): string; linkLocal(): string | undefined; takePacketCount(): number } {
  return new PacketNdpSocket(ifname, opts);
}
