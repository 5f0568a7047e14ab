// L3 mode (issue 15) in the core simulation and the desired state: a helper in another rack installs only the host
// route to the owner's address (what BIRD learns and announces), no proxy entry and no gratuitous ARP; probes only the ToR.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredKernelState } from '../../src/core/desired.js';
import type { HelperClaim } from '../../src/core/helper.js';
import { Sim, defaults, priv, pub } from './core-sim.js';
import { parts } from './core-parts.js';

/** Two racks: a on 10.1.0.0/24 behind ToR 10.1.0.1, b on 10.2.0.0/24 behind 10.2.0.1; both L3 on the fabric "fabric". */
function racksSim(): Sim {
  const sim = new Sim();
  sim.add(defaults('a', [pub('eth0', '10.1.0.10', { lan: 'fabric', mode: 'l3', gateways: ['10.1.0.1'] })], [priv('ab', 'eth1', 'b', '192.168.100.1', '192.168.100.2')]));
  sim.add(defaults('b', [pub('eth0', '10.2.0.10', { lan: 'fabric', mode: 'l3', gateways: ['10.2.0.1'] })], [priv('ab', 'eth1', 'a', '192.168.100.2', '192.168.100.1')]));
  sim.wire('a', 'ab', 'b', 'ab');
  return sim;
}

for (const failure of ['carrier', 'silent'] as const) {
  test(`l3: ${failure} failure of a: b routes a's /32 over the link, no proxy entry, no gratuitous ARP; released on recovery`, () => {
    const sim = racksSim();
    sim.advance(300);
    assert.deepEqual(sim.node('a').probeTargets.get('eth0'), ['10.1.0.1'], 'only the ToR is probed: the peer is in another subnet');
    sim.port('a', 'eth0', failure === 'carrier' ? { lowerUp: false } : { reachesGateway: false });
    sim.advance(200);
    assert.ok(sim.node('a').events.some((e) => e.type === 'takeover-acked'), 'the helper in the other rack accepted');
    assert.deepEqual(sim.kernelText('b'), [
      'addr 10.2.0.10/24 dev eth0',
      'route 0.0.0.0/0 via 10.2.0.1 dev eth0 metric 4242',
      'route 10.1.0.10/32 via 192.168.100.1 dev eth1',
    ]);
    assert.ok(sim.kernelText('a').includes('route 0.0.0.0/1 via 192.168.100.2 dev eth1 src 10.1.0.10'), 'a replies through b');
    assert.deepEqual(sim.node('b').announces.filter((x) => x.at > 300), [], 'nothing announced on the link in L3');
    const rules = sim.node('b').desired!.rules!.filter((r) => r.priority === 1000).map((r) => `${r.iif} ${r.dst ?? ''}${r.src ?? ''}`).sort();
    assert.deepEqual(rules, ['eth0 10.1.0.10', 'eth1 10.1.0.10'], "forwarding allowed for a's traffic both ways");
    sim.port('a', 'eth0', { lowerUp: true, reachesGateway: true });
    sim.advance(1500);
    assert.ok(sim.node('b').events.some((e) => e.type === 'help-release'), 'a released b');
    assert.ok(sim.kernelText('b').includes('route 10.1.0.10/32 via 192.168.100.1 dev eth1 metric 4242'),
      'lingering with metric 4242: withdrawn by BIRD (it learns metric 0 only), still forwarding');
    assert.ok(!sim.kernelText('b').includes('route 10.1.0.10/32 via 192.168.100.1 dev eth1'), 'the announced (metric 0) route is gone');
    sim.advance(2500);
    assert.ok(!sim.kernelText('b').some((l) => l.startsWith('route 10.1.0.10/32')), 'the route is gone after the linger');
  });
}

test('l3: a helper refuses its own addresses and its gateway, accepts a peer\'s in any rack (its own too)', () => {
  const { lans } = parts(defaults('b', [pub('eth0', '10.2.0.10', { lan: 'fabric', mode: 'l3', gateways: ['10.2.0.1'] })], [priv('ab', 'eth1', 'a', '192.168.100.2', '192.168.100.1')]));
  assert.equal(lans.claimable('fabric', '10.2.0.10'), false, 'its own address');
  assert.equal(lans.claimable('fabric', '10.2.0.1'), false, 'its ToR');
  assert.equal(lans.claimable('fabric', '10.1.0.10'), true, 'another rack');
  assert.equal(lans.claimable('fabric', '10.2.0.20'), true, 'a server in its own rack: the host route beats the ToR\'s connected subnet');
});

test('l3 desired state: a held claim gives the host route and no proxy entry; l2 keeps the proxy entry', () => {
  const claim: HelperClaim = { owner: 'a', lan: 'fabric', claimId: 'a-1', addresses: ['10.1.0.10'], ownerLinkAddress: '192.168.100.1', link: 'ab', leaseMs: 3000, expiresAt: 3000, since: 0, confirmed: true };
  for (const mode of ['l2', 'l3'] as const) {
    const cfg = defaults('b', [pub('eth0', '10.2.0.10', { lan: 'fabric', mode, gateways: ['10.2.0.1'] })], [priv('ab', 'eth1', 'a', '192.168.100.2', '192.168.100.1')]);
    const d = desiredKernelState({ cfg, placement: () => ({ kind: 'own' }), usable: () => true, helperIface: () => 'eth0', peerLink6: () => undefined, helping: [claim] });
    assert.ok(d.routes.some((r) => r.dst === '10.1.0.10' && r.dstLen === 32 && r.ifname === 'eth1' && r.via === '192.168.100.1'), `${mode}: host route`);
    assert.deepEqual(d.proxies.map((p) => p.address), mode === 'l3' ? [] : ['10.1.0.10'], `${mode}: proxy entries`);
  }
});

test('l3: a restarted helper adopts its host route to the owner (no proxy entry to go by) and keeps it while the owner renews', () => {
  const sim = racksSim();
  sim.advance(300);
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(50);
  const d = sim.node('b').desired!;
  assert.deepEqual(d.proxies, []);
  sim.kill('b');
  sim.advance(500);
  const hostRoutes = d.routes.filter((r) => r.dstLen === 32);
  const other = { family: 4 as const, dst: '10.2.0.1', dstLen: 32, ifname: 'eth1', via: '192.168.100.1' }; // b's gateway: never a claim
  const lingering = { family: 4 as const, dst: '10.3.0.10', dstLen: 32, ifname: 'eth1', via: '192.168.100.1', metric: 4242 }; // an ended claim's
  sim.add(sim.node('b').cfg, { leftovers: { routes: [...hostRoutes, other, lingering], proxies: [] } });
  while (sim.node('b').desired === undefined) sim.advance(5);
  assert.ok(sim.kernelText('b').includes('route 10.1.0.10/32 via 192.168.100.1 dev eth1'), "the restarted helper's first kernel state keeps the route (BIRD keeps announcing it)");
  assert.ok(!sim.node('b').events.some((e) => e.type === 'help-renewed-adopted'), 'before the owner renewed anything');
  sim.advance(400);
  assert.ok(!sim.kernelText('b').some((l) => l.startsWith('route 10.2.0.1/32')), 'a host route to our gateway is not adopted');
  assert.ok(!sim.kernelText('b').some((l) => l.startsWith('route 10.3.0.10/32')), 'a lingering route (an ended claim) is not adopted');
  sim.advance(4000);
  assert.ok(sim.kernelText('b').includes('route 10.1.0.10/32 via 192.168.100.1 dev eth1'), 'renewed by the owner beyond the first lease');
  assert.ok(sim.kernelText('a').includes('route 0.0.0.0/1 via 192.168.100.2 dev eth1 src 10.1.0.10'), 'owner kept its routes');
});
