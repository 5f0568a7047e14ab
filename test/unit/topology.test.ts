// Unit tests of the lab topology model (validation errors name the field) and of the lab's pure parts
// (the `ip -batch` plan, the namespace filter of `labDown`). No root needed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isHanetError } from '../../src/errors.js';
import {
  defaultTopology,
  embeddedTopologyNames,
  loadTopologyFile,
  parseTopology,
  parseTopologyText,
  serverPorts,
  topologyToYaml,
  TopologyError,
  type Topology,
} from '../../src/lab/topology.js';
import { planLab, selectNamespaces } from '../../src/lab/lab.js';
import { inPrefix, parseCidr } from '../../src/core/ip.js';

const clone = <T>(x: T): T => structuredClone(x);

/** Expects parseTopology to throw a TopologyError whose issues include `path` with a message matching `re`. */
function expectIssue(obj: unknown, path: string, re: RegExp): void {
  try {
    parseTopology(obj);
  } catch (e) {
    assert.ok(e instanceof TopologyError, `expected TopologyError, got ${String(e)}`);
    assert.equal(e.code, 'HANET_ERR_CONFIG');
    const hit = e.issues.find((i) => i.path === path && re.test(i.message));
    assert.ok(hit, `no issue at ${path} matching ${re}; got:\n${e.message}`);
    assert.ok(e.message.includes(`${path}: `), 'the message lists the issue with its path');
    return;
  }
  assert.fail(`expected an error at ${path}`);
}

describe('embedded topologies', () => {
  it('all validate and round-trip through YAML', () => {
    assert.deepEqual(embeddedTopologyNames().sort(), ['dual', 'dual46', 'dual6', 'pair', 'pair-delay', 'pair-serial', 'pair-udp', 'pair46', 'pair6', 'quad', 'trio', 'trio46', 'trio6', 'l3', 'l346'].sort());
    for (const n of embeddedTopologyNames()) {
      const t = defaultTopology(n);
      assert.equal(t.name, n);
      assert.deepEqual(parseTopologyText(topologyToYaml(t)), t);
    }
  });

  it('pair is the lab drawn in docs/CONTRACTS.md', () => {
    const t = defaultTopology('pair');
    assert.deepEqual(Object.keys(t.nodes).sort(), ['a', 'b', 'c', 'r', 'sw']);
    assert.deepEqual(t.nodes.c!.ports, [{ name: 'eth0', addresses: ['10.9.0.2/24'] }]);
    assert.deepEqual(t.nodes.c!.routes, [{ to: 'default', via: '10.9.0.1' }]);
    assert.deepEqual(t.nodes.r!.ports.map((p) => [p.name, p.addresses[0], p.switch]), [['eth0', '10.9.0.1/24', undefined], ['eth1', '10.0.0.1/24', 'sw']]);
    assert.equal(t.nodes.r!.sysctls['net.ipv4.ip_forward'], '1');
    assert.equal(t.nodes.sw!.role, 'switch');
    assert.deepEqual(serverPorts(t, 'a'), {
      public: [{ port: 'eth0', addresses: ['10.0.0.11/24'], switch: 'sw' }],
      private: [{ port: 'eth1', addresses: ['192.168.100.1/30'], peer: { node: 'b', port: 'eth1' }, kind: 'veth' }],
    });
    assert.deepEqual(serverPorts(t, 'b').public[0]!.addresses, ['10.0.0.12/24']);
    assert.deepEqual(serverPorts(t, 'b').private[0]!.addresses, ['192.168.100.2/30']);
  });

  it('trio has servers a, b, d fully meshed by private /30 links', () => {
    const t = defaultTopology('trio');
    const priv = (n: string) => serverPorts(t, n).private.map((p) => `${p.addresses[0]}>${p.peer!.node}`).sort();
    assert.deepEqual(priv('a'), ['192.168.100.1/30>b', '192.168.101.1/30>d']);
    assert.deepEqual(priv('b'), ['192.168.100.2/30>a', '192.168.102.1/30>d']);
    assert.deepEqual(priv('d'), ['192.168.101.2/30>a', '192.168.102.2/30>b']);
    assert.deepEqual(['a', 'b', 'd'].map((n) => serverPorts(t, n).public[0]!.addresses[0]), ['10.0.0.11/24', '10.0.0.12/24', '10.0.0.13/24']);
  });

  it('dual gives a a second public port eth2 on the same switch', () => {
    const pub = serverPorts(defaultTopology('dual'), 'a').public;
    assert.deepEqual(pub.map((p) => [p.port, p.addresses[0], p.switch]), [['eth0', '10.0.0.11/24', 'sw'], ['eth2', '10.0.0.21/24', 'sw']]);
  });

  it('unknown embedded name is a config error', () => {
    assert.throws(() => defaultTopology('nope'), (e) => isHanetError(e, 'HANET_ERR_CONFIG') && /known: .*pair/.test(e.message));
  });
});

describe('invalid topologies name the field', () => {
  const base = (): Topology & Record<string, unknown> => clone(defaultTopology('pair')) as Topology & Record<string, unknown>;
  type Mut = (t: any) => void; // eslint-disable-line @typescript-eslint/no-explicit-any
  const cases: Array<[name: string, mutate: Mut, path: string, re: RegExp]> = [
    ['bad CIDR', (t) => (t.nodes.a.ports[0].addresses = ['10.0.0.300/24']), 'nodes.a.ports[0].addresses[0]', /not an address in CIDR/],
    ['address without prefix', (t) => (t.nodes.a.ports[0].addresses = ['10.0.0.11']), 'nodes.a.ports[0].addresses[0]', /CIDR/],
    ['prefix too long', (t) => (t.nodes.a.ports[0].addresses = ['10.0.0.11/33']), 'nodes.a.ports[0].addresses[0]', /CIDR/],
    ['unknown node in a link', (t) => (t.links[1].ends = ['a:eth1', 'x:eth1']), 'links[1].ends[1]', /unknown node "x"/],
    ['unknown port in a link', (t) => (t.links[1].ends = ['a:eth1', 'b:eth7']), 'links[1].ends[1]', /no port "eth7"/],
    ['malformed link end', (t) => (t.links[1].ends = ['a:eth1', 'b']), 'links[1].ends[1]', /not a port reference/],
    ['link with one end', (t) => (t.links[1].ends = ['a:eth1']), 'links[1].ends', /two port references/],
    ['duplicate interface names', (t) => t.nodes.a.ports.push({ name: 'eth0', switch: 'sw' }), 'nodes.a.ports[2].name', /duplicate interface name "eth0"/],
    ['interface name too long', (t) => (t.nodes.c.ports[0].name = 'averylonginterface'), 'nodes.c.ports[0].name', /1-15 characters/],
    ['switch-side name too long', (t) => (t.nodes.a.ports[0].name = 'publicport0123'), 'nodes.a.ports[0].name', /switch-side interface name "a-publicport0123" is longer than 15/],
    ['port attached to a missing switch', (t) => (t.nodes.a.ports[0].switch = 'sw9'), 'nodes.a.ports[0].switch', /unknown switch "sw9"/],
    ['port attached to a non-switch', (t) => (t.nodes.a.ports[0].switch = 'r'), 'nodes.a.ports[0].switch', /"r" is a router, not a switch/],
    ['unattached port', (t) => t.nodes.a.ports.push({ name: 'eth5', addresses: ['10.5.0.1/24'] }), 'nodes.a.ports[2]', /not attached/],
    ['port on a switch and in a link', (t) => t.links.push({ ends: ['a:eth0', 'b:eth0'] }), 'links[2].ends[0]', /already plugged into a switch/],
    ['port in two links', (t) => { t.nodes.c.ports.push({ name: 'eth1' }); t.links.push({ ends: ['c:eth1', 'a:eth1'] }); }, 'links[2].ends[1]', /already an end of links\[1\]/],
    ['link to a switch', (t) => (t.links[0].ends = ['c:eth0', 'sw:x']), 'links[0].ends[1]', /is a switch/],
    ['bad node name', (t) => (t.nodes['Bad-Name'] = { role: 'client' }), 'nodes["Bad-Name"]', /node names/],
    ['bad role', (t) => (t.nodes.c.role = 'firewall'), 'nodes.c.role', /./],
    ['unknown field', (t) => (t.nodes.c.colour = 'red'), 'nodes.c', /colour/],
    ['switch with ports', (t) => (t.nodes.sw.ports = [{ name: 'eth0' }]), 'nodes.sw.ports', /no ports of its own/],
    ['gateway outside every subnet', (t) => (t.nodes.a.routes[0].via = '10.1.0.1'), 'nodes.a.routes[0].via', /not in a subnet/],
    ['gateway not an IP', (t) => (t.nodes.a.routes[0].via = 'router'), 'nodes.a.routes[0].via', /not an IP address/],
    ['route prefix with host bits', (t) => t.nodes.c.routes.push({ to: '10.0.0.1/24', via: '10.9.0.1' }), 'nodes.c.routes[1].to', /host bits/],
    ['route to garbage', (t) => t.nodes.c.routes.push({ to: 'everywhere', via: '10.9.0.1' }), 'nodes.c.routes[1].to', /"default" or a prefix/],
    ['route without via or dev', (t) => t.nodes.c.routes.push({ to: '10.7.0.0/16' }), 'nodes.c.routes[1]', /needs `via`/],
    ['route dev not a port', (t) => t.nodes.c.routes.push({ to: '10.7.0.0/16', dev: 'eth9' }), 'nodes.c.routes[1].dev', /no port "eth9"/],
    ['route src not an own address', (t) => (t.nodes.a.routes[0].src = '10.0.0.12'), 'nodes.a.routes[0].src', /not an address of node "a"/],
    ['same address twice', (t) => (t.nodes.b.ports[0].addresses = ['10.0.0.11/24']), 'nodes.b.ports[0].addresses[0]', /also used by a:eth0/],
    ['use on a non-server', (t) => (t.nodes.r.ports[1].use = 'public'), 'nodes.r.ports[1].use', /only server ports/],
    ['bad MAC', (t) => (t.nodes.a.ports[0].mac = '02:00:00:00:00'), 'nodes.a.ports[0].mac', /MAC address/],
    ['bad sysctl key', (t) => (t.nodes.r.sysctls = { 'net ipv4': 1 }), 'nodes.r.sysctls["net ipv4"]', /sysctl key/],
    ['sysctl key escaping /proc/sys', (t) => (t.nodes.r.sysctls = { 'net/../../x': 1 }), 'nodes.r.sysctls["net/../../x"]', /must not contain/],
    ['serial link without baud', (t) => t.links.push({ kind: 'serial', ends: ['a:ser0', 'b:ser0'] }) && t.nodes.a.ports.push({ name: 'ser0' }) && t.nodes.b.ports.push({ name: 'ser0' }), 'links[2].baud', /needs a baud rate/],
    ['serial link to a client', (t) => { t.nodes.a.ports.push({ name: 'ser0' }); t.nodes.c.ports.push({ name: 'ser0' }); t.links.push({ kind: 'serial', baud: 115200, ends: ['a:ser0', 'c:ser0'] }); }, 'links[2].ends[1]', /serial links join two servers/],
    ['baud on a veth link', (t) => (t.links[1].baud = 9600), 'links[1].baud', /only serial links/],
    ['no nodes', (t) => (t.nodes = {}), 'nodes', /at least one node/],
  ];
  for (const [name, mutate, path, re] of cases) {
    it(name, () => {
      const t = base();
      mutate(t);
      expectIssue(t, path, re);
    });
  }

  it('lists every issue at once', () => {
    const t = base() as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    t.links[1].ends = ['a:eth1', 'x:eth1'];
    t.nodes.a.ports[0].switch = 'sw9';
    t.nodes.c.routes[0].via = '10.1.0.1';
    try {
      parseTopology(t);
      assert.fail('expected an error');
    } catch (e) {
      assert.ok(e instanceof TopologyError);
      const paths = e.issues.map((i) => i.path);
      for (const p of ['links[1].ends[1]', 'nodes.a.ports[0].switch', 'nodes.c.routes[0].via']) assert.ok(paths.includes(p), `missing ${p} in ${paths.join(', ')}`);
    }
  });

  it('a valid serial link is modelled (the lab rejects it at up)', () => {
    const t = base() as any; // eslint-disable-line @typescript-eslint/no-explicit-any
    t.nodes.a.ports.push({ name: 'ser0', addresses: ['192.168.200.1/30'] });
    t.nodes.b.ports.push({ name: 'ser0', addresses: ['192.168.200.2/30'] });
    t.links.push({ kind: 'serial', baud: 115200, ends: ['a:ser0', 'b:ser0'] });
    const v = parseTopology(t);
    assert.deepEqual(serverPorts(v, 'a').private.find((p) => p.port === 'ser0'), {
      port: 'ser0', addresses: ['192.168.200.1/30'], peer: { node: 'b', port: 'ser0' }, kind: 'serial', baud: 115200,
    });
  });
});

describe('topology files', () => {
  it('loads YAML, reports bad YAML and missing files as config errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hanet-topo-'));
    try {
      const good = join(dir, 'good.yaml');
      await writeFile(good, topologyToYaml(defaultTopology('trio')));
      assert.deepEqual(await loadTopologyFile(good), defaultTopology('trio'));
      const bad = join(dir, 'bad.yaml');
      await writeFile(bad, 'nodes: [unclosed');
      await assert.rejects(loadTopologyFile(bad), (e) => isHanetError(e, 'HANET_ERR_CONFIG') && e.message.includes('not valid YAML'));
      const invalid = join(dir, 'invalid.yaml');
      await writeFile(invalid, 'nodes:\n  a:\n    role: server\n    ports:\n      - { name: eth0, addresses: [1.2.3/8], switch: sw }\n');
      await assert.rejects(loadTopologyFile(invalid), (e) => isHanetError(e, 'HANET_ERR_CONFIG') && e.message.includes(invalid) && e.message.includes('nodes.a.ports[0].addresses[0]'));
      await assert.rejects(loadTopologyFile(join(dir, 'missing.yaml')), (e) => isHanetError(e, 'HANET_ERR_CONFIG') && e.message.includes('cannot read'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('address helpers the topology checks use (core/ip, prefixes required)', () => {
  const cases: Array<[ip: string, cidr: string, inside: boolean]> = [
    ['10.0.0.1', '10.0.0.11/24', true],
    ['10.0.1.1', '10.0.0.11/24', false],
    ['192.168.100.2', '192.168.100.1/30', true],
    ['192.168.100.4', '192.168.100.1/30', false],
    ['1.2.3.4', '0.0.0.0/0', true],
    ['2001:db8::1', '2001:db8::2/64', true],
    ['2001:db8:0:1::1', '2001:db8::2/64', false],
    ['::ffff:10.0.0.1', '::ffff:10.0.0.0/120', true],
    ['10.0.0.1', '2001:db8::2/64', false],
  ];
  for (const [ip, cidr, inside] of cases) it(`${ip} ${inside ? 'in' : 'not in'} ${cidr}`, () => assert.equal(inPrefix(ip, parseCidr(cidr, { requirePrefix: true })!), inside));
  it('parseCidr rejects garbage', () => {
    for (const s of ['10.0.0.1', '10.0.0.1/', '/24', '10.0.0.1/33', 'fe80::1%eth0/64', 'x/1', '10.0.0.1/24/1']) assert.equal(parseCidr(s, { requirePrefix: true }), undefined, s);
  });
});

describe('lab plan (pure)', () => {
  const plan = planLab(defaultTopology('pair'), 'lt');
  it('creates every namespace and veth in one root batch, each veth end with its own ifindex', () => {
    assert.deepEqual(plan.namespaces, ['hn-lt-c', 'hn-lt-r', 'hn-lt-sw', 'hn-lt-a', 'hn-lt-b']);
    assert.deepEqual(plan.root.slice(5), [
      'link add eth1 netns hn-lt-r index 10 type veth peer name r-eth1 netns hn-lt-sw index 11',
      'link add eth0 netns hn-lt-a index 12 type veth peer name a-eth0 netns hn-lt-sw index 13',
      'link add eth0 netns hn-lt-b index 14 type veth peer name b-eth0 netns hn-lt-sw index 15',
      'link add eth0 netns hn-lt-c index 16 type veth peer name eth0 netns hn-lt-r index 17',
      'link add eth1 netns hn-lt-a index 18 type veth peer name eth1 netns hn-lt-b index 19',
    ]);
  });
  it('builds the bridge with STP off and no forward delay, and the server\'s addresses and routes', () => {
    assert.deepEqual(plan.perNs['hn-lt-sw'], [
      'link set lo up',
      'link add br0 type bridge forward_delay 0 stp_state 0',
      'link set r-eth1 master br0', 'link set r-eth1 up',
      'link set a-eth0 master br0', 'link set a-eth0 up',
      'link set b-eth0 master br0', 'link set b-eth0 up',
      'link set br0 up',
    ]);
    assert.deepEqual(plan.perNs['hn-lt-a'], [
      'link set lo up',
      'address add 10.0.0.11/24 dev eth0', 'link set eth0 up',
      'address add 192.168.100.1/30 dev eth1', 'link set eth1 up',
      'route add 0.0.0.0/0 via 10.0.0.1',
    ]);
    assert.deepEqual(plan.sysctls, { 'hn-lt-r': [['net.ipv4.ip_forward', '1']] });
  });
});

describe('labDown namespace filter', () => {
  const existing = ['hn-lt-a', 'hn-lt-sw', 'hn-lt1-a', 'hn-tfoo', 'hn-x-c', 'hnlt-a', 'other', 'xhn-lt-a', 'lt-a'];
  it('--all matches exactly the hn- prefix', () => {
    assert.deepEqual(selectNamespaces(existing, { all: true }), ['hn-lt-a', 'hn-lt-sw', 'hn-lt1-a', 'hn-tfoo', 'hn-x-c']);
  });
  it('a lab name matches only hn-<lab>- (not a lab whose name starts the same)', () => {
    assert.deepEqual(selectNamespaces(existing, { name: 'lt' }), ['hn-lt-a', 'hn-lt-sw']);
    assert.deepEqual(selectNamespaces(existing, { name: 'lt1' }), ['hn-lt1-a']);
    assert.deepEqual(selectNamespaces(existing, { name: 'nope' }), []);
  });
});
