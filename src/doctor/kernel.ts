// Doctor: the kernel features hanet needs — root, the native addon, rtnetlink, AF_PACKET, TUN, proxy ARP/NDP and a
// writable /proc/sys/net — read from the real machine (readKernelFacts) and judged purely (kernelFindings).
import { accessSync, closeSync, constants as fsConstants, existsSync, openSync } from 'node:fs';
import { AF_PACKET, ETH_P_ARP, SOCK_DGRAM, htons, isNativeError, native } from '../os/linux/native.js';
import { LinuxKernel } from '../os/linux/kernel.js';
import { block, ok, warn, type Finding } from './types.js';

/** An operation's outcome: undefined when it worked, else the errno name (or the error message). */
export type Outcome = string | undefined;

export interface KernelFacts {
  root: boolean;
  /** undefined: loaded; else why not. */
  addon: Outcome;
  netlink: Outcome;
  afPacket: Outcome;
  /** Opening /dev/net/tun. */
  tun: Outcome;
  proxyArp: boolean;
  proxyNdp: boolean;
  /** Writing /proc/sys/net (access W_OK on ip_forward). */
  sysctlWrite: Outcome;
}

/** What the configuration needs ('unknown' without a configuration). */
export interface KernelNeeds { tun: boolean | 'unknown'; ipv6: boolean | 'unknown' }

const errName = (e: unknown): string =>
  (isNativeError(e) ? e.code : (e as NodeJS.ErrnoException | undefined)?.code) ?? (e instanceof Error ? e.message : String(e));

const attempt = (fn: () => void): Outcome => {
  try { fn(); return undefined; } catch (e) { return errName(e); }
};

export async function readKernelFacts(procSys = '/proc/sys'): Promise<KernelFacts> {
  const addon = attempt(() => native());
  let netlink: Outcome = addon === undefined ? undefined : 'no addon';
  if (addon === undefined) {
    const k = new LinuxKernel(procSys);
    try { await k.listLinks(); } catch (e) { netlink = e instanceof Error ? e.message : String(e); } finally { k.close(); }
  }
  const afPacket = addon !== undefined ? 'no addon' : attempt(() => {
    const n = native();
    n.close(n.socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ARP)));
  });
  return {
    root: typeof process.getuid === 'function' && process.getuid() === 0,
    addon,
    netlink,
    afPacket,
    tun: attempt(() => closeSync(openSync('/dev/net/tun', fsConstants.O_RDWR))),
    proxyArp: existsSync(`${procSys}/net/ipv4/conf/all/proxy_arp`) && existsSync(`${procSys}/net/ipv4/ip_forward`),
    proxyNdp: existsSync(`${procSys}/net/ipv6/conf/all/proxy_ndp`),
    sysctlWrite: attempt(() => accessSync(`${procSys}/net/ipv4/ip_forward`, fsConstants.W_OK)),
  };
}

const PERM = new Set(['EPERM', 'EACCES']);

/** Pure: the findings for the kernel facts, given what the configuration needs. */
export function kernelFindings(f: KernelFacts, needs: KernelNeeds): Finding[] {
  const out: Finding[] = [];
  out.push(f.root ? ok('privileges', 'running as root')
    : block('privileges', 'not running as root: hanet needs CAP_NET_ADMIN and CAP_NET_RAW (and so do some of these checks)', 'run hanet (and hanet doctor) as root; the systemd unit does'));
  out.push(f.addon === undefined ? ok('native-addon', 'the native addon loads')
    : block('native-addon', `the native addon does not load: ${f.addon}`, 'install the package built for this platform, or build the addon from source: docs/install.md "No prebuilt addon"'));
  if (f.addon === undefined) {
    out.push(f.netlink === undefined ? ok('netlink', 'rtnetlink answers (links, addresses, routes, neighbours)')
      : block('netlink', `rtnetlink does not answer: ${f.netlink}`, 'hanet needs rtnetlink: run it on the host (or in a network namespace), not in a sandbox that filters netlink'));
    if (f.afPacket === undefined) out.push(ok('af-packet', 'AF_PACKET sockets open (ARP probes, gratuitous ARP)'));
    else if (PERM.has(f.afPacket)) out.push(block('af-packet', `AF_PACKET socket refused (${f.afPacket})`, 'run as root (CAP_NET_RAW); under systemd keep CAP_NET_RAW and AF_PACKET in the unit'));
    else out.push(block('af-packet', `AF_PACKET sockets unavailable (${f.afPacket})`, 'use a kernel with CONFIG_PACKET (modprobe af_packet)'));
  }
  if (f.tun === undefined) out.push(ok('tun', '/dev/net/tun opens (serial and udp private links)'));
  else {
    const why = f.tun === 'ENOENT' ? '/dev/net/tun is missing' : PERM.has(f.tun) ? `/dev/net/tun refused (${f.tun})` : `/dev/net/tun does not open (${f.tun}: the tun module is not loaded?)`;
    const fix = f.tun === 'ENOENT' ? 'modprobe tun (it creates /dev/net/tun); in a container pass the device through' : PERM.has(f.tun) ? 'run as root; under systemd do not set PrivateDevices' : 'modprobe tun';
    if (needs.tun === true) out.push(block('tun', `${why}; this configuration has serial or udp private links`, fix));
    else if (needs.tun === false) out.push(ok('tun', `${why} (not needed: this configuration has only ethernet private links)`));
    else out.push(warn('tun', `${why}: serial and udp private links need it`, fix));
  }
  out.push(f.proxyArp ? ok('proxy-arp', 'IPv4 forwarding and proxy ARP sysctls present')
    : block('proxy-arp', 'no IPv4 forwarding/proxy ARP in /proc/sys/net/ipv4', 'use a kernel with IPv4 (CONFIG_INET) and a /proc/sys of this network namespace'));
  if (f.proxyNdp) out.push(ok('proxy-ndp', 'IPv6 proxy NDP sysctl present'));
  else if (needs.ipv6 === true) out.push(block('proxy-ndp', 'IPv6 is disabled (no /proc/sys/net/ipv6): this configuration has IPv6 service addresses', 'enable IPv6 (ipv6.disable=0 on the kernel command line)'));
  else out.push(ok('proxy-ndp', 'IPv6 is disabled here (not needed: no IPv6 service addresses)'));
  if (f.sysctlWrite === undefined) out.push(ok('sysctl-writable', '/proc/sys/net is writable (ip_forward, proxy_delay, rp_filter)'));
  else if (f.sysctlWrite === 'EROFS') out.push(block('sysctl-writable', '/proc/sys is read-only here: hanet cannot set ip_forward, proxy_delay and rp_filter', 'run hanet where /proc/sys/net is writable (a container: a privileged one, or set the sysctls from the host); under systemd do not set ProtectKernelTunables'));
  else if (!f.root) out.push(block('sysctl-writable', `/proc/sys/net is not writable (${f.sysctlWrite})`, 'run as root'));
  else out.push(block('sysctl-writable', `/proc/sys/net is not writable (${f.sysctlWrite})`, 'run hanet where /proc/sys/net is writable'));
  return out;
}
