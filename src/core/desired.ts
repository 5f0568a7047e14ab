// What the kernel should hold, as a pure function of a node's state: service addresses where their placement puts
// them, takeover routes (prefix halves) of an owner whose interfaces failed, a helper's host routes and proxy
// entries, and the sysctls a takeover needs.
import { defaultPrefix, halves, hostPrefixLen, ipFamily, networkOf } from './ip.js';
import type { AddrSpec, DesiredKernelState, ProxySpec, RouteSpec, RuleSpec, SysctlSpec } from './kernel-types.js';
import type { HelperClaim } from './helper.js';
import type { Placement } from './owner.js';
import type { CoreConfig } from './types.js';

/** Metric of hanet's fallback default route: behind any default route the operator installs (0 by default). */
export const FALLBACK_DEFAULT_METRIC = 4242;
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
  helping: readonly HelperClaim[];
}

export function desiredKernelState(s: DesiredInput): DesiredKernelState {
  const { cfg } = s;
  const addresses: AddrSpec[] = [];
  const managedAddresses: AddrSpec[] = [];
  const routes: RouteSpec[] = [];
  const proxies: ProxySpec[] = [];
  const rules: RuleSpec[] = [];
  const sysctls: SysctlSpec[] = [];
  const famOf = (ip: string) => ipFamily(ip) ?? 4;

  for (const p of cfg.publics) {
    const pl = s.placement(p.iface);
    const where = pl.kind === 'local' ? pl.iface : p.iface;
    for (const a of p.addresses) {
      for (const q of cfg.publics) if (q.lan === p.lan) managedAddresses.push({ family: famOf(a.address), ifname: q.iface, address: a.address, prefixLen: a.prefixLen });
      addresses.push({ family: famOf(a.address), ifname: where, address: a.address, prefixLen: a.prefixLen });
    }
    if (pl.kind === 'local' || pl.kind === 'remote') {
      // Egress of a failed interface: the halves of its prefixes (and of the default route) through the local
      // backup interface or through the helper, with the service address as source.
      const src = p.addresses[0]?.address;
      const link = pl.kind === 'remote' ? cfg.privates.find((l) => l.name === pl.link) : undefined;
      const nh: { ifname: string; via?: string } = link ? { ifname: link.iface, via: link.peerAddress } : { ifname: pl.kind === 'local' ? pl.iface : p.iface };
      const prefixes = new Map<string, { address: string; prefixLen: number }>();
      for (const a of p.addresses) prefixes.set(`${networkOf(a)}/${a.prefixLen}`, a);
      for (const a of prefixes.values()) {
        for (const h of halves(a)) routes.push({ family: famOf(a.address), dst: h.dst, dstLen: h.dstLen, ...nh, src });
      }
      if (p.defaultRoute) {
        const via = pl.kind === 'local' ? p.gateway : nh.via;
        const f = famOf(p.gateway);
        for (const h of halves(defaultPrefix(f))) routes.push({ family: f, dst: h.dst, dstLen: h.dstLen, ifname: nh.ifname, via, src });
      }
    } else if (pl.kind === 'own' && p.defaultRoute && s.usable(p.iface)) {
      // A fallback default route: an admin-down removes the system's default route and an admin-up does not bring
      // it back (measured), so hanet keeps one of its own behind any the operator has (higher metric).
      const d = defaultPrefix(famOf(p.gateway));
      routes.push({ family: d.family, dst: d.address, dstLen: 0, ifname: p.iface, via: p.gateway, metric: FALLBACK_DEFAULT_METRIC });
    }
  }

  for (const hc of s.helping) {
    const link = cfg.privates.find((l) => l.name === hc.link);
    if (!link) continue;
    for (const a of hc.addresses) {
      const f = famOf(a);
      routes.push({ family: f, dst: a, dstLen: hostPrefixLen(f), ifname: link.iface, via: hc.ownerLinkAddress });
    }
    if (hc.lingerUntil === undefined) {
      const iface = s.helperIface(hc.lan);
      if (iface) for (const a of hc.addresses) proxies.push({ family: famOf(a), ifname: iface, address: a });
    }
    // Forwarding for this claim only (also while the route lingers): to the owner's addresses from the LAN, and
    // from them over the link.
    for (const a of hc.addresses) {
      const f = famOf(a);
      for (const q of cfg.publics) if (q.lan === hc.lan) rules.push({ family: f, priority: RULE_ALLOW_PRIORITY, iif: q.iface, dst: a, dstLen: hostPrefixLen(f), action: 'lookup-main' });
      rules.push({ family: f, priority: RULE_ALLOW_PRIORITY, iif: link.iface, src: a, srcLen: hostPrefixLen(f), action: 'lookup-main' });
    }
  }

  if (cfg.takeover.canHelp) {
    // Forwarding is switched on only on the interfaces a takeover uses (IPv4 decides per input interface, and proxy
    // ARP answers only where forwarding is on: measured), never globally; and by default proxy ARP answers 0.8 s
    // late (proxy_delay 80: measured). The rules then refuse everything those interfaces would forward but a held
    // claim's traffic: nothing crosses between the public LAN and the private links otherwise (docs/security.md).
    for (const p of cfg.publics) sysctls.push({ path: `net/ipv4/conf/${p.iface}/forwarding`, value: '1' }, { path: `net/ipv4/neigh/${p.iface}/proxy_delay`, value: '0' });
    for (const l of cfg.privates) sysctls.push({ path: `net/ipv4/conf/${l.iface}/forwarding`, value: '1' });
    for (const iface of [...cfg.publics.map((p) => p.iface), ...cfg.privates.map((l) => l.iface)]) rules.push({ family: 4, priority: RULE_DENY_PRIORITY, iif: iface, action: 'prohibit' });
  }
  // Strict reverse-path filtering dropped packets during failback (measured): loose mode on private links.
  for (const l of cfg.privates) sysctls.push({ path: `net/ipv4/conf/${l.iface}/rp_filter`, value: '2' });

  const key = (r: RouteSpec) => `${r.family}/${r.dst}/${r.dstLen}/${r.metric ?? 0}`;
  const seen = new Set<string>();
  const uniqRoutes = routes.filter((r) => (seen.has(key(r)) ? false : (seen.add(key(r)), true)));
  return { addresses, managedAddresses, routes: uniqRoutes, proxies, rules, sysctls };
}
