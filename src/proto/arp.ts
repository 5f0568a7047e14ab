// Pure codec for Ethernet/IPv4 ARP (RFC 826): the 28-byte ARP packet (what an AF_PACKET SOCK_DGRAM socket
// carries) and whole Ethernet frames; builders for gratuitous ARP, probes and replies. Never throws on input bytes.
import { formatIp, ipBytes } from '../core/ip.js';
import { formatMac, parseMac } from './inet.js';

export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV4 = 0x0800;
export const ARP_LEN = 28;
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
export const ZERO_MAC = '00:00:00:00:00:00';

export interface ArpPacket {
  op: number;              // 1 request, 2 reply (others decode as-is, 'bad-opcode' is only for 0)
  senderMac: string;       // "aa:bb:cc:dd:ee:ff"
  senderIp: string;        // dotted quad
  targetMac: string;
  targetIp: string;
}

export type ArpDecodeReason = 'short' | 'not-ethernet-ipv4' | 'bad-opcode' | 'not-arp';
export interface ArpDecodeError { reason: ArpDecodeReason; message: string }
export type ArpDecoded<T> = { ok: true; value: T } | { ok: false; error: ArpDecodeError };
const fail = <T>(reason: ArpDecodeReason, message: string): ArpDecoded<T> => ({ ok: false, error: { reason, message } });

/** Decodes an ARP packet (no Ethernet header). Trailing bytes (Ethernet padding) are ignored. */
export function decodeArp(b: Uint8Array): ArpDecoded<ArpPacket> {
  if (b.length < ARP_LEN) return fail('short', `ARP packet needs ${ARP_LEN} bytes, got ${b.length}`);
  const htype = (b[0]! << 8) | b[1]!;
  const ptype = (b[2]! << 8) | b[3]!;
  if (htype !== 1 || ptype !== ETHERTYPE_IPV4 || b[4] !== 6 || b[5] !== 4) {
    return fail('not-ethernet-ipv4', `htype ${htype} ptype 0x${ptype.toString(16)} hlen ${b[4]} plen ${b[5]}`);
  }
  const op = (b[6]! << 8) | b[7]!;
  if (op === 0) return fail('bad-opcode', 'opcode 0');
  return {
    ok: true,
    value: {
      op,
      senderMac: formatMac(b.subarray(8, 14)),
      senderIp: formatIp(b.subarray(14, 18))!,
      targetMac: formatMac(b.subarray(18, 24)),
      targetIp: formatIp(b.subarray(24, 28))!,
    },
  };
}

/** Encodes an ARP packet; throws RangeError on an invalid address (programming error, not input bytes). */
export function encodeArp(p: ArpPacket): Uint8Array {
  const out = new Uint8Array(ARP_LEN);
  out.set([0, 1, ETHERTYPE_IPV4 >> 8, ETHERTYPE_IPV4 & 0xff, 6, 4, (p.op >> 8) & 0xff, p.op & 0xff], 0);
  out.set(mac(p.senderMac), 8);
  out.set(ip(p.senderIp), 14);
  out.set(mac(p.targetMac), 18);
  out.set(ip(p.targetIp), 24);
  return out;
}

export interface EthernetArp { dst: string; src: string; arp: ArpPacket }

/** Decodes a whole Ethernet frame carrying ARP (no VLAN tag). */
export function decodeEthernetArp(f: Uint8Array): ArpDecoded<EthernetArp> {
  if (f.length < 14) return fail('short', `Ethernet header needs 14 bytes, got ${f.length}`);
  const type = (f[12]! << 8) | f[13]!;
  if (type !== ETHERTYPE_ARP) return fail('not-arp', `ethertype 0x${type.toString(16)}`);
  const a = decodeArp(f.subarray(14));
  if (!a.ok) return a;
  return { ok: true, value: { dst: formatMac(f.subarray(0, 6)), src: formatMac(f.subarray(6, 12)), arp: a.value } };
}

/** Encodes an Ethernet frame with ARP, padded to the 60-byte minimum. */
export function encodeEthernetArp(e: EthernetArp): Uint8Array {
  const out = new Uint8Array(60);
  out.set(mac(e.dst), 0);
  out.set(mac(e.src), 6);
  out[12] = ETHERTYPE_ARP >> 8; out[13] = ETHERTYPE_ARP & 0xff;
  out.set(encodeArp(e.arp), 14);
  return out;
}

/**
 * Gratuitous ARP: a *request* with sender IP = target IP. Linux's arp_process treats that as is_garp, which
 * overrides the neighbour locktime, so a router with arp_accept=0 still updates an existing entry from it.
 * Target MAC is zero (RFC 5227 announcement).
 */
export const gratuitousArp = (ipAddr: string, ownMac: string): ArpPacket =>
  ({ op: ARP_REQUEST, senderMac: ownMac, senderIp: ipAddr, targetMac: ZERO_MAC, targetIp: ipAddr });

/**
 * Probe: a request with sender IP 0.0.0.0 (RFC 5227 probe), so receivers never create or update a cache
 * entry from it; Linux still answers it (to our MAC) when the target address is local to it.
 */
export const arpProbe = (targetIp: string, ownMac: string): ArpPacket =>
  ({ op: ARP_REQUEST, senderMac: ownMac, senderIp: '0.0.0.0', targetMac: ZERO_MAC, targetIp });

export const arpReply = (ownIp: string, ownMac: string, toIp: string, toMac: string): ArpPacket =>
  ({ op: ARP_REPLY, senderMac: ownMac, senderIp: ownIp, targetMac: toMac, targetIp: toIp });

function mac(s: string): Uint8Array {
  const b = parseMac(s);
  if (!b) throw new RangeError(`invalid MAC address '${s}'`);
  return b;
}
function ip(s: string): Uint8Array {
  const b = ipBytes(4, s);
  if (!b) throw new RangeError(`invalid IPv4 address '${s}'`);
  return b;
}
