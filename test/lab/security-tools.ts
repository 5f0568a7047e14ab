// Attack tools for the security lab tests: a tap that captures the frames of one UDP port on an interface and
// re-injects them later (AF_PACKET, run as root inside a lab namespace: `node security-tools.js capture|inject ...`),
// and the scripts an unprivileged local user (`nobody`, through setpriv) runs against a daemon's port.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import type { LabHandle } from '../../src/lab/lab.js';
import { parseIp } from '../../src/core/ip.js';
import { AF_INET, AF_PACKET, ETH_P_ALL, htons, native, sockaddrLl, SOCK_RAW } from '../../src/os/linux/native.js';

export const TOOLS = fileURLToPath(import.meta.url);
/** The addon, which the `nobody` scripts load by path (its directories are world-readable). */
export const ADDON = join(dirname(TOOLS), '..', '..', '..', 'build', 'Release', 'hanet_native.node');

const ETH_HDR = 14;
const PACKET_OUTGOING = 4;

/** The UDP part of an Ethernet/IPv4 frame, or undefined. */
function udpOf(f: Buffer): { ipAt: number; udpAt: number; dport: number; payloadAt: number } | undefined {
  if (f.length < ETH_HDR + 28 || f.readUInt16BE(12) !== 0x0800 || f[ETH_HDR + 9] !== 17) return undefined;
  const ihl = (f[ETH_HDR]! & 0x0f) * 4;
  const udpAt = ETH_HDR + ihl;
  if (f.length < udpAt + 8) return undefined;
  return { ipAt: ETH_HDR, udpAt, dport: f.readUInt16BE(udpAt + 2), payloadAt: udpAt + 8 };
}

/**
 * Captures frames arriving on `iface` (not the ones this host sends) for UDP port `port`, optionally only those
 * whose payload starts with `firstByte`, until `count` or `timeoutMs`. Writes them as hex lines to `out`.
 */
async function capture(iface: string, port: number, count: number, timeoutMs: number, out: string, firstByte?: number): Promise<number> {
  const n = native();
  const fd = n.socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
  n.bind(fd, sockaddrLl(n.ifNameToIndex(iface), ETH_P_ALL));
  const frames: string[] = [];
  const buf = Buffer.alloc(65536);
  await new Promise<void>((resolve) => {
    const done = (): void => { poller.stop(); clearTimeout(timer); resolve(); };
    const poller = new n.Poller(fd, n.constants.UV_READABLE, () => {
      for (;;) {
        const r = n.recvfrom(fd, buf);
        if (!r) return;
        if (r.address.length >= 11 && r.address[10] === PACKET_OUTGOING) continue;
        const f = buf.subarray(0, r.length);
        const u = udpOf(f);
        if (!u || u.dport !== port) continue;
        if (firstByte !== undefined && f[u.payloadAt] !== firstByte) continue;
        frames.push(f.toString('hex'));
        if (frames.length >= count) { done(); return; }
      }
    });
    const timer = setTimeout(done, timeoutMs);
  });
  n.close(fd);
  writeFileSync(out, frames.join('\n') + (frames.length ? '\n' : ''));
  return frames.length;
}

/**
 * Sends captured frames out of `iface` as they were. The UDP checksum is set to 0 ("none", valid in IPv4): frames
 * captured on a veth can carry a partial checksum (offload), which the receiver would otherwise drop as corrupt,
 * and the replay must fail for hanet's reasons, not the checksum's.
 */
function inject(iface: string, file: string): number {
  const n = native();
  const fd = n.socket(AF_PACKET, SOCK_RAW, 0);
  const to = sockaddrLl(n.ifNameToIndex(iface), 0x0800);
  let sent = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const f = Buffer.from(line, 'hex');
    const u = udpOf(f);
    if (u) f.writeUInt16BE(0, u.udpAt + 6);
    n.sendto(fd, f, to);
    sent++;
  }
  n.close(fd);
  return sent;
}

/** IPv4 address bytes (the one address module parses). */
function ip4(s: string): Uint8Array {
  const p = parseIp(s);
  if (p?.family !== 4) throw new Error(`not an IPv4 address: ${s}`);
  return p.bytes;
}

/** struct sockaddr_in for `ip`:`port`. */
export function sockaddr4(ip: string, port: number): Buffer {
  const sa = Buffer.alloc(16);
  sa.writeUInt16LE(AF_INET, 0);
  sa.writeUInt16BE(port, 2);
  sa.set(ip4(ip), 4);
  return sa;
}

/**
 * Sends UDP datagrams with any source address and port (a raw IPPROTO_RAW socket: the IP header is ours; the
 * kernel fills in its checksum, id and length). This is how an attacker spoofs the peer's address and port.
 */
function sendUdp(src: string, sport: number, dst: string, dport: number, payloads: Buffer[]): number {
  const n = native();
  const fd = n.socket(AF_INET, SOCK_RAW, 255 /* IPPROTO_RAW: IP_HDRINCL */);
  for (const p of payloads) {
    const pkt = Buffer.alloc(28 + p.length);
    pkt[0] = 0x45;
    pkt[8] = 64;
    pkt[9] = 17;
    pkt.set(ip4(src), 12);
    pkt.set(ip4(dst), 16);
    pkt.writeUInt16BE(sport, 20);
    pkt.writeUInt16BE(dport, 22);
    pkt.writeUInt16BE(8 + p.length, 24); // UDP checksum 0: none
    p.copy(pkt, 28);
    n.sendto(fd, pkt, sockaddr4(dst, 0));
  }
  n.close(fd);
  return payloads.length;
}

// ---------------------------------------------------------------------------------------------------------------
// Test-side helpers

/** Sends `payloads` from `node`'s namespace as UDP datagrams from src:sport (spoofed if need be) to dst:dport. */
export async function sendUdpIn(lab: LabHandle, node: string, o: { src: string; sport: number; dst: string; dport: number; payloads: Buffer[] }): Promise<number> {
  const argv = [process.execPath, TOOLS, 'sendudp', o.src, String(o.sport), o.dst, String(o.dport), ...o.payloads.map((p) => p.toString('hex'))];
  const r = await lab.exec(node, argv, { check: true, timeoutMs: 10_000 });
  return (JSON.parse(r.stdout) as { sent: number }).sent;
}

/** The Udp counters of a namespace's /proc/net/snmp (InDatagrams, NoPorts, InErrors, ...). */
export async function udpSnmp(lab: LabHandle, node: string): Promise<Record<string, number>> {
  const lines = (await lab.exec(node, ['cat', '/proc/net/snmp'], { check: true })).stdout.split('\n').filter((l) => l.startsWith('Udp: '));
  const [names, values] = lines.map((l) => l.slice(5).trim().split(/\s+/));
  return Object.fromEntries((names ?? []).map((k, i) => [k, Number(values?.[i])]));
}

/** Runs the capture in `node`'s namespace (resolves when it ends) and returns the number of frames written to `out`. */
export async function captureIn(lab: LabHandle, node: string, o: { iface: string; port: number; count: number; timeoutMs: number; out: string; firstByte?: number }): Promise<number> {
  const argv = [process.execPath, TOOLS, 'capture', o.iface, String(o.port), String(o.count), String(o.timeoutMs), o.out, ...(o.firstByte !== undefined ? [String(o.firstByte)] : [])];
  const r = await lab.exec(node, argv, { check: true, timeoutMs: o.timeoutMs + 10_000 });
  return (JSON.parse(r.stdout) as { captured: number }).captured;
}

export async function injectIn(lab: LabHandle, node: string, iface: string, file: string): Promise<number> {
  const r = await lab.exec(node, [process.execPath, TOOLS, 'inject', iface, file], { check: true, timeoutMs: 10_000 });
  return (JSON.parse(r.stdout) as { sent: number }).sent;
}

/**
 * What an unprivileged local user tries against a daemon's UDP port: bind the same address and port (Node's
 * reuseAddr, SO_REUSEADDR on the wildcard address, and a raw addon socket with SO_REUSEADDR + SO_REUSEPORT +
 * SO_BINDTODEVICE to the link's interface, which Linux >= 5.7 allows unprivileged) and count what arrives in
 * `ms`. Prints one JSON object per attempt: { how, bound, error?, received }.
 */
export const STEAL_SCRIPT = `
const [addr, port, dev, ms, addon, saHex] = process.argv.slice(1);
const dgram = require('node:dgram');
const results = [];
const tryDgram = (how, address) => new Promise((resolve) => {
  const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const r = { how, bound: false, received: 0 };
  s.on('message', () => { r.received++; });
  s.once('error', (e) => { r.error = e.code; try { s.close(); } catch {} resolve(r); });
  s.bind({ address, port: Number(port) }, () => { r.bound = true; setTimeout(() => { s.close(); resolve(r); }, Number(ms)); });
});
const tryNative = () => new Promise((resolve) => {
  const n = require(addon);
  const r = { how: 'reuseport+bindtodevice', bound: false, received: 0 };
  let fd;
  try {
    fd = n.socket(2, 2, 0);
    n.setsockopt(fd, 1, 2, 1);   // SO_REUSEADDR
    n.setsockopt(fd, 1, 15, 1);  // SO_REUSEPORT
    n.setsockopt(fd, 1, 25, Buffer.from(dev + '\\0'));  // SO_BINDTODEVICE
    n.bind(fd, Buffer.from(saHex, 'hex'));
    r.bound = true;
  } catch (e) { r.error = e.code || String(e); if (fd !== undefined) n.close(fd); resolve(r); return; }
  const buf = Buffer.alloc(65536);
  const p = new n.Poller(fd, n.constants.UV_READABLE, () => { while (n.recvfrom(fd, buf)) r.received++; });
  setTimeout(() => { p.stop(); n.close(fd); resolve(r); }, Number(ms));
});
(async () => {
  results.push(await tryDgram('reuseaddr', addr));
  results.push(await tryDgram('reuseaddr-wildcard', '0.0.0.0'));
  results.push(await tryNative());
  process.stdout.write(JSON.stringify(results));
})();
`;

/** Sends `count` datagrams to address:port from the node itself, as `nobody` (unconnected, any source port). */
export async function sendAsNobody(lab: LabHandle, node: string, o: { address: string; port: number; count: number }): Promise<void> {
  const script = `const s = require('node:dgram').createSocket('udp4'); let n = 0;
    for (let i = 0; i < ${o.count}; i++) s.send(Buffer.from('HNT\\x02 from a local user'), ${o.port}, process.argv[1], () => { if (++n === ${o.count}) s.close(); });`;
  await lab.exec(node, ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath, '-e', script, o.address], { check: true, timeoutMs: 10_000 });
}

export interface StealResult { how: string; bound: boolean; error?: string; received: number }

/** Runs STEAL_SCRIPT as `nobody` in `node`'s namespace. */
export async function stealAsNobody(lab: LabHandle, node: string, o: { address: string; port: number; device: string; ms: number }): Promise<StealResult[]> {
  const sa = sockaddr4(o.address, o.port);
  const argv = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', process.execPath, '-e', STEAL_SCRIPT, o.address, String(o.port), o.device, String(o.ms), ADDON, sa.toString('hex')];
  const r = await lab.exec(node, argv, { check: true, timeoutMs: 3 * o.ms + 10_000 });
  return JSON.parse(r.stdout) as StealResult[];
}

// ---------------------------------------------------------------------------------------------------------------
// CLI (inside a namespace)

if (process.argv[1] === TOOLS) {
  const [cmd, ...a] = process.argv.slice(2);
  if (cmd === 'capture') {
    const got = await capture(a[0]!, Number(a[1]), Number(a[2]), Number(a[3]), a[4]!, a[5] !== undefined ? Number(a[5]) : undefined);
    process.stdout.write(JSON.stringify({ captured: got }));
  } else if (cmd === 'sendudp') {
    process.stdout.write(JSON.stringify({ sent: sendUdp(a[0]!, Number(a[1]), a[2]!, Number(a[3]), a.slice(4).map((h) => Buffer.from(h, 'hex'))) }));
  } else if (cmd === 'inject') {
    process.stdout.write(JSON.stringify({ sent: inject(a[0]!, a[1]!) }));
  } else {
    process.stderr.write('usage: security-tools.js capture IFACE PORT COUNT TIMEOUT_MS OUT [FIRST_BYTE] | inject IFACE FILE | sendudp SRC SPORT DST DPORT HEX...\n');
    process.exit(2);
  }
}
