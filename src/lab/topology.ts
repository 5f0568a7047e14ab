// Lab topology model: nodes (client, router, switch, server), their ports, point-to-point links, routes and
// sysctls, validated with zod; errors name every offending field path. Pure: no side effects beyond reading a file.
import { readFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { z } from 'zod';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { HanetError } from '../errors.js';
import { EMBEDDED_TOPOLOGIES } from './topologies/index.js';

// ---------------------------------------------------------------------------------------------------------------
// Types

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

export interface NodeSpec {
  role: NodeRole;
  ports: PortSpec[];
  routes: RouteSpec[];
  /** Sysctls set inside the node's namespace, key as `net.ipv4.ip_forward` or `net/ipv4/ip_forward`. */
  sysctls: Record<string, string>;
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

// ---------------------------------------------------------------------------------------------------------------
// Address helpers (IPv4 and IPv6)

export interface Cidr {
  family: 4 | 6;
  address: string;
  prefixLen: number;
}

/** Parses `addr/len`; undefined when malformed. */
export function parseCidr(s: string): Cidr | undefined {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const address = m[1]!;
  const prefixLen = Number(m[2]);
  if (isIPv4(address)) return prefixLen <= 32 ? { family: 4, address, prefixLen } : undefined;
  if (isIPv6(address) && !address.includes('%')) return prefixLen <= 128 ? { family: 6, address, prefixLen } : undefined;
  return undefined;
}

export const ipFamily = (ip: string): 4 | 6 | undefined => (isIPv4(ip) ? 4 : isIPv6(ip) && !ip.includes('%') ? 6 : undefined);

/** The address as an unsigned integer (32 bits for IPv4, 128 for IPv6). Assumes a valid address. */
export function ipToBigInt(ip: string): bigint {
  if (isIPv4(ip)) return ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
  let s = ip;
  let tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const n = Number(ipToBigInt(v4[1]!));
    tail = [(n >>> 16) & 0xffff, n & 0xffff];
    s = s.slice(0, -v4[1]!.length);
    if (s.endsWith(':') && !s.endsWith('::')) s = s.slice(0, -1);
  }
  const [head, rest] = s.includes('::') ? s.split('::') : [s, undefined];
  const parse = (p: string | undefined) => (p ? p.split(':').filter((x) => x !== '').map((h) => parseInt(h, 16)) : []);
  const h = parse(head);
  const r = rest === undefined ? [] : parse(rest);
  const fill = 8 - h.length - r.length - tail.length;
  const groups = [...h, ...Array<number>(rest === undefined ? 0 : fill).fill(0), ...r, ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

const maskOf = (family: 4 | 6, len: number): bigint => {
  const bits = family === 4 ? 32n : 128n;
  return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(len))) - 1n);
};

/** True when `ip` lies in the subnet of `cidr` (same family). */
export function inSubnet(ip: string, cidr: Cidr): boolean {
  if (ipFamily(ip) !== cidr.family) return false;
  const m = maskOf(cidr.family, cidr.prefixLen);
  return (ipToBigInt(ip) & m) === (ipToBigInt(cidr.address) & m);
}

/** True when the host bits of the prefix are zero (the kernel rejects `10.0.0.1/24` as a route destination). */
export function isNetworkPrefix(c: Cidr): boolean {
  return (ipToBigInt(c.address) & ~maskOf(c.family, c.prefixLen)) === 0n;
}

// ---------------------------------------------------------------------------------------------------------------
// Names

/** Lab names: short so that namespace and interface names derived from them stay readable. */
export const LAB_NAME_RE = /^[a-z0-9]{1,8}$/;
/** Node names: no `-` (namespace `hn-<lab>-<node>` must split unambiguously), short for `<node>-<port>`. */
export const NODE_NAME_RE = /^[a-z][a-z0-9]{0,11}$/;
/** Linux interface names: IFNAMSIZ is 16 including the NUL, so at most 15 characters. */
export const IFNAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i;
const SYSCTL_KEY_RE = /^[A-Za-z0-9_][A-Za-z0-9_.:/-]*$/;

/** Name of the switch-side veth end for `node:port`, e.g. `a-eth0`. */
export const switchPortName = (node: string, port: string): string => `${node}-${port}`;
/** Name of the bridge inside a switch node's namespace. */
export const BRIDGE_NAME = 'br0';

/** Parses `node:port`. */
export function parsePortRef(s: string): PortRef | undefined {
  const m = /^([^:\s]+):([^:\s]+)$/.exec(s);
  return m ? { node: m[1]!, port: m[2]! } : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Schema (shape and per-field formats; cross-references are checked afterwards in `crossCheck`)

const cidrString = z.string().refine((s) => parseCidr(s) !== undefined, {
  error: (iss) => `${JSON.stringify(iss.input)} is not an address in CIDR notation (e.g. 10.0.0.11/24)`,
});
const ipString = z.string().refine((s) => ipFamily(s) !== undefined, {
  error: (iss) => `${JSON.stringify(iss.input)} is not an IP address`,
});
const ifname = z.string().regex(IFNAME_RE, 'must be a Linux interface name: 1-15 characters of [A-Za-z0-9_.-]').refine((s) => s !== 'lo', 'the name "lo" is reserved');

const PortSchema = z.strictObject({
  name: ifname,
  addresses: z.array(cidrString).default([]),
  switch: z.string().optional(),
  mac: z.string().regex(MAC_RE, 'must be a MAC address like 02:00:00:00:00:01').optional(),
  use: z.enum(['public', 'private']).optional(),
});

const RouteSchema = z.strictObject({
  to: z.string().refine((s) => s === 'default' || parseCidr(s) !== undefined, {
    error: (iss) => `${JSON.stringify(iss.input)} must be "default" or a prefix in CIDR notation (e.g. 10.9.0.0/24)`,
  }),
  via: ipString.optional(),
  dev: z.string().optional(),
  src: ipString.optional(),
  metric: z.number().int().min(0).max(0xffffffff).optional(),
});

const NodeSchema = z.strictObject({
  role: z.enum(['client', 'router', 'switch', 'server']),
  ports: z.array(PortSchema).default([]),
  routes: z.array(RouteSchema).default([]),
  sysctls: z
    .record(
      z.string().regex(SYSCTL_KEY_RE, 'must be a sysctl key like net.ipv4.ip_forward').refine((k) => !k.includes('..'), 'must not contain ".."'),
      z.union([z.string(), z.number(), z.boolean()]).transform((v) => (typeof v === 'boolean' ? (v ? '1' : '0') : String(v))),
    )
    .default({}),
});

const LinkSchema = z.strictObject({
  kind: z.enum(['veth', 'serial', 'udp']).default('veth'),
  ends: z.tuple([z.string(), z.string()], { error: 'must be two port references like ["a:eth1", "b:eth1"]' }),
  baud: z.number().int().positive().optional(),
  underlay: z.tuple([z.string(), z.string()], { error: 'must be two port references like ["a:eth1", "b:eth1"]' }).optional(),
});

const TopologySchema = z.strictObject({
  name: z.string().optional(),
  description: z.string().optional(),
  nodes: z.record(z.string().regex(NODE_NAME_RE, 'node names are 1-12 characters of [a-z0-9], starting with a letter'), NodeSchema),
  links: z.array(LinkSchema).default([]),
});

// Compile-time check that the schema's output is exactly the documented interfaces.
type SchemaOut = z.output<typeof TopologySchema>;
const _assignable: (x: SchemaOut) => Topology = (x) => x as Topology;
void _assignable;

// ---------------------------------------------------------------------------------------------------------------
// Errors

export interface TopologyIssue {
  path: string;
  message: string;
}

/** Formats a path like `nodes.a.ports[0].addresses[1]`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const s = String(seg);
      out += /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? (out ? `.${s}` : s) : `[${JSON.stringify(s)}]`;
    }
  }
  return out || '(topology)';
}

/** Thrown (as HANET_ERR_CONFIG) when a topology is invalid; `issues` lists every problem found. */
export class TopologyError extends HanetError {
  readonly issues: TopologyIssue[];
  constructor(issues: TopologyIssue[], source?: string) {
    const head = `invalid topology${source ? ` ${source}` : ''} (${issues.length} problem${issues.length === 1 ? '' : 's'})`;
    super('HANET_ERR_CONFIG', `${head}:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`);
    this.issues = issues;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Cross-reference checks

function crossCheck(t: Topology): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const add = (path: PropertyKey[], message: string) => issues.push({ path: formatPath(path), message });
  const nodeNames = Object.keys(t.nodes);
  if (nodeNames.length === 0) add(['nodes'], 'a topology needs at least one node');

  // Where each port is attached: 'switch' or the index of its link.
  const attached = new Map<string, string>();
  const seenIp = new Map<string, string>();

  for (const [nn, n] of Object.entries(t.nodes)) {
    const seenIf = new Map<string, number>();
    if (n.role === 'switch') {
      if (n.ports.length) add(['nodes', nn, 'ports'], 'a switch has no ports of its own: plug other nodes\' ports into it with `switch: ' + nn + '`');
      if (n.routes.length) add(['nodes', nn, 'routes'], 'a switch has no routes (its bridge has no addresses)');
    }
    n.ports.forEach((p, i) => {
      const prev = seenIf.get(p.name);
      if (prev !== undefined) add(['nodes', nn, 'ports', i, 'name'], `duplicate interface name "${p.name}" (also ports[${prev}])`);
      else seenIf.set(p.name, i);
      if (p.switch !== undefined) {
        const sw = t.nodes[p.switch];
        if (!sw) add(['nodes', nn, 'ports', i, 'switch'], `unknown switch "${p.switch}" (no node of that name)`);
        else if (sw.role !== 'switch') add(['nodes', nn, 'ports', i, 'switch'], `node "${p.switch}" is a ${sw.role}, not a switch`);
        const swName = switchPortName(nn, p.name);
        if (swName.length > 15) add(['nodes', nn, 'ports', i, 'name'], `switch-side interface name "${swName}" is longer than 15 characters: shorten the node or port name`);
        attached.set(`${nn}:${p.name}`, 'switch');
      }
      if (p.use !== undefined && n.role !== 'server') add(['nodes', nn, 'ports', i, 'use'], `only server ports have a use (node "${nn}" is a ${n.role})`);
      p.addresses.forEach((a, j) => {
        const ip = parseCidr(a)!.address;
        const key = ipToBigInt(ip).toString() + '/' + ipFamily(ip);
        const other = seenIp.get(key);
        if (other) add(['nodes', nn, 'ports', i, 'addresses', j], `address ${ip} is also used by ${other}`);
        else seenIp.set(key, `${nn}:${p.name}`);
      });
    });
  }

  t.links.forEach((l, li) => {
    const refs: (PortRef | undefined)[] = l.ends.map((e, ei) => {
      const r = parsePortRef(e);
      if (!r) return add(['links', li, 'ends', ei], `${JSON.stringify(e)} is not a port reference like "a:eth1"`), undefined;
      const n = t.nodes[r.node];
      if (!n) return add(['links', li, 'ends', ei], `unknown node "${r.node}"`), undefined;
      if (n.role === 'switch') return add(['links', li, 'ends', ei], `"${r.node}" is a switch: plug ports into it with \`switch: ${r.node}\` instead of a link`), undefined;
      if (!n.ports.some((p) => p.name === r.port)) return add(['links', li, 'ends', ei], `node "${r.node}" has no port "${r.port}"`), undefined;
      const prev = attached.get(e);
      if (prev === 'switch') return add(['links', li, 'ends', ei], `port ${e} is already plugged into a switch`), undefined;
      if (prev !== undefined) return add(['links', li, 'ends', ei], `port ${e} is already an end of ${prev}`), undefined;
      attached.set(e, `links[${li}]`);
      return r;
    });
    if (l.ends[0] === l.ends[1]) add(['links', li, 'ends'], 'a link needs two different ports');
    if (l.kind === 'serial') {
      if (l.baud === undefined) add(['links', li, 'baud'], 'a serial link needs a baud rate (e.g. 115200)');
      for (const [ei, r] of refs.entries()) if (r && t.nodes[r.node]?.role !== 'server') add(['links', li, 'ends', ei], `serial links join two servers; "${r.node}" is a ${t.nodes[r.node]?.role}`);
    } else if (l.baud !== undefined) add(['links', li, 'baud'], 'only serial links have a baud rate');
    if (l.kind === 'udp') {
      for (const [ei, r] of refs.entries()) if (r && t.nodes[r.node]?.role !== 'server') add(['links', li, 'ends', ei], `udp links join two servers; "${r.node}" is a ${t.nodes[r.node]?.role}`);
      if (l.underlay === undefined) add(['links', li, 'underlay'], 'a udp link needs underlay: the two ports (one per end\'s node) whose addresses carry the UDP');
      else l.underlay.forEach((u, ui) => {
        const r = parsePortRef(u);
        const port = r && t.nodes[r.node]?.ports.find((p) => p.name === r.port);
        if (!r || !port) add(['links', li, 'underlay', ui], `${JSON.stringify(u)} is not a port of the topology`);
        else if (r.node !== refs[ui]?.node) add(['links', li, 'underlay', ui], `must be a port of node "${refs[ui]?.node ?? '?'}" (ends[${ui}])`);
        else if (port.addresses.length === 0) add(['links', li, 'underlay', ui], `port ${u} has no address`);
      });
    } else if (l.underlay !== undefined) add(['links', li, 'underlay'], 'only udp links have an underlay');
  });

  for (const [nn, n] of Object.entries(t.nodes)) {
    n.ports.forEach((p, i) => {
      if (!attached.has(`${nn}:${p.name}`)) add(['nodes', nn, 'ports', i], `port "${p.name}" is not attached: set \`switch: <switch node>\` or list "${nn}:${p.name}" in links`);
    });
    const subnets = (dev?: string) => n.ports.filter((p) => dev === undefined || p.name === dev).flatMap((p) => p.addresses.map((a) => parseCidr(a)!));
    n.routes.forEach((r, i) => {
      const to = r.to === 'default' ? undefined : parseCidr(r.to)!;
      if (to && !isNetworkPrefix(to)) add(['nodes', nn, 'routes', i, 'to'], `${r.to} has host bits set (did you mean the network prefix?)`);
      if (r.via === undefined && r.dev === undefined) add(['nodes', nn, 'routes', i], 'a route needs `via` (gateway) or `dev` (interface)');
      if (r.dev !== undefined && !n.ports.some((p) => p.name === r.dev)) add(['nodes', nn, 'routes', i, 'dev'], `node "${nn}" has no port "${r.dev}"`);
      if (r.via !== undefined) {
        const fam = ipFamily(r.via);
        if (to && to.family !== fam) add(['nodes', nn, 'routes', i, 'via'], `gateway ${r.via} is not of the same address family as ${r.to}`);
        else if (!subnets(r.dev).some((c) => inSubnet(r.via!, c)))
          add(['nodes', nn, 'routes', i, 'via'], `gateway ${r.via} is not in a subnet of ${r.dev ? `port "${r.dev}"` : `any port of node "${nn}"`}`);
      }
      if (r.src !== undefined && !n.ports.some((p) => p.addresses.some((a) => parseCidr(a)!.address === r.src)))
        add(['nodes', nn, 'routes', i, 'src'], `source ${r.src} is not an address of node "${nn}"`);
    });
  }
  return issues;
}

// ---------------------------------------------------------------------------------------------------------------
// Entry points

/** Validates a plain object (e.g. parsed YAML) as a topology; throws TopologyError (HANET_ERR_CONFIG) listing every issue. */
export function parseTopology(obj: unknown, source?: string): Topology {
  const r = TopologySchema.safeParse(obj);
  if (!r.success) {
    throw new TopologyError(
      r.error.issues.map((i) => ({
        path: formatPath(i.path),
        // zod reports a bad record key as "Invalid key in record" with the key's own issues nested: show those.
        message: i.code === 'invalid_key' && i.issues.length ? `invalid key: ${i.issues.map((x) => x.message).join('; ')}` : i.message,
      })),
      source,
    );
  }
  const t = r.data as Topology;
  const issues = crossCheck(t);
  if (issues.length) throw new TopologyError(issues, source);
  return t;
}

/** Parses YAML (or JSON) text as a topology. */
export function parseTopologyText(text: string, source?: string): Topology {
  let obj: unknown;
  try {
    obj = parseYaml(text);
  } catch (e) {
    throw new HanetError('HANET_ERR_CONFIG', `topology${source ? ` ${source}` : ''} is not valid YAML: ${(e as Error).message}`, { cause: e });
  }
  return parseTopology(obj, source);
}

/** Reads and validates a topology file (YAML or JSON). */
export async function loadTopologyFile(path: string): Promise<Topology> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new HanetError('HANET_ERR_CONFIG', `cannot read topology file ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseTopologyText(text, path);
}

/** Names of the embedded topologies. */
export const embeddedTopologyNames = (): string[] => Object.keys(EMBEDDED_TOPOLOGIES);

/** An embedded topology: `pair` (docs/CONTRACTS.md), `trio` (servers a, b, d), `dual` (a has a second public port). */
export function defaultTopology(name = 'pair'): Topology {
  const text = EMBEDDED_TOPOLOGIES[name];
  if (text === undefined) throw new HanetError('HANET_ERR_CONFIG', `no embedded topology "${name}" (known: ${embeddedTopologyNames().join(', ')})`);
  return parseTopologyText(text, `(embedded ${name})`);
}

/** The topology as YAML text (round-trips through parseTopologyText). */
export const topologyToYaml = (t: Topology): string => stringifyYaml(t, { collectionStyle: 'any' });

// ---------------------------------------------------------------------------------------------------------------
// Queries

export function getPort(t: Topology, ref: PortRef | string): { node: NodeSpec; port: PortSpec; ref: PortRef } {
  const r = typeof ref === 'string' ? parsePortRef(ref) : ref;
  if (!r) throw new HanetError('HANET_ERR_LAB', `"${String(ref)}" is not a port reference like "a:eth0"`);
  const node = t.nodes[r.node];
  if (!node) throw new HanetError('HANET_ERR_LAB', `no node "${r.node}" in the topology (nodes: ${Object.keys(t.nodes).join(', ')})`);
  const port = node.ports.find((p) => p.name === r.port);
  if (!port) throw new HanetError('HANET_ERR_LAB', `node "${r.node}" has no port "${r.port}" (ports: ${node.ports.map((p) => p.name).join(', ') || 'none'})`);
  return { node, port, ref: r };
}

/** The link a port is an end of, with the other end. */
export function linkOf(t: Topology, ref: PortRef): { link: LinkSpec; index: number; peer: PortRef } | undefined {
  const key = `${ref.node}:${ref.port}`;
  for (const [index, link] of t.links.entries()) {
    const i = link.ends.indexOf(key);
    if (i >= 0) return { link, index, peer: parsePortRef(link.ends[1 - i]!)! };
  }
  return undefined;
}

export interface ServerPortInfo {
  port: string;
  addresses: string[];
  /** Public ports: the switch they are plugged into (undefined for a routed public port). */
  switch?: string;
  /** Private ports: the other end and the link kind. */
  peer?: PortRef;
  kind?: LinkKind;
  baud?: number;
}

/** A server's ports split into public (towards clients) and private (to other servers), as hanet's demo needs them. */
export function serverPorts(t: Topology, node: string): { public: ServerPortInfo[]; private: ServerPortInfo[] } {
  const n = t.nodes[node];
  if (!n) throw new HanetError('HANET_ERR_LAB', `no node "${node}" in the topology`);
  const out = { public: [] as ServerPortInfo[], private: [] as ServerPortInfo[] };
  for (const p of n.ports) {
    const info: ServerPortInfo = { port: p.name, addresses: [...p.addresses] };
    if (p.switch !== undefined) info.switch = p.switch;
    const l = linkOf(t, { node, port: p.name });
    if (l) {
      info.peer = l.peer;
      info.kind = l.link.kind;
      if (l.link.baud !== undefined) info.baud = l.link.baud;
    }
    const use = p.use ?? (p.switch !== undefined ? 'public' : l && t.nodes[l.peer.node]?.role === 'server' ? 'private' : 'public');
    out[use].push(info);
  }
  return out;
}

/** Names of nodes with a role, in topology order. */
export const nodesWithRole = (t: Topology, role: NodeRole): string[] => Object.entries(t.nodes).filter(([, n]) => n.role === role).map(([k]) => k);
