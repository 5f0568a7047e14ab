// The effect-order contract across nodes, on the fake-time simulation: a helper whose kernel fails refuses and the
// owner moves to another helper; a failed carrier read is not a failed port; nothing counts before the start event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HanetNode } from '../../src/core/node.js';
import { Sim, defaults, priv, pub } from './core-sim.js';

function trio(): Sim {
  const sim = new Sim();
  sim.add(defaults('a', [pub('eth0', '10.0.0.11')], [priv('ab', 'eth1', 'b', '192.168.100.1', '192.168.100.2', 10), priv('ad', 'eth2', 'd', '192.168.101.1', '192.168.101.2', 20)]));
  sim.add(defaults('b', [pub('eth0', '10.0.0.12')], [priv('ab', 'eth1', 'a', '192.168.100.2', '192.168.100.1')]));
  sim.add(defaults('d', [pub('eth0', '10.0.0.14')], [priv('ad', 'eth1', 'a', '192.168.101.2', '192.168.101.1')]));
  sim.wire('a', 'ab', 'b', 'ab');
  sim.wire('a', 'ad', 'd', 'ad');
  return sim;
}

test('contract: the preferred helper\'s kernel fails: it refuses (kernel-failed) and the owner is carried by the next one', () => {
  const sim = trio();
  sim.advance(300);
  sim.node('b').kernelError = 'RTNETLINK answers: No buffer space available';
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(30);
  const refused = sim.node('a').events.find((e) => e.type === 'takeover-refused');
  assert.equal(refused?.reason, 'kernel-failed');
  assert.equal(refused?.helper, 'b');
  assert.ok(sim.kernelText('d').includes('proxy 10.0.0.11 dev eth0'), sim.kernelText('d').join('\n'));
  assert.ok(sim.node('a').events.some((e) => e.type === 'takeover-acked' && e.helper === 'd'));
  assert.equal(sim.node('b').announces.filter((x) => x.addresses.includes('10.0.0.11')).length, 0, 'b never announced what its kernel does not hold');
});

test('contract: the helper acks only after its kernel reported the generation that holds the claim', () => {
  const sim = trio();
  sim.advance(300);
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(5);
  const b = sim.node('b');
  const ack = b.sent.findIndex((s) => s.msg.type === 'takeover-ack');
  assert.ok(ack >= 0);
  // In the simulation the daemon's report arrives as the next event: the ack cannot be in the same step as help-start.
  const start = b.events.find((e) => e.type === 'help-start')!;
  assert.ok(b.sent[ack]!.at >= start.at);
  assert.ok(b.desired!.proxies.some((p) => p.address === '10.0.0.11'));
});

test('contract: failed carrier reads keep the verdict (no takeover) and are reported once per streak', () => {
  const sim = trio();
  sim.advance(300);
  const a = sim.node('a');
  for (let i = 0; i < 50; i++) sim.deliver('a', { type: 'carrier', at: sim.now + i, iface: 'eth0', up: false, lowerUp: false, error: 'netlink timeout' });
  assert.deepEqual(a.events.filter((e) => e.type === 'carrier-read-failed').map((e) => e.iface), ['eth0']);
  assert.ok(!a.events.some((e) => e.type === 'iface-failed' || e.type === 'takeover-requested'));
  assert.equal(a.core.status(sim.now).publics[0]!.health.readError, 'netlink timeout');
});

test('contract: nothing counts before the start event (a message cannot make the core ready without verdicts)', () => {
  const cfg = defaults('x', [pub('eth0', '10.0.0.11')], [priv('xb', 'eth1', 'b', '192.168.100.1', '192.168.100.2')]);
  const core = new HanetNode(cfg, 't');
  const fx = core.handle({ type: 'message', at: 10_000, link: 'xb', from: 'b', msg: { type: 'heartbeat', ready: true, lans: {}, canHelp: true, helping: [], claims: [] } });
  assert.deepEqual(fx, []);
  assert.equal(core.isReady(), false);
  core.handle({ type: 'start', at: 10_001 });
  assert.equal(core.isReady(), false, 'no verdicts yet');
});
