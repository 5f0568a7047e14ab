// The `public` section: the interfaces clients reach this server on, their service addresses, gateway and failure
// probing (`probe`); the gateway is needed for ARP probes and the default route (default: on the first interface).
import { z } from 'zod';
import type { Cidr } from '../../core/ip.js';
import { inPrefix, ipFamily, isLinkLocal, isMulticast } from '../../core/ip.js';
import { camelKeys } from '../camel.js';
import { ifName, ipAddress, ipHostCidr, lanName, ms, show } from '../fields.js';

// Service addresses and gateways of either family, in any mix on one interface.
const address = ipHostCidr([4, 6]);
const gateway = ipAddress([4, 6]);
/** One gateway, or one per family (`[10.0.0.1, fe80::1]`). */
const gateways = z.union([gateway.schema, z.array(gateway.schema).min(1).max(2)]);
const gatewayList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

export const probeSchema = z.strictObject({
  carrier_interval_ms: ms(1, 10_000).default(10).meta({
    description: 'How often the carrier is read directly from the kernel. Measured: carrier-down notifications can arrive up to ~1 s ' +
      'late, so hanet reads the link state itself instead of waiting for them.',
  }),
  arp_interval_ms: ms(1, 10_000).default(10).meta({ description: 'Interval between ARP probes of the gateway.' }),
  arp_misses: z.number().int().min(1).max(1000).default(2).meta({
    description: 'The LAN counts as failed when this many probes in a row got no reply before the next probe went out (about ' +
      'arp_interval_ms * arp_misses after the cut). Counted per probe, so a stalled daemon is no failure.',
  }),
  arp: z.boolean().default(true).meta({
    description: 'Whether to probe the gateway with ARP: it catches failures the carrier does not show (a dead switch port, a cut uplink).',
  }),
});

export const PUBLIC_MODES = ['l2', 'l3'] as const;
export type PublicMode = (typeof PUBLIC_MODES)[number];

/** The BGP session of an L3 interface with its top-of-rack router: what `hanet config bird` writes into the snippet. */
export const bgpSchema = z.strictObject({
  local_as: z.number().int().min(1).max(4_294_967_295).meta({ description: "This server's AS number in its BGP session with the ToR router." }),
  peer_as: z.number().int().min(1).max(4_294_967_295).meta({ description: "The ToR router's AS number." }),
  neighbor: gateways.optional().meta({
    description: "The ToR router's address for the BGP session, or one per family ([10.1.0.1, 2001:db8:1::1]: a session each). " +
      'Default: the interface\'s gateways, a link-local one only where the family has no other.',
  }),
  check: z.boolean().default(true).meta({
    description: 'Help a failed peer on this fabric only while BIRD has one of this interface\'s BGP sessions Established (asked ' +
      'through bird_socket every second): a host route BIRD cannot announce would leave the peer\'s address unreachable, and ' +
      'another helper can take it. false: assume BIRD announces.',
  }),
  bird_socket: z.string().min(1).default('/run/bird/bird.ctl').meta({ description: "BIRD's control socket (bird -s), for the check." }),
  sessions: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a BIRD protocol name')).min(1).optional().meta({
    description: 'The BIRD protocol names of this interface\'s BGP sessions, for the check. Default: the names `hanet config ' +
      'bird` writes (hanet_<interface>_v4, hanet_<interface>_v6).',
  }),
});

export const publicSchema = z.strictObject({
  interface: ifName.meta({ description: 'The public interface (a switch port of this server).' }),
  mode: z.enum(PUBLIC_MODES).default('l2').meta({
    description: 'How a helper makes this LAN\'s addresses reach it when this server fails. l2: the helper is on the same Ethernet ' +
      'segment and answers ARP/NDP for them (proxy entries, gratuitous ARP). l3: the servers are in routed racks (a ToR router ' +
      'per rack, BGP in the fabric); the helper installs a host route (/32, /128, route protocol 78) to them over the private link ' +
      'and BIRD announces it to its ToR (docs/l3.md, `hanet config bird`). With l3, `lan` names the routed fabric: use the same ' +
      'name on every server, whatever its rack subnet.',
  }),
  bgp: bgpSchema.optional().meta({ description: 'The BGP session with the ToR router that `hanet config bird` writes for a mode l3 interface (optional; unused in mode l2).' }),
  lan: lanName.default('lan0').meta({
    description: 'Name of the LAN segment. Use the same name on every server attached to the same segment: a helper can only answer ' +
      'for addresses of a LAN it is attached to.',
  }),
  addresses: z.array(address.schema).min(1).meta({
    description: 'Service addresses (CIDR, IPv4 or IPv6, any mix) hanet keeps reachable; on failure a helper answers ARP (IPv4) or ' +
      'Neighbor Solicitations (IPv6) for them. Host addresses, not link-local. At least one.',
  }),
  gateway: gateways.optional().meta({
    description: 'The router on this LAN: target of the probes (ARP for IPv4, Neighbor Solicitation for IPv6) and next hop of the ' +
      'default route. One address, or a list of one per family (e.g. [10.0.0.1, fe80::1]). Each must be inside the prefix of one ' +
      'of the addresses of its family (an IPv6 gateway may be link-local). Required when probe.arp or default_route is true.',
  }),
  default_route: z.boolean().optional().meta({
    description: 'Whether this LAN carries the default route. Default: true for the first public interface (unless another one sets ' +
      'it), false for the others. At most one public interface may carry it.',
  }),
  probe: probeSchema.default(() => probeSchema.parse({})).meta({ description: 'How failures of the interface are detected.' }),
}).superRefine((p, ctx) => {
  // Refinements also run when some fields failed (zod reports those itself): use only the valid parts.
  const addrs: unknown[] = Array.isArray(p.addresses) ? p.addresses : [];
  const cidrs = addrs.map((a) => address.parse(a)).filter((c): c is Cidr => c !== undefined);
  addrs.forEach((a, i) => {
    const c = address.parse(a);
    if (c && (isLinkLocal(c.address) || isMulticast(c.address))) {
      ctx.addIssue({ code: 'custom', path: ['addresses', i], message: `${show(a)} is a ${isMulticast(c.address) ? 'multicast' : 'link-local'} address: a service address must be a unicast address reachable beyond the link` });
    }
  });
  const gws = gatewayList(p.gateway);
  const gwPath = (i: number): PropertyKey[] => (Array.isArray(p.gateway) ? ['gateway', i] : ['gateway']);
  const families = new Map<number, number>();
  gws.forEach((g, i) => {
    const gw = gateway.parse(g);
    if (gw === undefined) return; // invalid: already reported
    const f = ipFamily(gw)!;
    if (families.has(f)) ctx.addIssue({ code: 'custom', path: gwPath(i), message: `${show(g)}: only one IPv${f} gateway per interface (also gateway[${families.get(f)}])` });
    families.set(f, i);
    if (cidrs.length !== addrs.length || cidrs.length === 0) return; // invalid addresses: already reported
    const same = cidrs.filter((c) => c.family === f);
    if (cidrs.some((c) => c.address === gw)) {
      ctx.addIssue({ code: 'custom', path: gwPath(i), message: `${show(g)} is one of the interface's own service addresses` });
    } else if (!(f === 6 && isLinkLocal(gw)) && !same.some((c) => inPrefix(gw, c))) {
      ctx.addIssue({ code: 'custom', path: gwPath(i), message: `${show(g)} is not inside the prefix of any of the interface's IPv${f} addresses (${same.length ? same.map((c) => `${c.address}/${c.prefixLen}`).join(', ') : 'it has none'})` });
    }
  });
  const nbs = p.bgp && Array.isArray(p.bgp.neighbor) ? p.bgp.neighbor : [];
  const nbFams = nbs.map((g) => gateway.parse(g)).map((g) => (g === undefined ? undefined : ipFamily(g)));
  if (nbFams.length === 2 && nbFams[0] !== undefined && nbFams[0] === nbFams[1]) {
    ctx.addIssue({ code: 'custom', path: ['bgp', 'neighbor', 1], message: `${show(nbs[1])}: one neighbour per family (also neighbor[0])` });
  }
  if (p.gateway !== undefined) {
    // checked above
  } else if (p.probe?.arp !== false) {
    ctx.addIssue({ code: 'custom', path: ['gateway'], message: 'is required when probe.arp is true (the gateway is the ARP probe target); set it, or set probe.arp: false' });
  } else if (p.default_route === true) {
    ctx.addIssue({ code: 'custom', path: ['gateway'], message: 'is required when default_route is true (it is the next hop of the default route)' });
  }
  const seen = new Map<string, number>();
  addrs.forEach((a, i) => {
    const c = address.parse(a);
    if (c === undefined) return;
    const j = seen.get(c.address);
    if (j !== undefined) ctx.addIssue({ code: 'custom', path: ['addresses', i], message: `${show(c.address)} is listed twice (also addresses[${j}])` });
    else seen.set(c.address, i);
  });
});

/** The service addresses of a partially parsed public interface that its field accepts (for document-wide checks). */
export const serviceAddress = (v: unknown): Cidr | undefined => address.parse(v);

type RawPublic = z.output<typeof publicSchema>;

/** One typed public interface: addresses with their prefix, and the default route resolved over all interfaces. */
export function toPublic(p: RawPublic, i: number, all: readonly RawPublic[]) {
  const { addresses, default_route: defaultRoute, gateway: gw, bgp, ...rest } = p;
  const gateways = gatewayList(gw).map((g) => gateway.parse(g)!).sort((x, y) => ipFamily(x)! - ipFamily(y)!);
  const neighbors = bgp?.neighbor !== undefined ? gatewayList(bgp.neighbor).map((g) => gateway.parse(g)!).sort((x, y) => ipFamily(x)! - ipFamily(y)!) : gateways;
  return {
    ...camelKeys(rest),
    addresses: addresses.map((a) => address.parse(a)!),
    /** One gateway per family (canonical text), IPv4 first. */
    gateways,
    /** mode l3: the BGP sessions with the ToR (neighbours resolved, IPv4 first: default the gateways). */
    ...(bgp ? { bgp: { localAs: bgp.local_as, peerAs: bgp.peer_as, neighbors, check: bgp.check, birdSocket: bgp.bird_socket, ...(bgp.sessions ? { sessions: bgp.sessions } : {}) } } : {}),
    defaultRoute: defaultRoute ?? (i === 0 && !all.some((q) => q.default_route === true)),
  };
}
export type PublicInterfaceConfig = ReturnType<typeof toPublic>;
export type ProbeConfig = PublicInterfaceConfig['probe'];
