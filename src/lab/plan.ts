// A lab's names and its pure plan: namespace names `hn-<lab>-<node>`, the `ip -batch` lines that build the
// topology's veth pairs, bridges, addresses and routes, and the sysctls per namespace. No side effects (unit-tested).
import { ipFamily, parseCidr } from '../core/ip.js';
import { LabError } from './errors.js';
import { BRIDGE_NAME, LAB_NAME_RE, switchPortName, tunPorts, type NodeSpec, type Topology } from './topology.js';

export const NS_PREFIX = 'hn-';

export const nsName = (lab: string, node: string): string => `${NS_PREFIX}${lab}-${node}`;

export function checkLabName(name: string): void {
  if (!LAB_NAME_RE.test(name)) throw new LabError(`invalid lab name ${JSON.stringify(name)}: 1-8 characters of [a-z0-9]`);
}

/** The namespaces a `labDown` target removes, from a list of existing namespace names. Pure (unit-tested). */
export function selectNamespaces(existing: readonly string[], target: { name: string } | { all: true }): string[] {
  const prefix = 'all' in target ? NS_PREFIX : `${NS_PREFIX}${target.name}-`;
  return existing.filter((n) => n.startsWith(prefix));
}

/** What `up` runs: `ip -batch` lines for the root namespace, per namespace, and sysctls per namespace. */
export interface LabPlan {
  namespaces: string[];
  root: string[];
  perNs: Record<string, string[]>;
  sysctls: Record<string, Array<[key: string, value: string]>>;
}

const addrLine = (verb: 'add' | 'replace', cidr: string, dev: string): string =>
  `address ${verb} ${cidr} dev ${dev}${parseCidr(cidr)?.family === 6 ? ' nodad' : ''}`;

function routeLine(verb: 'add' | 'replace', r: NodeSpec['routes'][number]): string {
  const fam = r.to === 'default' ? (r.via !== undefined && ipFamily(r.via) === 6 ? 6 : 4) : parseCidr(r.to)!.family;
  const to = r.to === 'default' ? (fam === 6 ? '::/0' : '0.0.0.0/0') : r.to;
  return [`route ${verb} ${to}`, r.via && `via ${r.via}`, r.dev && `dev ${r.dev}`, r.src && `src ${r.src}`, r.metric !== undefined && `metric ${r.metric}`]
    .filter(Boolean)
    .join(' ');
}

/** Lines that (re)apply a node's addresses, links up and routes; `replace` makes them idempotent. Ports in `skip` (TUN ends of serial/udp links: hanet makes them) are left alone. */
export function nodeLines(n: NodeSpec, verb: 'add' | 'replace', only?: string, skip?: ReadonlySet<string>): string[] {
  const lines: string[] = [];
  for (const p of n.ports) {
    if (skip?.has(p.name)) continue;
    for (const a of p.addresses) lines.push(addrLine(verb, a, p.name));
    if (only === undefined || p.name === only) lines.push(`link set ${p.name} up`);
  }
  for (const r of n.routes) lines.push(routeLine(verb, r));
  return lines;
}

export function planLab(t: Topology, lab: string): LabPlan {
  const ns = (node: string) => nsName(lab, node);
  const plan: LabPlan = { namespaces: Object.keys(t.nodes).map(ns), root: [], perNs: {}, sysctls: {} };
  for (const n of plan.namespaces) plan.root.push(`netns add ${n}`);
  const mac = (node: string, port: string) => {
    const m = t.nodes[node]?.ports.find((p) => p.name === port)?.mac;
    return m ? ` address ${m}` : '';
  };
  // Switch ports: the node's end gets the port name, the switch's end `<node>-<port>`. Both ends are created
  // directly in their namespaces, so names never collide with the root namespace or other labs.
  //
  // Every veth end gets an ifindex unique within the lab. Measured: when a veth end has the same ifindex as its
  // peer in the other namespace (lo is 1, so the first veth in each namespace is 2), the kernel's linkwatch treats
  // its carrier changes as non-urgent and delays them up to 1 s: a switch port then stayed "disabled" for ~1 s
  // after `up`, and carrier-down notifications arrived 418-722 ms late (vs 3-5 ms with distinct indexes).
  let nextIndex = 10;
  const idx = () => ` index ${nextIndex++}`;
  const bridgePorts = new Map<string, string[]>();
  for (const [nn, n] of Object.entries(t.nodes)) {
    for (const p of n.ports) {
      if (p.switch === undefined) continue;
      const sp = switchPortName(nn, p.name);
      plan.root.push(`link add ${p.name} netns ${ns(nn)}${idx()}${mac(nn, p.name)} type veth peer name ${sp} netns ${ns(p.switch)}${idx()}`);
      bridgePorts.set(p.switch, [...(bridgePorts.get(p.switch) ?? []), sp]);
    }
  }
  for (const l of t.links) {
    if (l.kind !== 'veth') continue;
    const [x, y] = l.ends.map((e) => e.split(':') as [string, string]) as [[string, string], [string, string]];
    plan.root.push(`link add ${x[1]} netns ${ns(x[0])}${idx()}${mac(x[0], x[1])} type veth peer name ${y[1]} netns ${ns(y[0])}${idx()}${mac(y[0], y[1])}`);
  }
  for (const [nn, n] of Object.entries(t.nodes)) {
    const lines = ['link set lo up'];
    if (n.role === 'switch') {
      // STP off and forward_delay 0: a port forwards as soon as it has carrier (measured: state "forwarding"
      // right after `up`). ageing_time stays at the default 300 s: the bridge relearns a moved MAC from the first
      // frame it sees (e.g. a gratuitous ARP), and flushes a port's entries when the port goes down or leaves.
      lines.push(`link add ${BRIDGE_NAME} type bridge forward_delay 0 stp_state 0`);
      for (const sp of bridgePorts.get(nn) ?? []) lines.push(`link set ${sp} master ${BRIDGE_NAME}`, `link set ${sp} up`);
      lines.push(`link set ${BRIDGE_NAME} up`);
    } else {
      lines.push(...nodeLines(n, 'add', undefined, tunPorts(t, nn)));
    }
    plan.perNs[ns(nn)] = lines;
    const sc = Object.entries(n.sysctls);
    if (sc.length) plan.sysctls[ns(nn)] = sc;
  }
  return plan;
}
