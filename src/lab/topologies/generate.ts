// Generated lab topologies (issue #15): an N-server cluster on one public LAN (L2) or in racks of a BGP fabric (L3),
// with a chosen graph of private links, for scale runs (`hanet lab up --servers 32 --links ring`). Pure: the result
// goes through the same validation as a topology file.
import { LabError } from '../errors.js';
import { parseTopology } from '../topology-check.js';
import type { LinkSpec, NodeSpec, Topology } from '../topology-model.js';

/**
 * The private-link graph between servers n1..nN: `ring` (each server to the next, the last to the first), `ring:K`
 * (each to the next K around the ring: 2K links per server), `chain` (a ring without its closing link), `pairs`
 * (n1-n2, n3-n4, ...: one helper each), `star` (n1 linked to every other), `full` (every pair).
 */
export type LinkGraph = 'ring' | 'chain' | 'pairs' | 'star' | 'full' | `ring:${number}`;
export const LINK_GRAPH_HELP = 'ring, ring:K, chain, pairs, star, full';

export interface GenerateOptions {
  servers: number;
  /** l2: every server's eth0 on one switch behind router r; l3: racks behind ToR routers and a spine, BIRD/eBGP. */
  mode?: 'l2' | 'l3';
  links?: string;
  /** l3: number of racks (default 4, at most the number of servers); servers go round-robin, n1 in rack 1. */
  racks?: number;
  /** Also IPv6 on the client network and the public side (dual-stack). */
  ipv6?: boolean;
}

/** The most servers a generated lab holds: the addresses below stay in their /16 and /24 plans. */
export const MAX_GENERATED_SERVERS = 1000;
/** A server's name: n1..nN (no clash with c, r, sw, the spine s and the ToRs t<k>). */
export const genServerName = (i: number): string => `n${i}`;

/** The server pairs a graph links (1-based indices), each once, in a stable order. */
export function linkPairs(graph: string, n: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const seen = new Set<string>();
  const add = (x: number, y: number): void => {
    if (x === y) return;
    const [p, q] = x < y ? [x, y] : [y, x];
    const key = `${p}-${q}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push([p, q]);
  };
  const ring = /^ring(?::(\d+))?$/.exec(graph);
  if (ring) {
    const k = ring[1] === undefined ? 1 : Number(ring[1]);
    if (!Number.isInteger(k) || k < 1 || k >= n) throw new LabError(`--links ${graph}: K must be 1..${n - 1} for ${n} servers`);
    for (let d = 1; d <= k; d++) for (let i = 1; i <= n; i++) add(i, ((i - 1 + d) % n) + 1);
  } else if (graph === 'chain') {
    for (let i = 1; i < n; i++) add(i, i + 1);
  } else if (graph === 'pairs') {
    if (n % 2 !== 0) throw new LabError(`--links pairs needs an even number of servers (got ${n})`);
    for (let i = 1; i < n; i += 2) add(i, i + 1);
  } else if (graph === 'star') {
    for (let i = 2; i <= n; i++) add(1, i);
  } else if (graph === 'full') {
    for (let i = 1; i <= n; i++) for (let j = i + 1; j <= n; j++) add(i, j);
  } else {
    throw new LabError(`--links ${JSON.stringify(graph)}: not a link graph (${LINK_GRAPH_HELP})`);
  }
  return out;
}

/** The /30 of private link number k (0-based): 192.168.<k/64>.<4(k%64)+1|2>, as many links as a /16 holds. */
const linkAddress = (k: number, end: 0 | 1): string => `192.168.${k >> 6}.${(k & 63) * 4 + 1 + end}/30`;
/** Host number h on a /16: 10.0.<h/256>.<h%256> (h ≥ 10 keeps clear of the router's .1). */
const lanHost = (h: number): string => `${h >> 8}.${h & 255}`;
/** Private 4-byte AS numbers for the servers (RFC 6996), one each; 65000 the spine, 65000+k the ToR of rack k. */
const serverAs = (i: number): number => 4_200_000_000 + i;

function clientAndRouter(ipv6: boolean, lanPorts: Array<{ addresses: string[]; switch?: string; name: string }>, router: string): Record<string, NodeSpec> {
  return {
    c: { role: 'client', ports: [{ name: 'eth0', addresses: ['10.9.0.2/24', ...(ipv6 ? ['2001:db8:9::2/64'] : [])] }], routes: [{ to: 'default', via: '10.9.0.1' }, ...(ipv6 ? [{ to: 'default', via: '2001:db8:9::1' }] : [])], sysctls: {} },
    [router]: {
      role: 'router',
      ports: [{ name: 'eth0', addresses: ['10.9.0.1/24', ...(ipv6 ? ['2001:db8:9::1/64'] : [])] }, ...lanPorts],
      routes: [],
      sysctls: { 'net.ipv4.ip_forward': '1', ...(ipv6 ? { 'net.ipv6.conf.all.forwarding': '1' } : {}) },
    },
  };
}

/** An N-server topology (see GenerateOptions), validated. */
export function generateTopology(o: GenerateOptions): Topology {
  const n = o.servers;
  if (!Number.isInteger(n) || n < 2 || n > MAX_GENERATED_SERVERS) throw new LabError(`--servers must be 2..${MAX_GENERATED_SERVERS} (got ${n})`);
  const mode = o.mode ?? 'l2';
  const graph = o.links ?? 'ring';
  const ipv6 = o.ipv6 === true;
  const pairs = linkPairs(graph, n);
  const nodes: Record<string, NodeSpec> = {};
  const links: LinkSpec[] = [{ kind: 'veth', ends: ['c:eth0', `${mode === 'l2' ? 'r' : 's'}:eth0`] }];
  const servers: NodeSpec[] = [];
  if (mode === 'l2') {
    Object.assign(nodes, clientAndRouter(ipv6, [{ name: 'eth1', addresses: ['10.0.0.1/16', ...(ipv6 ? ['2001:db8::1/64', 'fe80::1/64'] : [])], switch: 'sw' }], 'r'));
    nodes.sw = { role: 'switch', ports: [], routes: [], sysctls: {} };
    for (let i = 1; i <= n; i++) {
      const h = 10 + i;
      servers.push({
        role: 'server',
        ports: [{ name: 'eth0', addresses: [`10.0.${lanHost(h)}/16`, ...(ipv6 ? [`2001:db8::${h}/64`] : [])], switch: 'sw' }],
        routes: [{ to: 'default', via: '10.0.0.1' }, ...(ipv6 ? [{ to: 'default', via: 'fe80::1', dev: 'eth0' }] : [])],
        sysctls: {},
      });
    }
  } else {
    if (ipv6) throw new LabError('a generated L3 lab is IPv4 only (the embedded l346 is the dual-stack fabric)');
    const racks = o.racks ?? Math.min(4, n);
    if (!Number.isInteger(racks) || racks < 1 || racks > n || racks > 250) throw new LabError(`--racks must be 1..${Math.min(n, 250)} (got ${o.racks})`);
    if (Math.ceil(n / racks) > 240) throw new LabError(`${n} servers in ${racks} racks: at most 240 per rack`);
    const spinePorts = Array.from({ length: racks }, (_, k) => ({ name: `eth${k + 1}`, addresses: [`10.255.${k + 1}.1/30`] }));
    Object.assign(nodes, clientAndRouter(false, spinePorts, 's'));
    nodes.s!.bgp = { as: 65000, neighbors: spinePorts.map((_, k) => ({ address: `10.255.${k + 1}.2`, as: 65000 + k + 1 })) };
    const rackOf = (i: number): number => ((i - 1) % racks) + 1;
    const serverAddr = (i: number): string => `10.${rackOf(i)}.0.${10 + Math.floor((i - 1) / racks)}`;
    for (let k = 1; k <= racks; k++) {
      links.push({ kind: 'veth', ends: [`s:eth${k}`, `t${k}:eth0`] });
      const members = Array.from({ length: n }, (_, j) => j + 1).filter((i) => rackOf(i) === k);
      nodes[`t${k}`] = {
        role: 'router',
        ports: [{ name: 'eth0', addresses: [`10.255.${k}.2/30`] }, { name: 'eth1', addresses: [`10.${k}.0.1/24`], switch: `sw${k}` }],
        routes: [],
        sysctls: { 'net.ipv4.ip_forward': '1' },
        bgp: { as: 65000 + k, neighbors: [{ address: `10.255.${k}.1`, as: 65000 }, ...members.map((i) => ({ address: serverAddr(i), as: serverAs(i) }))] },
      };
      nodes[`sw${k}`] = { role: 'switch', ports: [], routes: [], sysctls: {} };
    }
    for (let i = 1; i <= n; i++) {
      const k = rackOf(i);
      servers.push({
        role: 'server',
        ports: [{ name: 'eth0', addresses: [`${serverAddr(i)}/24`], switch: `sw${k}` }],
        routes: [{ to: 'default', via: `10.${k}.0.1` }],
        sysctls: {},
        bgp: { as: serverAs(i), neighbors: [{ address: `10.${k}.0.1`, as: 65000 + k }] },
      });
    }
  }
  // Private links: veth pairs with their own /30, each server's private ports eth1, eth2, ... in link order.
  pairs.forEach(([x, y], k) => {
    const ends = [x, y].map((i, end) => {
      const s = servers[i - 1]!;
      const port = `eth${s.ports.length}`;
      s.ports.push({ name: port, addresses: [linkAddress(k, end as 0 | 1)] });
      return `${genServerName(i)}:${port}`;
    });
    links.push({ kind: 'veth', ends: [ends[0]!, ends[1]!] });
  });
  servers.forEach((s, j) => { nodes[genServerName(j + 1)] = s; });
  const racksNote = mode === 'l3' ? ` in ${o.racks ?? Math.min(4, n)} racks (BIRD, eBGP)` : '';
  const name = `gen-${mode}-${n}`;
  return parseTopology({
    name,
    description: `generated: ${n} servers n1..n${n}${racksNote}${ipv6 ? ', dual-stack' : ''}, private links ${graph} (${pairs.length}); client c behind ${mode === 'l2' ? 'router r' : 'spine s'}`,
    nodes,
    links,
  }, `(generated ${name})`);
}
