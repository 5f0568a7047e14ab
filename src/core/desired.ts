// What the kernel should hold, as a pure function of a node's state: service addresses where their placement puts
// them, takeover routes (prefix halves) of an owner whose interfaces failed, a helper's host routes and proxy
// entries, the policy rules that forward only a held claim's traffic, and the sysctls a takeover needs — for each
// address family in use (docs/troubleshooting.md has the measurements behind the IPv6 settings).
import { defaultPrefix, halves, hostPrefixLen, ipFamily, networkOf, type Family } from './ip.js';
import type { AddrSpec, DesiredKernelState, ProxySpec, RouteSpec, RuleSpec, SysctlSpec } from './kernel-types.js';
import type { HelperClaim } from './helper.js';
import { isL3Lan } from './lans.js';
import type { Placement } from './owner.js';
import type { CoreConfig, CorePrivate, CorePublic } from './types.js';

/** Metric of hanet's fallback default route: behind any default route the operator installs (0 by default). */
export const FALLBACK_DEFAULT_METRIC = 4242;
/** Metric of an L3 helper's lingering host route: BIRD does not learn it (src/config/bird.ts), so it is withdrawn. */
export const L3_LINGER_METRIC = 4242;
/**
 * Priorities of hanet's policy rules: forwarding allowed for a held claim's address (ALLOW), then nothing else
 * forwarded from a public interface or a private link (DENY). Early, so no other rule routes forwarded traffic first;
 * local traffic (iif lo) and traffic for this node's own addresses (the local table, priority 0) are not affected.
 */
export const RULE_ALLOW_PRIORITY = 1000;
export const RULE_DENY_PRIORITY = 1001;

export interface DesiredInput {
  cfg: CoreConfig;
  placement(iface: string): Placement;
  usable(iface: string): boolean;
  /** The interface a helper answers on for a LAN. */
  helperIface(lan: string): string | undefined;
  /** The peer's IPv6 address on an Ethernet link (from its heartbeats), if known. */
  peerLink6(link: string): string | undefined;
  helping: readonly HelperClaim[];
}

const famOf = (ip: string): Family => ipFamily(ip) ?? 4;

/**
 * The next hop over a private link for one family: the peer's address on the link (IPv4: configured; IPv6: its
 * link-local, learned from its heartbeats); none on a TUN link (point-to-point); undefined when it is not known
 * (no IPv6 route can be made then).
 */
function linkHop(link: CorePrivate, f: Family, peerLink6: (link: string) => string | undefined): { ifname: string; via?: string } | undefined {
  if (f === 4) return { ifname: link.iface, via: link.peerAddress };
  if (link.kind !== 'ethernet') return { ifname: link.iface };
  const via = peerLink6(link.name);
  return via === undefined ? undefined : { ifname: link.iface, via };
}

/** An owner's routes for a public interface that failed: its prefixes' halves and the default's, per family, via `hop`. */
function egressRoutes(p: CorePublic, pl: Extract<Placement, { kind: 'local' | 'remote' }>, s: DesiredInput): RouteSpec[] {
  const routes: RouteSpec[] = [];
  const link = pl.kind === 'remote' ? s.cfg.privates.find((l) => l.name === pl.link) : undefined;
  for (const f of [4, 6] as Family[]) {
    const mine = p.addresses.filter((a) => famOf(a.address) === f);
    const gateway = p.gateways.find((g) => famOf(g) === f);
    if (mine.length === 0) continue;
    const hop = link ? linkHop(link, f, s.peerLink6) : { ifname: (pl as { iface: string }).iface };
    if (!hop) continue;
    const src = mine[0]!.address;
    const prefixes = new Map<string, { address: string; prefixLen: number }>();
    for (const a of mine) prefixes.set(`${networkOf(a)}/${a.prefixLen}`, a);
    for (const a of prefixes.values()) for (const h of halves(a)) routes.push({ family: f, dst: h.dst, dstLen: h.dstLen, ...hop, src });
    if (p.defaultRoute && gateway !== undefined) {
      const via = pl.kind === 'local' ? gateway : hop.via;
      for (const h of halves(defaultPrefix(f))) routes.push({ family: f, dst: h.dst, dstLen: h.dstLen, ifname: hop.ifname, ...(via !== undefined ? { via } : {}), src });
    }
  }
  return routes;
}

export function desiredKernelState(s: DesiredInput): DesiredKernelState {
  const { cfg } = s;
  const addresses: AddrSpec[] = [];
  const managedAddresses: AddrSpec[] = [];
  const routes: RouteSpec[] = [];
  const proxies: ProxySpec[] = [];
  const rules: RuleSpec[] = [];
  const sysctls: SysctlSpec[] = [];

  for (const p of cfg.publics) {
    const pl = s.placement(p.iface);
    const where = pl.kind === 'local' ? pl.iface : p.iface;
    for (const a of p.addresses) {
      for (const q of cfg.publics) if (q.lan === p.lan) managedAddresses.push({ family: famOf(a.address), ifname: q.iface, address: a.address, prefixLen: a.prefixLen });
      addresses.push({ family: famOf(a.address), ifname: where, address: a.address, prefixLen: a.prefixLen });
    }
    if (pl.kind === 'local' || pl.kind === 'remote') routes.push(...egressRoutes(p, pl, s));
    if (pl.kind === 'remote') {
      // An admin-down removes the kernel's local routes of a port's IPv6 addresses (not IPv4's), though the addresses
      // stay (keep_addr_on_down): the owner would refuse what its helper relays to it (measured: ICMPv6 prohibited,
      // 2 s stalls). A local route of hanet's, behind the kernel's (higher metric), keeps them this host's meanwhile.
      for (const a of p.addresses) {
        if (famOf(a.address) === 6) routes.push({ family: 6, type: 'local', dst: a.address, dstLen: 128, ifname: 'lo', table: 255, metric: FALLBACK_DEFAULT_METRIC });
      }
    }
    else if (pl.kind === 'own' && p.defaultRoute && s.usable(p.iface)) {
      // A fallback default route per family: an admin-down removes the system's default route and an admin-up does
      // not bring it back (measured), so hanet keeps one of its own behind any the operator has (higher metric).
      for (const g of p.gateways) {
        const d = defaultPrefix(famOf(g));
        routes.push({ family: d.family, dst: d.address, dstLen: 0, ifname: p.iface, via: g, metric: FALLBACK_DEFAULT_METRIC });
      }
    }
  }

  for (const hc of s.helping) {
    const link = cfg.privates.find((l) => l.name === hc.link);
    if (!link) continue;
    const l3 = isL3Lan(cfg.publics, hc.lan);
    // L3: BIRD announces host routes of any metric but L3_LINGER_METRIC (`hanet config bird`; IPv4 routes have metric
    // 0, IPv6 ones the kernel's 1024). A released claim's route lingers with L3_LINGER_METRIC: withdrawn from the
    // fabric at once, still forwarding what is on its way (make before break: removing the route itself would drop
    // what arrives until the withdrawal has crossed the fabric).
    const lingerMetric = l3 && hc.lingerUntil !== undefined ? { metric: L3_LINGER_METRIC } : {};
    for (const a of hc.addresses) {
      const f = famOf(a);
      const hop = f === 4 ? { ifname: link.iface, via: hc.ownerLinkAddress } : linkHop(link, f, s.peerLink6);
      if (hop) routes.push({ family: f, dst: a, dstLen: hostPrefixLen(f), ...hop, ...lingerMetric });
      // Forwarding for this claim only (also while the route lingers): to the owner's address from the LAN, and from
      // it over the link.
      for (const q of cfg.publics) if (q.lan === hc.lan) rules.push({ family: f, priority: RULE_ALLOW_PRIORITY, iif: q.iface, dst: a, dstLen: hostPrefixLen(f), action: 'lookup-main' });
      rules.push({ family: f, priority: RULE_ALLOW_PRIORITY, iif: link.iface, src: a, srcLen: hostPrefixLen(f), action: 'lookup-main' });
    }
    // L3 (a routed fabric): no proxy entries; the host route above is what BIRD learns (protocol 78) and announces.
    if (hc.lingerUntil === undefined && !l3) {
      const iface = s.helperIface(hc.lan);
      if (iface) for (const a of hc.addresses) proxies.push({ family: famOf(a), ifname: iface, address: a });
    }
  }

  const uses6 = cfg.publics.some((p) => p.addresses.some((a) => famOf(a.address) === 6) || p.gateways.some((g) => famOf(g) === 6));
  const forwardingIfaces = [...cfg.publics.map((p) => p.iface), ...cfg.privates.map((l) => l.iface)];
  if (cfg.takeover.canHelp) {
    // IPv4: forwarding on only on the interfaces a takeover uses (IPv4 decides per input interface, and proxy ARP
    // answers only where forwarding is on: measured), never globally; proxy ARP answers 0.8 s late by default
    // (proxy_delay 80: measured).
    for (const p of cfg.publics) sysctls.push({ path: `net/ipv4/conf/${p.iface}/forwarding`, value: '1' }, { path: `net/ipv4/neigh/${p.iface}/proxy_delay`, value: '0' });
    for (const l of cfg.privates) sysctls.push({ path: `net/ipv4/conf/${l.iface}/forwarding`, value: '1' });
    if (uses6) {
      // IPv6 (measured, docs/troubleshooting.md): switching forwarding on anywhere drops RA-learned default routes
      // unless accept_ra is 2 first, so accept_ra 2 where it was 1. IPv6 forwards only with all.forwarding or, since
      // Linux 6.17, force_forwarding on the incoming interface; a proxy entry answers multicast NSs only where the
      // interface's forwarding is on, and unicast NSs only with all.proxy_ndp and an open forwarding path. With
      // force_forwarding only the public ports and the private links forward; without, every interface does (the
      // rules below then refuse what is not a takeover's). Proxied answers to multicast NSs are delayed like ARP's.
      for (const p of cfg.publics) sysctls.push({ path: `net/ipv6/conf/${p.iface}/accept_ra`, value: '2', onlyIf: '1' });
      if (cfg.kernel?.ipv6ForceForwarding) {
        for (const p of cfg.publics) sysctls.push({ path: `net/ipv6/conf/${p.iface}/forwarding`, value: '1' });
        for (const iface of forwardingIfaces) sysctls.push({ path: `net/ipv6/conf/${iface}/force_forwarding`, value: '1' });
      } else {
        sysctls.push({ path: 'net/ipv6/conf/all/forwarding', value: '1' });
      }
      sysctls.push({ path: 'net/ipv6/conf/all/proxy_ndp', value: '1' });
      for (const p of cfg.publics) sysctls.push({ path: `net/ipv6/neigh/${p.iface}/proxy_delay`, value: '0' });
    }
    // The rules refuse everything those interfaces would forward but a held claim's traffic: nothing crosses between
    // the public LAN and the private links otherwise (docs/security.md).
    for (const f of uses6 ? [4, 6] as Family[] : [4] as Family[]) {
      for (const iface of forwardingIfaces) rules.push({ family: f, priority: RULE_DENY_PRIORITY, iif: iface, action: 'blackhole' });
    }
  }
  // An admin-down deletes a port's IPv6 addresses, and they do not come back with the port (measured): the owner would
  // stop accepting what its helper relays. Keep them.
  if (uses6) for (const p of cfg.publics) sysctls.push({ path: `net/ipv6/conf/${p.iface}/keep_addr_on_down`, value: '1' });
  // Two public ports on one LAN: each answers ARP only for the addresses it holds (arp_ignore 1). By default Linux
  // answers for any local address on every port, and a neighbour that learnt an address at the other port's MAC
  // kept sending there after that port failed (found by the chaos run: 2-3.4 s stalls).
  for (const p of cfg.publics) {
    if (cfg.publics.some((q) => q !== p && q.lan === p.lan)) sysctls.push({ path: `net/ipv4/conf/${p.iface}/arp_ignore`, value: '1' });
  }
  // Strict reverse-path filtering dropped packets during failback (measured): loose mode on private links.
  for (const l of cfg.privates) sysctls.push({ path: `net/ipv4/conf/${l.iface}/rp_filter`, value: '2' });

  const key = (r: RouteSpec) => `${r.family}/${r.dst}/${r.dstLen}/${r.metric ?? 0}`;
  const seen = new Set<string>();
  const uniqRoutes = routes.filter((r) => (seen.has(key(r)) ? false : (seen.add(key(r)), true)));
  return { addresses, managedAddresses, routes: uniqRoutes, proxies, rules, sysctls };
}
