// Maps the validated YAML configuration to the core's view of it, resolving what only the running system knows
// (a private link's own address when the config leaves it out).
import { networkInterfaces } from 'node:os';
import type { Config } from '../config/schema.js';
import { HanetError } from '../errors.js';
import { existsSync } from 'node:fs';
import type { CoreConfig, KernelFeatures } from '../core/types.js';
import { isLinkLocal } from '../core/ip.js';
import { birdSessionNames } from '../config/bird.js';

/** What this kernel offers (src/core/types.ts KernelFeatures), read from /proc/sys. */
export function kernelFeatures(procSys = '/proc/sys'): KernelFeatures {
  return { ipv6ForceForwarding: existsSync(`${procSys}/net/ipv6/conf/all/force_forwarding`) };
}

export function toCoreConfig(cfg: Config, ifaddrs: ReturnType<typeof networkInterfaces> = networkInterfaces(), kernel: KernelFeatures = kernelFeatures()): CoreConfig {
  return {
    node: cfg.node,
    publics: cfg.public.map((p) => ({
      iface: p.interface,
      lan: p.lan,
      mode: p.mode,
      addresses: p.addresses.map((a) => ({ address: a.address, prefixLen: a.prefixLen })),
      gateways: p.gateways,
      defaultRoute: p.defaultRoute && p.gateways.length > 0,
      arp: p.probe.arp && p.gateways.length > 0,
      arpIntervalMs: p.probe.arpIntervalMs,
      arpMisses: p.probe.arpMisses,
      ...(p.mode === 'l3' && p.bgp?.check === true && birdSessionNames(p).length > 0 ? { bgpCheck: true } : {}),
    })),
    privates: cfg.private.map((l) => {
      let local = l.address;
      if (!local) {
        const v4 = (ifaddrs[l.interface] ?? []).find((a) => a.family === 'IPv4');
        if (!v4) throw new HanetError('HANET_ERR_CONFIG', `private link ${l.name}: no address given and interface ${l.interface} has no IPv4 address`);
        local = v4.address;
      }
      // An Ethernet link's IPv6 next hop toward us is our link-local address there (told to the peer in heartbeats).
      const ll6 = l.kind === 'ethernet' ? (ifaddrs[l.interface] ?? []).find((a) => a.family === 'IPv6' && isLinkLocal(a.address))?.address : undefined;
      return {
        name: l.name, kind: l.kind, iface: l.interface, peer: l.peer, localAddress: local, peerAddress: l.peerAddress, cost: l.cost,
        ...(ll6 !== undefined ? { localAddress6: ll6 } : {}), ...(l.kind === 'serial' ? { heartbeat: { ...l.heartbeat } } : {}),
      };
    }),
    heartbeat: { ...cfg.heartbeat },
    takeover: { ...cfg.takeover },
    kernel,
  };
}
