// Lab topologies: reading them (YAML or JSON text, files, the embedded ones), writing them as YAML, and the
// queries the lab, the cluster and the demo ask of them. The model is in topology-model.ts, the validation in
// topology-check.ts; this module re-exports both, so importers need only this one.
import { readFile } from 'node:fs/promises';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { EMBEDDED_TOPOLOGY_NAMES, type EmbeddedTopologyName } from '../cli/lab-options.js';
import { HanetError } from '../errors.js';
import { LabError } from './errors.js';
import { EMBEDDED_TOPOLOGIES } from './topologies/index.js';
import { parsePortRef, type LinkKind, type LinkSpec, type NodeRole, type NodeSpec, type PortRef, type PortSpec, type Topology } from './topology-model.js';
import { parseTopology } from './topology-check.js';

export * from './topology-model.js';
export { formatPath, parseTopology, TopologyError, type TopologyIssue } from './topology-check.js';

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
export const embeddedTopologyNames = (): string[] => [...EMBEDDED_TOPOLOGY_NAMES];
const isEmbedded = (name: string): name is EmbeddedTopologyName => (EMBEDDED_TOPOLOGY_NAMES as readonly string[]).includes(name);

/** An embedded topology: `pair` (docs/CONTRACTS.md), `trio` (servers a, b, d), `dual` (a has a second public port). */
export function defaultTopology(name = 'pair'): Topology {
  if (!isEmbedded(name)) throw new HanetError('HANET_ERR_CONFIG', `no embedded topology "${name}" (known: ${embeddedTopologyNames().join(', ')})`);
  return parseTopologyText(EMBEDDED_TOPOLOGIES[name], `(embedded ${name})`);
}

/** The topology as YAML text (round-trips through parseTopologyText). */
export const topologyToYaml = (t: Topology): string => stringifyYaml(t, { collectionStyle: 'any' });

// ---------------------------------------------------------------------------------------------------------------
// Queries

export function getPort(t: Topology, ref: PortRef | string): { node: NodeSpec; port: PortSpec; ref: PortRef } {
  const r = typeof ref === 'string' ? parsePortRef(ref) : ref;
  if (!r) throw new LabError(`"${String(ref)}" is not a port reference like "a:eth0"`);
  const node = t.nodes[r.node];
  if (!node) throw new LabError(`no node "${r.node}" in the topology (nodes: ${Object.keys(t.nodes).join(', ')})`);
  const port = node.ports.find((p) => p.name === r.port);
  if (!port) throw new LabError(`node "${r.node}" has no port "${r.port}" (ports: ${node.ports.map((p) => p.name).join(', ') || 'none'})`);
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
  if (!n) throw new LabError(`no node "${node}" in the topology`);
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
