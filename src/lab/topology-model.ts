// The lab topology's model: nodes (client, router, switch, server), their ports, point-to-point links, routes and
// sysctls as types, and the naming rules of namespaces, interfaces and port references. Pure.

export type NodeRole = 'client' | 'router' | 'switch' | 'server';
export const NODE_ROLES: readonly NodeRole[] = ['client', 'router', 'switch', 'server'];

/** A network interface of a node. Attached either to a switch (`switch: sw`) or to one end of a `links` entry. */
export interface PortSpec {
  /** Interface name inside the node's namespace (≤ 15 chars, not `lo`). */
  name: string;
  /** Addresses in CIDR notation, e.g. `10.0.0.11/24` (IPv4 or IPv6). */
  addresses: string[];
  /** Name of the switch node this port is plugged into (veth; the switch-side end is named `<node>-<port>`). */
  switch?: string;
  /** Fixed MAC address (random when absent). */
  mac?: string;
  /** Servers only: how hanet uses the port. Default: switch-attached = public, link to another server = private. */
  use?: 'public' | 'private';
}

/** A route of a node: `to: default` or a CIDR prefix, via a gateway and/or out of a device. */
export interface RouteSpec {
  to: string;
  via?: string;
  dev?: string;
  src?: string;
  metric?: number;
}

/**
 * BGP of a router or server that runs BIRD in the lab (src/lab/bird.ts, the `l3` topology): its AS and its eBGP
 * neighbours. A router announces its connected networks and what it learns; a server runs hanet in L3 mode and
 * announces only the host routes hanet installs while it helps (the snippet of `hanet config bird`).
 */
export interface BgpSpec {
  as: number;
  neighbors: Array<{ address: string; as: number }>;
}

export interface NodeSpec {
  role: NodeRole;
  ports: PortSpec[];
  routes: RouteSpec[];
  /** Sysctls set inside the node's namespace, key as `net.ipv4.ip_forward` or `net/ipv4/ip_forward`. */
  sysctls: Record<string, string>;
  /** Routers and servers: run BIRD with these eBGP sessions. */
  bgp?: BgpSpec;
}

export type LinkKind = 'veth' | 'serial' | 'udp';
/**
 * A point-to-point link between two ports, written `node:port`. `veth`: a veth pair. `serial` (with baud): a
 * pseudo-terminal pair joined by a rate-limited relay; its ends are the TUN interfaces hanet creates (the lab
 * makes no interface for them). `udp`: a tunnel hanet makes between two servers over a routed network; its ends
 * are TUN interfaces too, and `underlay` names the ports whose addresses carry the UDP (the lab builds nothing).
 */
export interface LinkSpec {
  kind: LinkKind;
  ends: [string, string];
  baud?: number;
  underlay?: [string, string];
}

/** Ports that are ends of serial or udp links: interfaces hanet creates (TUN), not the lab. */
export function tunPorts(t: Topology, node: string): Set<string> {
  const out = new Set<string>();
  for (const l of t.links) {
    if (l.kind === 'veth') continue;
    for (const e of l.ends) {
      const r = parsePortRef(e);
      if (r && r.node === node) out.add(r.port);
    }
  }
  return out;
}

export interface Topology {
  name?: string;
  description?: string;
  nodes: Record<string, NodeSpec>;
  links: LinkSpec[];
}

export interface PortRef {
  node: string;
  port: string;
}

/** Lab names: short so that namespace and interface names derived from them stay readable. */
export const LAB_NAME_RE = /^[a-z0-9]{1,8}$/;
/** Node names: no `-` (namespace `hn-<lab>-<node>` must split unambiguously), short for `<node>-<port>`. */
export const NODE_NAME_RE = /^[a-z][a-z0-9]{0,11}$/;
/** Linux interface names: IFNAMSIZ is 16 including the NUL, so at most 15 characters. */
export const IFNAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
export const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
export const SYSCTL_KEY_RE = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]*$/;

/** Name of the switch-side veth end for `node:port`, e.g. `a-eth0`. */
export const switchPortName = (node: string, port: string): string => `${node}-${port}`;
/** Name of the bridge inside a switch node's namespace. */
export const BRIDGE_NAME = 'br0';

/** Parses `node:port`. */
export function parsePortRef(s: string): PortRef | undefined {
  const m = /^([^:\s]+):([^:\s]+)$/.exec(s);
  return m ? { node: m[1]!, port: m[2]! } : undefined;
}
