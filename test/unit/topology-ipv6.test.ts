// Unit tests of the IPv6 lab topologies (issue #12): the dual-stack (pair46, trio46, dual46) and IPv6-only (pair6,
// trio6, dual6) embedded topologies, their plan (nodad addresses, IPv6 default routes via a link-local gateway),
// the link-local gateway check, and the server configurations generated from them (gateway list per family).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultTopology, nodesWithRole, parseTopology, serverPorts, TopologyError, type Topology } from '../../src/lab/topology.js';
import { planLab } from '../../src/lab/plan.js';
import { serverConfig } from '../../src/lab/cluster.js';
import { ipFamily, parseCidr } from '../../src/core/ip.js';

const families = (cidrs: string[]) => [...new Set(cidrs.map((a) => parseCidr(a)!.family))].sort();
const SETS = [['pair', ['a', 'b']], ['trio', ['a', 'b', 'd']], ['dual', ['a', 'b']]] as const;

describe('IPv6 embedded topologies', () => {
  for (const [base, servers] of SETS) {
    for (const v of ['46', '6'] as const) {
      const name = `${base}${v}`;
      it(`${name}: the nodes and links of ${base}, the client network and the public LAN ${v === '46' ? 'dual-stack' : 'IPv6-only'}`, () => {
        const t = defaultTopology(name);
        const b = defaultTopology(base);
        assert.equal(t.name, name);
        assert.deepEqual(Object.keys(t.nodes), Object.keys(b.nodes));
        assert.deepEqual(t.links, b.links);
        const want = v === '46' ? [4, 6] : [6];
        assert.deepEqual(families(t.nodes.c!.ports[0]!.addresses), want, 'client network');
        for (const s of servers) {
          for (const p of serverPorts(t, s).public) assert.deepEqual(families(p.addresses), want, `${s}:${p.port}`);
          // The private links are base's: IPv4 (the control protocol runs over it; IPv6 there is the link-local).
          assert.deepEqual(serverPorts(t, s).private, serverPorts(b, s).private);
        }
        assert.equal(t.nodes.r!.sysctls['net.ipv6.conf.all.forwarding'], '1');
        assert.equal(t.nodes.r!.sysctls['net.ipv4.ip_forward'], v === '46' ? '1' : undefined);
        assert.ok(t.nodes.r!.ports.find((p) => p.switch === 'sw')!.addresses.includes('fe80::1/64'), 'the router advertises-style link-local fe80::1');
      });
    }
  }

  it('the IPv6 addresses mirror the IPv4 ones: 10.0.0.11 -> 2001:db8::11, a second port 10.0.0.21 -> 2001:db8::21', () => {
    assert.deepEqual(serverPorts(defaultTopology('dual46'), 'a').public.map((p) => p.addresses), [['10.0.0.11/24', '2001:db8::11/64'], ['10.0.0.21/24', '2001:db8::21/64']]);
    assert.deepEqual(nodesWithRole(defaultTopology('trio6'), 'server').map((s) => serverPorts(defaultTopology('trio6'), s).public[0]!.addresses), [['2001:db8::11/64'], ['2001:db8::12/64'], ['2001:db8::13/64']]);
  });

  it('the plan adds IPv6 addresses without DAD and the servers\' IPv6 default route via fe80::1 on eth0', () => {
    const plan = planLab(defaultTopology('pair46'), 'lt');
    const a = plan.perNs['hn-lt-a']!;
    assert.ok(a.includes('address add 2001:db8::11/64 dev eth0 nodad'), a.join('\n'));
    assert.ok(a.includes('address add 10.0.0.11/24 dev eth0'), a.join('\n'));
    assert.ok(a.includes('route add ::/0 via fe80::1 dev eth0'), a.join('\n'));
    assert.ok(a.includes('route add 0.0.0.0/0 via 10.0.0.1'), a.join('\n'));
    assert.ok(plan.perNs['hn-lt-r']!.includes('address add fe80::1/64 dev eth1 nodad'));
    assert.deepEqual(plan.sysctls['hn-lt-r'], [['net.ipv4.ip_forward', '1'], ['net.ipv6.conf.all.forwarding', '1']]);
    assert.ok(!planLab(defaultTopology('pair6'), 'lt').perNs['hn-lt-a']!.some((l) => / (0\.0\.0\.0\/0|10\.0\.0\.)/.test(l)), 'no IPv4 on the public LAN');
  });

  it('a link-local gateway needs the device; a global one must be in a subnet of the node', () => {
    const t = structuredClone(defaultTopology('pair6')) as Topology;
    t.nodes.a!.routes[0] = { to: 'default', via: 'fe80::1' };
    assert.throws(() => parseTopology(t), (e) => e instanceof TopologyError && e.issues.some((i) => i.path === 'nodes.a.routes[0].dev' && /link-local gateway \(fe80::1\) needs `dev`/.test(i.message)));
    t.nodes.a!.routes[0] = { to: 'default', via: '2001:db8:1::1' };
    assert.throws(() => parseTopology(t), (e) => e instanceof TopologyError && e.issues.some((i) => i.path === 'nodes.a.routes[0].via' && /not in a subnet/.test(i.message)));
    t.nodes.a!.routes[0] = { to: 'default', via: '2001:db8::1' };
    assert.doesNotThrow(() => parseTopology(t));
  });
});

describe('server configurations from IPv6 topologies', () => {
  const dir = '/run/hanet-lab/lt/cluster';
  it('dual-stack: the service addresses of both families and one gateway per family (IPv6: the router\'s link-local)', () => {
    const cfg = serverConfig(defaultTopology('pair46'), 'a', dir);
    assert.deepEqual(cfg.public, [{ interface: 'eth0', lan: 'sw', addresses: ['10.0.0.11/24', '2001:db8::11/64'], gateway: ['10.0.0.1', 'fe80::1'], default_route: true }]);
    assert.deepEqual(cfg.private?.map((p) => [p.interface, p.address, p.peer_address]), [['eth1', '192.168.100.1/30', '192.168.100.2']]);
  });

  it('IPv6-only: one IPv6 gateway; a second public port gets it too, without the default route', () => {
    assert.deepEqual(serverConfig(defaultTopology('dual6'), 'a', dir).public, [
      { interface: 'eth0', lan: 'sw', addresses: ['2001:db8::11/64'], gateway: 'fe80::1', default_route: true },
      { interface: 'eth2', lan: 'sw', addresses: ['2001:db8::21/64'], gateway: 'fe80::1', default_route: false },
    ]);
  });

  it('a router without a link-local address listed: its global address is the gateway', () => {
    const t = structuredClone(defaultTopology('pair46')) as Topology;
    const r = t.nodes.r!.ports.find((p) => p.switch === 'sw')!;
    r.addresses = r.addresses.filter((a) => !a.startsWith('fe80:'));
    assert.deepEqual(serverConfig(t, 'a', dir).public?.[0]?.gateway, ['10.0.0.1', '2001:db8::1']);
  });

  it('IPv4 topologies keep a single gateway text (the configurations they always had)', () => {
    for (const n of ['pair', 'trio', 'dual']) for (const p of serverConfig(defaultTopology(n), 'a', dir).public ?? []) assert.equal(ipFamily(String(p.gateway)), 4, n);
  });
});
