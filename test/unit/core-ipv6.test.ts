// IPv6 in the core (issue #12), on the fake-time simulation: dual-stack and IPv6-only LANs, the owner's and the
// helper's routes over an Ethernet link (next hops: the peers' link-local addresses, learned from heartbeats) and
// over a TUN link (no next hop), proxy entries, forwarding rules and sysctls per family.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sim, defaults, priv, pub } from './core-sim.js';
import type { CorePrivate, CorePublic } from '../../src/core/types.js';

const dual = (iface: string, v4: string, v6: string): CorePublic => pub(iface, v4, {
  addresses: [{ address: v4, prefixLen: 24 }, { address: v6, prefixLen: 64 }], gateways: ['10.0.0.1', 'fe80::1'],
});
const only6 = (iface: string, v6: string): CorePublic => pub(iface, v6, { addresses: [{ address: v6, prefixLen: 64 }], gateways: ['fe80::1'] });
const link6 = (l: CorePrivate, ll: string): CorePrivate => ({ ...l, localAddress6: ll });

function pairOf(a: CorePublic, b: CorePublic, kind: CorePrivate['kind'] = 'ethernet'): Sim {
  const sim = new Sim();
  const la = { ...priv('ab', kind === 'ethernet' ? 'eth1' : 'hnab', 'b', '192.168.100.1', '192.168.100.2'), kind };
  const lb = { ...priv('ab', kind === 'ethernet' ? 'eth1' : 'hnab', 'a', '192.168.100.2', '192.168.100.1'), kind };
  sim.add(defaults('a', [a], [kind === 'ethernet' ? link6(la, 'fe80::a') : la]));
  sim.add(defaults('b', [b], [kind === 'ethernet' ? link6(lb, 'fe80::b') : lb]));
  sim.wire('a', 'ab', 'b', 'ab');
  return sim;
}

test('dual-stack: both families taken over; IPv6 routes via the peer\'s link-local learned from its heartbeats', () => {
  const sim = pairOf(dual('eth0', '10.0.0.11', '2001:db8::11'), dual('eth0', '10.0.0.12', '2001:db8::12'));
  sim.advance(300);
  assert.ok(sim.kernelText('a').includes('route ::/0 via fe80::1 dev eth0 metric 4242'), sim.kernelText('a').join('\n'));
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(20);
  const a = sim.kernelText('a');
  for (const r of [
    'route ::/1 via fe80::b dev eth1 src 2001:db8::11', 'route 8000::/1 via fe80::b dev eth1 src 2001:db8::11',
    'route 2001:db8::/65 via fe80::b dev eth1 src 2001:db8::11', 'route 2001:db8:0:0:8000::/65 via fe80::b dev eth1 src 2001:db8::11',
    'route 0.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11',
  ]) assert.ok(a.includes(r), `${r}\n${a.join('\n')}`);
  assert.ok(sim.node('a').desired!.routes.some((r) => r.type === 'local' && r.dst === '2001:db8::11' && r.table === 255 && r.ifname === 'lo'),
    'the owner keeps its IPv6 addresses local while its port may be admin-down (the kernel drops their local routes)');
  assert.ok(!sim.node('a').desired!.routes.some((r) => r.type === 'local' && r.family === 4), 'IPv4 keeps its local routes on admin-down');
  const b = sim.kernelText('b');
  for (const r of ['proxy 10.0.0.11 dev eth0', 'proxy 2001:db8::11 dev eth0', 'route 2001:db8::11/128 via fe80::a dev eth1', 'route 10.0.0.11/32 via 192.168.100.1 dev eth1']) {
    assert.ok(b.includes(r), `${r}\n${b.join('\n')}`);
  }
  const ann = sim.node('b').announces.filter((x) => x.at > 300);
  assert.deepEqual(ann.map((x) => x.addresses), [['10.0.0.11', '2001:db8::11']], 'both families announced (ARP and NA by the daemon)');
  const rules = sim.node('b').desired!.rules!.filter((r) => r.family === 6 && r.action === 'lookup-main').map((r) => `${r.iif} ${r.dst ?? ''}${r.src ?? ''}`).sort();
  assert.deepEqual(rules, ['eth0 2001:db8::11', 'eth1 2001:db8::11']);
});

test('IPv6-only LAN: probes, takeover and failback without any IPv4 service address or gateway', () => {
  const sim = pairOf(only6('eth0', '2001:db8::11'), only6('eth0', '2001:db8::12'));
  sim.advance(300);
  assert.deepEqual(sim.node('a').probeTargets.get('eth0'), ['fe80::1', '2001:db8::12'], 'the IPv6 gateway and the LAN peer');
  sim.port('a', 'eth0', { reachesGateway: false });
  sim.advance(40);
  assert.equal(sim.node('a').events.find((e) => e.type === 'iface-failed')?.reason, 'arp-timeout');
  assert.ok(sim.kernelText('b').includes('proxy 2001:db8::11 dev eth0'));
  assert.ok(!sim.kernelText('a').some((l) => l.startsWith('route 0.0.0.0')), 'no IPv4 routes for an IPv6-only interface');
  sim.port('a', 'eth0', { reachesGateway: true });
  sim.advance(1500);
  assert.ok(!sim.kernelText('b').some((l) => l.startsWith('proxy')), 'failed back');
  assert.ok(sim.node('a').announces.some((x) => x.at > 300 && x.addresses.includes('2001:db8::11')), 'the owner announced itself');
});

test('IPv6 over a TUN link (serial, udp): routes by device, no next hop needed', () => {
  const sim = pairOf(dual('eth0', '10.0.0.11', '2001:db8::11'), dual('eth0', '10.0.0.12', '2001:db8::12'), 'serial');
  sim.advance(300);
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(20);
  assert.ok(sim.kernelText('a').includes('route ::/1 dev hnab src 2001:db8::11'), sim.kernelText('a').join('\n'));
  assert.ok(sim.kernelText('b').includes('route 2001:db8::11/128 dev hnab'), sim.kernelText('b').join('\n'));
});

test('IPv6 sysctls: accept_ra 2 (only where it was 1), global forwarding and proxy_ndp, proxy_delay 0, keep_addr_on_down', () => {
  const sim = pairOf(dual('eth0', '10.0.0.11', '2001:db8::11'), dual('eth0', '10.0.0.12', '2001:db8::12'));
  sim.advance(300);
  const s = sim.node('a').desired!.sysctls.map((x) => `${x.path}=${x.value}${x.onlyIf !== undefined ? ` if ${x.onlyIf}` : ''}`);
  for (const want of ['net/ipv6/conf/eth0/accept_ra=2 if 1', 'net/ipv6/conf/all/forwarding=1', 'net/ipv6/conf/all/proxy_ndp=1', 'net/ipv6/neigh/eth0/proxy_delay=0', 'net/ipv6/conf/eth0/keep_addr_on_down=1']) {
    assert.ok(s.includes(want), `${want}\n${s.join('\n')}`);
  }
  assert.ok(!s.some((x) => x.includes('force_forwarding')), 'without force_forwarding: all.forwarding');
  // Linux 6.17+: forwarding only where a takeover needs it.
  const g = new Sim();
  g.add({ ...sim.node('a').cfg, kernel: { ipv6ForceForwarding: true } });
  g.advance(300);
  const t = g.node('a').desired!.sysctls.map((x) => `${x.path}=${x.value}`);
  for (const want of ['net/ipv6/conf/eth0/forwarding=1', 'net/ipv6/conf/eth0/force_forwarding=1', 'net/ipv6/conf/eth1/force_forwarding=1', 'net/ipv6/conf/all/proxy_ndp=1']) {
    assert.ok(t.includes(want), `${want}\n${t.join('\n')}`);
  }
  assert.ok(!t.includes('net/ipv6/conf/all/forwarding=1'), 'never every interface');
  const v4only = pairOf(pub('eth0', '10.0.0.11'), pub('eth0', '10.0.0.12'));
  v4only.advance(300);
  assert.ok(!v4only.node('a').desired!.sysctls.some((x) => x.path.startsWith('net/ipv6')), 'an IPv4-only node changes no IPv6 setting');
});
