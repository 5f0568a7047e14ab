// The helper side: which claims it accepts, that it acknowledges only once the kernel holds them (and refuses when
// the kernel fails), leases, release with linger, carrier loss of the private link, adoption after a restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HelperSide } from '../../src/core/helper.js';
import type { Claim } from '../../src/core/messages.js';
import type { CoreConfig } from '../../src/core/types.js';
import { defaults, priv, pub } from './core-sim.js';
import { allHealthy, endStep, eventTypes, hb, kinds, parts, sends, step, type Parts } from './core-parts.js';

const claim = (over: Partial<Claim> = {}): Claim => ({ claimId: 'a-1', lan: 'lan0', addresses: ['10.0.0.11'], ownerLinkAddress: '192.168.100.1', leaseMs: 3000, ...over });

function helperOf(over: Partial<CoreConfig['takeover']> = {}): { p: Parts; h: HelperSide } {
  const cfg = defaults('b', [pub('eth0', '10.0.0.12')], [priv('ab', 'eth1', 'a', '192.168.100.2', '192.168.100.1'), priv('bd', 'eth2', 'd', '192.168.102.1', '192.168.102.2')], over);
  const p = parts(cfg);
  const h = new HelperSide(p);
  allHealthy(p, 0);
  p.peers.heartbeatFrom('ab', hb({ lans: { lan0: { healthy: false, addresses: ['10.0.0.11'] } } }), 0);
  p.peers.heartbeatFrom('bd', hb({ lans: { lan0: { healthy: true, addresses: ['10.0.0.14'] } } }), 0);
  p.peers.evaluate(0);
  endStep(p);
  return { p, h };
}

const refusals: Array<{ name: string; over?: Partial<CoreConfig['takeover']>; c: Partial<Claim>; unhealthy?: boolean; reason: string }> = [
  { name: 'not configured to help', over: { canHelp: false }, c: {}, reason: 'not-helper' },
  { name: 'a LAN it is not on', c: { lan: 'lan9' }, reason: 'unknown-lan' },
  { name: 'its own port on the LAN failed', c: {}, unhealthy: true, reason: 'lan-unhealthy' },
  { name: 'an address outside the LAN', c: { addresses: ['10.9.0.2'] }, reason: 'bad-addresses' },
  { name: 'its own address', c: { addresses: ['10.0.0.12'] }, reason: 'bad-addresses' },
  { name: 'the gateway', c: { addresses: ['10.0.0.1'] }, reason: 'bad-addresses' },
  { name: 'a prefix instead of a host address', c: { addresses: ['10.0.0.11/8'] }, reason: 'bad-addresses' },
  { name: 'the address another live peer reports as its own', c: { addresses: ['10.0.0.11', '10.0.0.14'] }, reason: 'peer-address' },
  { name: 'a next hop other than the link\'s peer', c: { ownerLinkAddress: '192.168.100.9' }, reason: 'bad-next-hop' },
];
for (const r of refusals) {
  test(`helper: refuses a claim for ${r.name}: '${r.reason}' at once`, () => {
    const { p, h } = helperOf(r.over);
    step(p, 10);
    if (r.unhealthy) p.lans.carrier('eth0', true, false, true);
    h.onTakeover(p.peers.get('ab')!, claim(r.c), 10);
    const fx = endStep(p);
    assert.deepEqual(sends(fx), [{ link: 'ab', msg: { type: 'takeover-ack', claimId: 'a-1', ok: false, reason: r.reason } }]);
    assert.deepEqual(eventTypes(fx), ['help-refused']);
    assert.equal(h.claims().length, 0);
  });
}

test('helper: acknowledges and announces only once the kernel holds the claim', () => {
  const { p, h } = helperOf();
  step(p, 10);
  h.onTakeover(p.peers.get('ab')!, claim(), 10);
  assert.deepEqual(kinds(endStep(p, true)), ['event:help-start'], 'no ack, no announce before the kernel');
  assert.equal(h.claims().length, 1, 'the claim is in the desired state');
  step(p, 11);
  h.onTakeover(p.peers.get('ab')!, claim(), 11); // the owner retransmits
  assert.deepEqual(kinds(endStep(p)), [], 'a retransmit is not acknowledged before the kernel either');
  step(p, 12);
  p.gate.kernelApplied(1, true);
  assert.deepEqual(kinds(endStep(p)), ['send:takeover-ack', 'announce']);
  step(p, 13);
  h.onTakeover(p.peers.get('ab')!, claim(), 13);
  assert.deepEqual(sends(endStep(p)), [{ link: 'ab', msg: { type: 'takeover-ack', claimId: 'a-1', ok: true } }], 'once confirmed, a retransmit is acked again (the ack was lost)');
});

test('helper: a failed reconcile refuses the claim with kernel-failed and drops it', () => {
  const { p, h } = helperOf();
  step(p, 10);
  h.onTakeover(p.peers.get('ab')!, claim(), 10);
  endStep(p, true);
  step(p, 11);
  p.gate.kernelApplied(1, false, 'RTNETLINK: Operation not permitted');
  const fx = endStep(p);
  assert.deepEqual(sends(fx), [{ link: 'ab', msg: { type: 'takeover-ack', claimId: 'a-1', ok: false, reason: 'kernel-failed' } }]);
  const ev = fx.find((e) => e.kind === 'event')!;
  assert.ok(ev.kind === 'event' && ev.event.type === 'help-refused' && ev.event.reason === 'kernel-failed' && String(ev.event.error).includes('not permitted'));
  assert.equal(h.claims().length, 0);
});

test('helper: lease renewed by heartbeats, expires without them', () => {
  const { p, h } = helperOf();
  step(p, 10); h.onTakeover(p.peers.get('ab')!, claim(), 10); endStep(p, true);
  step(p, 2000); h.onHeartbeat(p.peers.get('ab')!, [claim()], true, true, 2000); h.evaluate(2000); endStep(p);
  step(p, 4999); h.evaluate(4999);
  assert.deepEqual(eventTypes(endStep(p)), [], 'renewed at 2000: lease to 5000');
  step(p, 5000); h.evaluate(5000);
  assert.deepEqual(eventTypes(endStep(p)), ['lease-expired']);
  assert.equal(h.claims().length, 0, 'no linger after an expiry');
});

test('helper: a release lingers the route (no proxy), then removes it; the owner is told', () => {
  const { p, h } = helperOf({ releaseLingerMs: 500 });
  step(p, 10); h.onTakeover(p.peers.get('ab')!, claim(), 10); endStep(p, true);
  step(p, 20); h.onRelease('ab', 'a', 'a-1', 20);
  const fx = endStep(p);
  assert.deepEqual(eventTypes(fx), ['help-release']);
  assert.deepEqual(sends(fx), [{ link: 'ab', msg: { type: 'release-ack', claimId: 'a-1' } }]);
  assert.equal(h.claims()[0]?.lingerUntil, 520);
  assert.deepEqual(h.owners(), [], 'a lingering claim is not listed as helping');
  step(p, 520); h.evaluate(520);
  assert.deepEqual(eventTypes(endStep(p)), ['help-route-removed']);
  assert.equal(h.claims().length, 0);
});

test('helper: a heartbeat that no longer lists the claim releases it (a lost release)', () => {
  const { p, h } = helperOf();
  step(p, 10); h.onTakeover(p.peers.get('ab')!, claim(), 10); endStep(p, true);
  step(p, 30); h.onHeartbeat(p.peers.get('ab')!, [], true, true, 30);
  assert.deepEqual(eventTypes(endStep(p)), ['help-release']);
  step(p, 40); h.onHeartbeat(p.peers.get('ab')!, [], false, true, 40);
  assert.deepEqual(eventTypes(endStep(p)), [], 'a starting owner lists nothing: not a release');
});

test('helper: carrier loss of the private link ends the help at once', () => {
  const { p, h } = helperOf();
  step(p, 10); h.onTakeover(p.peers.get('ab')!, claim(), 10); endStep(p, true);
  step(p, 20); p.peers.linkCarrier('ab', false); h.evaluate(20);
  assert.deepEqual(eventTypes(endStep(p)), ['help-link-down']);
  assert.equal(h.claims().length, 0);
});

test('helper: adopts a previous run\'s proxy entries and routes, until the owner renews or the lease ends', () => {
  const { p, h } = helperOf();
  h.adopt({ proxies: [{ family: 4, ifname: 'eth0', address: '10.0.0.11' }], routes: [{ family: 4, dst: '10.0.0.11', dstLen: 32, ifname: 'eth1', via: '192.168.100.1' }] }, 0);
  assert.deepEqual(h.claims().map((c) => [c.owner, c.claimId, c.addresses, c.confirmed]), [['a', 'adopted', ['10.0.0.11'], true]]);
  step(p, 100); h.onHeartbeat(p.peers.get('ab')!, [claim({ claimId: 'a-7' })], true, true, 100);
  assert.deepEqual(eventTypes(endStep(p, true)), ['help-renewed-adopted']);
  assert.equal(h.claims()[0]!.claimId, 'a-7');
  assert.equal(h.claims()[0]!.since, 0, 'the help started with the adoption');
});

test('helper: the owner\'s lease is capped by the helper\'s own lease setting', () => {
  const { p, h } = helperOf({ leaseMs: 1000 });
  step(p, 10); h.onTakeover(p.peers.get('ab')!, claim({ leaseMs: 3_600_000 }), 10); endStep(p, true);
  assert.equal(h.claims()[0]!.expiresAt, 1010);
  step(p, 20); h.onHeartbeat(p.peers.get('ab')!, [claim({ leaseMs: 3_600_000 })], true, true, 20); endStep(p);
  assert.equal(h.claims()[0]!.expiresAt, 1020);
});

test('helper: a claim it ended is never taken up again by a late heartbeat or request with the same claim id', () => {
  const { p, h } = helperOf();
  step(p, 10); h.onTakeover(p.peers.get('ab')!, claim(), 10); endStep(p, true);
  step(p, 20); h.onAnnouncement('lan0', '10.0.0.11', 20);
  assert.deepEqual(eventTypes(endStep(p)), ['help-release'], 'the owner (still heard) announced itself: its failback');
  step(p, 21); h.onHeartbeat(p.peers.get('ab')!, [claim()], true, true, 21); h.onTakeover(p.peers.get('ab')!, claim(), 21);
  assert.deepEqual(kinds(endStep(p)), [], 'no help-start, no ack, no announcement');
  assert.ok(h.claims()[0]!.lingerUntil !== undefined);
  step(p, 22); h.onHeartbeat(p.peers.get('ab')!, [claim({ claimId: 'a-2' })], true, true, 22);
  assert.deepEqual(eventTypes(endStep(p, true)), ['help-start'], 'a new claim is');
});

test('helper: another host announcing the address of an owner we no longer hear supersedes us', () => {
  const { p, h } = helperOf();
  step(p, 10); h.onTakeover(p.peers.get('ab')!, claim(), 10); endStep(p, true);
  step(p, 500); p.peers.evaluate(500); endStep(p); // a silent for longer than the heartbeat timeout
  step(p, 501); h.onAnnouncement('lan0', '10.0.0.11', 501);
  assert.deepEqual(eventTypes(endStep(p)), ['help-superseded']);
  assert.ok(h.claims()[0]!.lingerUntil !== undefined, 'the route lingers, the proxy entry goes');
});
