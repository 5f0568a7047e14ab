// Validation of a lab topology: the zod schema (shape and per-field formats) and the cross-reference checks
// (switches, links, addresses, routes); errors name every offending field path. Pure.
import { z } from 'zod';
import { canonicalIp, inPrefix, ipFamily, isIp, isLinkLocal, networkOf, parseCidr } from '../core/ip.js';
import { HanetError } from '../errors.js';
import { IFNAME_RE, MAC_RE, NODE_NAME_RE, parsePortRef, switchPortName, SYSCTL_KEY_RE, type PortRef, type Topology } from './topology-model.js';

/** Lab addresses and routes name their prefix length: `10.0.0.11/24`, never a bare address. */
const cidrOf = (s: string) => parseCidr(s, { requirePrefix: true });

// Schema (shape and per-field formats; cross-references are checked afterwards in `crossCheck`)

const cidrString = z.string().refine((s) => cidrOf(s) !== undefined, {
  error: (iss) => `${JSON.stringify(iss.input)} is not an address in CIDR notation (e.g. 10.0.0.11/24)`,
});
const ipString = z.string().refine((s) => isIp(s), {
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
  to: z.string().refine((s) => s === 'default' || cidrOf(s) !== undefined, {
    error: (iss) => `${JSON.stringify(iss.input)} must be "default" or a prefix in CIDR notation (e.g. 10.9.0.0/24)`,
  }),
  via: ipString.optional(),
  dev: z.string().optional(),
  src: ipString.optional(),
  metric: z.number().int().min(0).max(0xffffffff).optional(),
});

const asNumber = z.number().int().min(1).max(4_294_967_295);
const BgpSchema = z.strictObject({
  as: asNumber,
  neighbors: z.array(z.strictObject({ address: ipString, as: asNumber })).min(1),
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
  bgp: BgpSchema.optional(),
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
    if (n.bgp && n.role !== 'router' && n.role !== 'server') add(['nodes', nn, 'bgp'], `only routers and servers run BIRD (this is a ${n.role})`);
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
        const ip = cidrOf(a)!.address; // canonical: one text per address
        const other = seenIp.get(ip);
        if (other) add(['nodes', nn, 'ports', i, 'addresses', j], `address ${ip} is also used by ${other}`);
        else seenIp.set(ip, `${nn}:${p.name}`);
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
    const subnets = (dev?: string) => n.ports.filter((p) => dev === undefined || p.name === dev).flatMap((p) => p.addresses.map((a) => cidrOf(a)!));
    n.routes.forEach((r, i) => {
      const to = r.to === 'default' ? undefined : cidrOf(r.to)!;
      if (to && networkOf(to) !== to.address) add(['nodes', nn, 'routes', i, 'to'], `${r.to} has host bits set (did you mean the network prefix?)`);
      if (r.via === undefined && r.dev === undefined) add(['nodes', nn, 'routes', i], 'a route needs `via` (gateway) or `dev` (interface)');
      if (r.dev !== undefined && !n.ports.some((p) => p.name === r.dev)) add(['nodes', nn, 'routes', i, 'dev'], `node "${nn}" has no port "${r.dev}"`);
      if (r.via !== undefined) {
        const fam = ipFamily(r.via);
        if (to && to.family !== fam) add(['nodes', nn, 'routes', i, 'via'], `gateway ${r.via} is not of the same address family as ${r.to}`);
        // An IPv6 link-local gateway (what routers advertise) is on every link: the kernel needs the device.
        else if (fam === 6 && isLinkLocal(r.via)) { if (r.dev === undefined) add(['nodes', nn, 'routes', i, 'dev'], `a link-local gateway (${r.via}) needs \`dev\` (the port it is on)`); }
        else if (!subnets(r.dev).some((c) => inPrefix(r.via!, c)))
          add(['nodes', nn, 'routes', i, 'via'], `gateway ${r.via} is not in a subnet of ${r.dev ? `port "${r.dev}"` : `any port of node "${nn}"`}`);
      }
      if (r.src !== undefined && !n.ports.some((p) => p.addresses.some((a) => cidrOf(a)!.address === canonicalIp(r.src!))))
        add(['nodes', nn, 'routes', i, 'src'], `source ${r.src} is not an address of node "${nn}"`);
    });
  }
  return issues;
}

// ---------------------------------------------------------------------------------------------------------------// Entry points

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
