// Scenario tests of the pure failover core on fake time (no root): takeover, failback, leases, restarts, N peers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Sim, defaults, pairSim, priv, pub } from './core-sim.js';

const types = (sim: Sim, node: string) => sim.node(node).events.map((e) => e.type);

test('start: both nodes become ready, hold their own addresses, no takeover', () => {
  const sim = pairSim();
  sim.advance(300);
  for (const n of ['a', 'b']) assert.ok(sim.node(n).core.isReady(), `${n} ready`);
  assert.deepEqual(sim.kernelText('a'), [
    'addr 10.0.0.11/24 dev eth0',
    'route 0.0.0.0/0 via 10.0.0.1 dev eth0 metric 4242',
  ]);
  const d = sim.node('a').desired!;
  assert.ok(d.sysctls.some((s) => s.path === 'net/ipv4/neigh/eth0/proxy_delay' && s.value === '0'));
  assert.ok(d.sysctls.some((s) => s.path === 'net/ipv4/conf/eth0/forwarding' && s.value === '1'));
  // Each announces its own address once when ready (a restarted owner must: a helper may have answered for it).
  for (const [n, ip] of [['a', '10.0.0.11'], ['b', '10.0.0.12']]) assert.deepEqual(sim.node(n!).announces.map((x) => `${x.iface} ${x.addresses.join()}`), [`eth0 ${ip}`]);
});

test('carrier failure of a: b takes over within one poll step, routes both ways, gratuitous ARP from b', () => {
  const sim = pairSim();
  sim.advance(300);
  const t0 = sim.now;
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(5);
  assert.deepEqual(sim.kernelText('a'), [
    'addr 10.0.0.11/24 dev eth0',
    'route 0.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11',
    'route 10.0.0.0/25 via 192.168.100.2 dev eth1 src 10.0.0.11',
    'route 10.0.0.128/25 via 192.168.100.2 dev eth1 src 10.0.0.11',
    'route 128.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11',
  ]);
  assert.deepEqual(sim.kernelText('b'), [
    'addr 10.0.0.12/24 dev eth0',
    'proxy 10.0.0.11 dev eth0',
    'route 0.0.0.0/0 via 10.0.0.1 dev eth0 metric 4242',
    'route 10.0.0.11/32 via 192.168.100.1 dev eth1',
  ]);
  const ann = sim.node('b').announces.filter((x) => x.at > 300);
  assert.equal(ann.length, 1);
  assert.deepEqual(ann[0], { at: t0 + 5, iface: 'eth0', addresses: ['10.0.0.11'] });
  assert.ok(types(sim, 'a').includes('takeover-acked'));
  assert.ok(types(sim, 'b').includes('help-start'));
  assert.deepEqual(sim.node('a').flushes, ['eth0'], 'neighbour entries of the failed port are dropped once');
  assert.deepEqual(sim.node('b').flushes, []);
});

test('silent failure is found by ARP probes after arp_interval x arp_misses', () => {
  const sim = pairSim();
  sim.advance(300);
  sim.port('a', 'eth0', { reachesGateway: false });
  sim.advance(25);
  assert.equal(sim.node('b').announces.filter((x) => x.at > 300).length, 0, 'not before the miss window');
  sim.advance(15);
  assert.equal(sim.node('b').announces.filter((x) => x.at > 300).length, 1, 'taken over after ~30 ms');
  assert.equal(sim.node('a').events.find((e) => e.type === 'iface-failed')?.reason, 'arp-timeout');
});

test('failback waits for the hold-down, then owner announces and the helper lingers its route before removing it', () => {
  const sim = pairSim();
  sim.advance(300);
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(100);
  sim.port('a', 'eth0', { lowerUp: true });
  sim.advance(900);
  assert.ok(sim.kernelText('b').includes('proxy 10.0.0.11 dev eth0'), 'still helping during the hold');
  sim.advance(150);
  assert.deepEqual(sim.kernelText('a'), ['addr 10.0.0.11/24 dev eth0', 'route 0.0.0.0/0 via 10.0.0.1 dev eth0 metric 4242']);
  assert.deepEqual(sim.node('a').announces.filter((x) => x.at > 300).map((x) => x.iface), ['eth0']);
  assert.ok(!sim.kernelText('b').includes('proxy 10.0.0.11 dev eth0'), 'proxy removed at release');
  assert.ok(sim.kernelText('b').includes('route 10.0.0.11/32 via 192.168.100.1 dev eth1'), 'route lingers');
  assert.ok(types(sim, 'a').includes('release-acked'));
  sim.advance(2100);
  assert.ok(!sim.kernelText('b').some((l) => l.includes('10.0.0.11')), 'route removed after the linger');
});

test('flapping during the hold-down restarts the hold', () => {
  const sim = pairSim();
  sim.advance(300);
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(50);
  sim.port('a', 'eth0', { lowerUp: true });
  sim.advance(600);
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(50);
  sim.port('a', 'eth0', { lowerUp: true });
  sim.advance(600);
  assert.ok(sim.kernelText('b').includes('proxy 10.0.0.11 dev eth0'));
  assert.equal(types(sim, 'a').filter((t) => t === 'takeover-requested').length, 1, 'one takeover through the flaps');
});

test('owner daemon dead: the helper releases when the lease expires, not before', () => {
  const sim = pairSim();
  sim.advance(300);
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(50);
  sim.kill('a');
  sim.advance(2900);
  assert.ok(sim.kernelText('b').includes('proxy 10.0.0.11 dev eth0'));
  sim.advance(200);
  assert.ok(!sim.kernelText('b').some((l) => l.includes('10.0.0.11')));
  assert.ok(types(sim, 'b').includes('lease-expired'));
});

test('private link cut: the helper releases at once (it could not forward anyway)', () => {
  const sim = pairSim();
  sim.advance(300);
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(50);
  sim.setWire('a', 'ab', false);
  sim.advance(10);
  assert.ok(!sim.kernelText('b').some((l) => l.includes('10.0.0.11')));
  assert.ok(types(sim, 'b').includes('help-link-down'));
});

test('owner daemon restarted during a takeover: the helper keeps helping, the new owner core claims again', () => {
  const sim = pairSim();
  sim.advance(300);
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(50);
  const before = sim.kernelText('a');
  sim.kill('a');
  sim.advance(500);
  const a2 = sim.add(sim.node('a').cfg);
  // the new core emits no kernel state until it knows the health of its interfaces and peers
  sim.advance(5);
  assert.equal(a2.desired, undefined);
  sim.advance(300);
  assert.deepEqual(sim.kernelText('a'), before);
  assert.ok(sim.kernelText('b').includes('proxy 10.0.0.11 dev eth0'));
  assert.ok(!types(sim, 'b').includes('help-release'), 'never released');
  assert.ok(!types(sim, 'b').includes('lease-expired'));
});

test('helper daemon restarted during a takeover adopts its kernel leftovers and keeps them while the owner renews', () => {
  const sim = pairSim();
  sim.advance(300);
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(50);
  const d = sim.node('b').desired!;
  sim.kill('b');
  sim.advance(500);
  const ownRoutes = d.routes.filter((r) => r.dstLen === 32);
  sim.add(sim.node('b').cfg, { leftovers: { routes: ownRoutes, proxies: d.proxies } });
  sim.advance(400);
  assert.ok(sim.kernelText('b').includes('proxy 10.0.0.11 dev eth0'));
  assert.ok(sim.kernelText('b').includes('route 10.0.0.11/32 via 192.168.100.1 dev eth1'));
  sim.advance(4000);
  assert.ok(sim.kernelText('b').includes('proxy 10.0.0.11 dev eth0'), 'renewed by the owner beyond the first lease');
  assert.ok(sim.kernelText('a').includes('route 0.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11'), 'owner kept its routes');
});

test('helper silent while no one else can help: the owner keeps its routes through the helper', () => {
  const sim = pairSim();
  sim.advance(300);
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(50);
  sim.kill('b');
  sim.advance(1000);
  assert.ok(sim.kernelText('a').includes('route 0.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11'));
});

test('a helper whose own LAN is down refuses, and the owner is unserved', () => {
  const sim = pairSim();
  sim.advance(300);
  sim.port('b', 'eth0', { lowerUp: false });
  sim.advance(50);
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(50);
  assert.ok(types(sim, 'a').includes('unserved'));
  assert.ok(!sim.kernelText('b').some((l) => l.includes('10.0.0.11')));
});

test('three servers: a fails, exactly one of b and d helps (cheapest link, then name)', () => {
  const sim = new Sim();
  sim.add(defaults('a', [pub('eth0', '10.0.0.11')], [priv('ab', 'eth1', 'b', '192.168.100.1', '192.168.100.2'), priv('ad', 'eth2', 'd', '192.168.101.1', '192.168.101.2')]));
  sim.add(defaults('b', [pub('eth0', '10.0.0.12')], [priv('ab', 'eth1', 'a', '192.168.100.2', '192.168.100.1'), priv('bd', 'eth2', 'd', '192.168.102.1', '192.168.102.2')]));
  sim.add(defaults('d', [pub('eth0', '10.0.0.13')], [priv('ad', 'eth1', 'a', '192.168.101.2', '192.168.101.1'), priv('bd', 'eth2', 'b', '192.168.102.2', '192.168.102.1')]));
  sim.wire('a', 'ab', 'b', 'ab');
  sim.wire('a', 'ad', 'd', 'ad');
  sim.wire('b', 'bd', 'd', 'bd');
  sim.advance(300);
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(50);
  const helpers = ['b', 'd'].filter((n) => sim.kernelText(n).includes('proxy 10.0.0.11 dev eth0'));
  assert.deepEqual(helpers, ['b']);
  // b's public port fails too: a moves to d, and b lets go
  sim.port('b', 'eth0', { lowerUp: false });
  sim.advance(50);
  assert.deepEqual(['b', 'd'].filter((n) => sim.kernelText(n).includes('proxy 10.0.0.11 dev eth0')), ['d']);
  assert.ok(sim.kernelText('a').includes('route 0.0.0.0/1 via 192.168.101.2 dev eth2 src 10.0.0.11'));
});

test('local backup: a second public port on the same LAN takes the addresses, announced there', () => {
  const sim = new Sim();
  sim.add(defaults('a', [pub('eth0', '10.0.0.11'), pub('eth2', '10.0.0.21', { defaultRoute: false })], [priv('ab', 'eth1', 'b', '192.168.100.1', '192.168.100.2')]));
  sim.add(defaults('b', [pub('eth0', '10.0.0.12')], [priv('ab', 'eth1', 'a', '192.168.100.2', '192.168.100.1')]));
  sim.wire('a', 'ab', 'b', 'ab');
  sim.advance(300);
  sim.port('a', 'eth0', { up: false, lowerUp: false });
  sim.advance(5);
  assert.deepEqual(sim.kernelText('a'), [
    'addr 10.0.0.11/24 dev eth2',
    'addr 10.0.0.21/24 dev eth2',
    'route 0.0.0.0/1 via 10.0.0.1 dev eth2 src 10.0.0.11',
    'route 10.0.0.0/25 dev eth2 src 10.0.0.11',
    'route 10.0.0.128/25 dev eth2 src 10.0.0.11',
    'route 128.0.0.0/1 via 10.0.0.1 dev eth2 src 10.0.0.11',
  ]);
  assert.deepEqual(sim.node('a').announces.filter((x) => x.at > 300).map((x) => `${x.iface} ${x.addresses.join(',')}`), ['eth2 10.0.0.11']);
  assert.equal(sim.node('b').announces.filter((x) => x.at > 300).length, 0, 'no remote takeover while a local port works');
  // the second port fails too: now the peer takes over all of the LAN's addresses
  sim.port('a', 'eth2', { lowerUp: false });
  sim.advance(5);
  assert.deepEqual(sim.node('b').announces.filter((x) => x.at > 300).at(-1)?.addresses, ['10.0.0.11', '10.0.0.21']);
});

test('lost release message: the owner no longer lists the claim in its heartbeat, so the helper lets go', () => {
  const sim = pairSim();
  sim.advance(300);
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(50);
  sim.dropFilter = (_f, _t, m) => m.type === 'release';
  sim.port('a', 'eth0', { lowerUp: true });
  sim.advance(1100);
  assert.ok(!sim.kernelText('b').includes('proxy 10.0.0.11 dev eth0'));
});

test('a helper refuses claims for addresses outside the shared LAN, its own addresses or the gateway', () => {
  const sim = pairSim();
  sim.advance(300);
  for (const bad of [['10.9.0.2'], ['10.0.0.12'], ['10.0.0.1'], ['10.0.0.11', '192.168.100.2']]) {
    sim.deliver('b', { type: 'message', at: sim.now, link: 'ab', from: 'a', msg: { type: 'takeover', claimId: `bad-${bad.join('-')}`, lan: 'lan0', addresses: bad, ownerLinkAddress: '192.168.100.1', leaseMs: 3000 } });
    const ack = sim.node('b').sent.at(-1)!.msg;
    assert.deepEqual(ack, { type: 'takeover-ack', claimId: `bad-${bad.join('-')}`, ok: false, reason: 'bad-addresses' });
  }
  assert.ok(!sim.kernelText('b').some((l) => l.startsWith('proxy')));
});
