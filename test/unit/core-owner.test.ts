// The owner side: placement per LAN (own, local backup, remote, unserved), the claim on a helper (chosen by the
// peer table's order, retransmitted until acknowledged, switched on refusal), and failback: release only after the
// kernel holds the owner's own routes again, announced first.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OwnerSide } from '../../src/core/owner.js';
import type { CorePublic } from '../../src/core/types.js';
import { defaults, priv, pub } from './core-sim.js';
import { allHealthy, endStep, eventTypes, hb, kinds, parts, sends, step, type Parts } from './core-parts.js';

function ownerOf(publics: CorePublic[] = [pub('eth0', '10.0.0.11')]): { p: Parts; o: OwnerSide } {
  const cfg = defaults('a', publics, [priv('ab', 'eth1', 'b', '192.168.100.1', '192.168.100.2', 10), priv('ac', 'eth2', 'c', '192.168.101.1', '192.168.101.2', 20)]);
  const p = parts(cfg);
  const o = new OwnerSide(p, 't');
  allHealthy(p, 0);
  for (const l of ['ab', 'ac']) p.peers.heartbeatFrom(l, hb(), 0);
  p.peers.evaluate(0);
  o.place(0);
  endStep(p);
  return { p, o };
}

const fail = (p: Parts, iface: string, at: number) => { step(p, at); p.lans.carrier(iface, true, false, true); };

const placements: Array<{ name: string; publics: CorePublic[]; failed: string[]; want: Record<string, string> }> = [
  { name: 'every port usable: each holds its own', publics: [pub('eth0', '10.0.0.11'), pub('eth3', '10.0.0.13')], failed: [], want: { eth0: 'own', eth3: 'own' } },
  { name: 'one of two ports on a LAN failed: local backup', publics: [pub('eth0', '10.0.0.11'), pub('eth3', '10.0.0.13')], failed: ['eth0'], want: { eth0: 'local:eth3', eth3: 'own' } },
  { name: 'every port of the LAN failed: the cheapest helper', publics: [pub('eth0', '10.0.0.11'), pub('eth3', '10.0.0.13')], failed: ['eth0', 'eth3'], want: { eth0: 'remote:ab', eth3: 'remote:ab' } },
  { name: 'LANs are placed apart', publics: [pub('eth0', '10.0.0.11'), pub('eth3', '10.1.0.13', { lan: 'lan1', gateways: ['10.1.0.1'] })], failed: ['eth3'], want: { eth0: 'own', eth3: 'unserved' } },
];
for (const c of placements) {
  test(`owner: placement: ${c.name}`, () => {
    const { p, o } = ownerOf(c.publics);
    step(p, 10);
    for (const f of c.failed) p.lans.carrier(f, true, false, true);
    o.place(10);
    endStep(p, true);
    const show = (iface: string) => { const pl = o.placementOf(iface); return pl.kind === 'local' ? `local:${pl.iface}` : pl.kind === 'remote' ? `remote:${pl.link}` : pl.kind; };
    assert.deepEqual(Object.fromEntries(c.publics.map((q) => [q.iface, show(q.iface)])), c.want);
  });
}

test('owner: the takeover request goes out at once (not gated), retransmitted every heartbeat interval until acked', () => {
  const { p, o } = ownerOf();
  fail(p, 'eth0', 10); o.place(10);
  const fx = endStep(p, true);
  assert.deepEqual(sends(fx).map((s) => [s.link, s.msg.type]), [['ab', 'takeover']]);
  step(p, 29); o.retransmit(29); assert.deepEqual(sends(endStep(p)), []);
  step(p, 30); o.retransmit(30); assert.deepEqual(sends(endStep(p)).map((s) => s.msg.type), ['takeover']);
  const id = o.status()[0]!.claimId;
  step(p, 31); o.onAck('ab', id, true, undefined, 31); assert.deepEqual(eventTypes(endStep(p)), ['takeover-acked']);
  step(p, 60); o.retransmit(60); assert.deepEqual(sends(endStep(p)), []);
  assert.deepEqual(o.claimsFor('ab').map((c) => c.claimId), [id], 'listed in heartbeats to b');
});

test('owner: a refusal (e.g. the helper\'s kernel failed) moves the claim to the next helper', () => {
  const { p, o } = ownerOf();
  fail(p, 'eth0', 10); o.place(10); endStep(p, true);
  const id = o.status()[0]!.claimId;
  step(p, 12); o.onAck('ab', id, false, 'kernel-failed', 12); o.place(12);
  const fx = endStep(p);
  assert.deepEqual(eventTypes(fx), ['takeover-refused', 'takeover-requested']);
  assert.deepEqual(sends(fx).map((s) => [s.link, s.msg.type]), [['ac', 'takeover']]);
  assert.equal(o.status()[0]!.helper, 'c');
});

test('owner: failback announces and releases only once the kernel holds the owner\'s own routes', () => {
  const { p, o } = ownerOf();
  fail(p, 'eth0', 10); o.place(10); endStep(p, true);
  p.gate.kernelApplied(1, true);
  const id = o.status()[0]!.claimId;
  step(p, 11); o.onAck('ab', id, true, undefined, 11); endStep(p);
  // The port comes back and stays up past the hold-down.
  step(p, 100); p.lans.carrier('eth0', true, true, true); p.lans.probeStatus('eth0', '10.0.0.1', 0, true); o.place(100); endStep(p);
  step(p, 1100); o.place(1100);
  const fx = endStep(p, true);
  assert.deepEqual(kinds(fx), ['event:failback'], 'nothing but the event before the kernel holds the routes');
  assert.deepEqual(o.claimsFor('ab').map((c) => c.claimId), [id], 'still listed in heartbeats: the helper keeps carrying until released');
  step(p, 1101); p.gate.kernelApplied(2, false, 'EBUSY');
  assert.deepEqual(kinds(endStep(p)), [], 'a failed reconcile releases nothing');
  step(p, 1102); p.gate.kernelApplied(2, true);
  assert.deepEqual(kinds(endStep(p)), ['announce', 'send:release']);
  assert.deepEqual(o.claimsFor('ab'), []);
});

test('owner: no helper can carry the LAN: unserved', () => {
  const { p, o } = ownerOf();
  step(p, 500); p.peers.evaluate(500); endStep(p); // both peers silent past their timeout
  fail(p, 'eth0', 510); o.place(510);
  assert.deepEqual(eventTypes(endStep(p)), ['unserved']);
});
