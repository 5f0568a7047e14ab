// The peer table: liveness from heartbeats and link carrier, the helper candidates' order, heartbeat settings per link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heartbeatOf } from '../../src/core/peers.js';
import { defaults, priv, pub } from './core-sim.js';
import { endStep, eventTypes, hb, parts, step } from './core-parts.js';

const cfg = () => defaults('a', [pub('eth0', '10.0.0.11')], [
  priv('ab', 'eth1', 'b', '192.168.100.1', '192.168.100.2', 10),
  priv('ac', 'eth2', 'c', '192.168.101.1', '192.168.101.2', 10),
  priv('ad', 'eth3', 'd', '192.168.102.1', '192.168.102.2', 5),
  { ...priv('ae', 'hnae', 'e', '10.9.0.1', '10.9.0.2', 1), kind: 'serial', heartbeat: { intervalMs: 230, timeoutMs: 920 } },
]);

test('peers: a heartbeat makes a peer alive; silence past its link timeout, or carrier loss, makes it down', () => {
  const p = parts(cfg());
  step(p, 0);
  p.peers.heartbeatFrom('ab', hb(), 0);
  p.peers.evaluate(0);
  assert.deepEqual(eventTypes(endStep(p)), ['peer-up']);
  step(p, 200); p.peers.evaluate(200);
  assert.deepEqual(eventTypes(endStep(p)), [], 'exactly the timeout: still alive');
  step(p, 201); p.peers.evaluate(201);
  assert.deepEqual(eventTypes(endStep(p)), ['peer-down']);
  step(p, 210); p.peers.heartbeatFrom('ab', hb(), 210); p.peers.linkCarrier('ab', false); p.peers.evaluate(210);
  assert.deepEqual(eventTypes(endStep(p)), [], 'a heartbeat over a link without carrier does not make it alive');
  assert.equal(p.peers.get('ab')!.alive, false);
});

test('peers: a slow link has its own timeout (one place decides: heartbeatOf)', () => {
  const c = cfg();
  assert.deepEqual(heartbeatOf(c, 'ae'), { intervalMs: 230, timeoutMs: 920 });
  assert.deepEqual(heartbeatOf(c, 'ab'), c.heartbeat);
  const p = parts(c);
  step(p, 0); p.peers.heartbeatFrom('ae', hb(), 0); p.peers.evaluate(0); endStep(p);
  step(p, 900); p.peers.evaluate(900);
  assert.equal(p.peers.get('ae')!.alive, true);
});

const candidateCases: Array<{ name: string; reports: Record<string, Partial<ReturnType<typeof hb>>>; excluded?: string[]; want: string[] }> = [
  { name: 'cheapest link first, then peer name', reports: { ab: {}, ac: {}, ad: {}, ae: {} }, want: ['ae', 'ad', 'ab', 'ac'] },
  { name: 'a peer that cannot help is no candidate', reports: { ab: {}, ad: { canHelp: false } }, want: ['ab'] },
  { name: 'a peer whose port on the LAN is unhealthy is no candidate', reports: { ab: { lans: { lan0: { healthy: false } } }, ac: {} }, want: ['ac'] },
  { name: 'a peer without that LAN is no candidate', reports: { ab: { lans: { lan1: { healthy: true } } }, ac: {} }, want: ['ac'] },
  { name: 'excluded links (a recent refusal) are left out', reports: { ab: {}, ac: {} }, excluded: ['ab'], want: ['ac'] },
  { name: 'a silent peer is no candidate', reports: {}, want: [] },
];
for (const c of candidateCases) {
  test(`peers: candidates: ${c.name}`, () => {
    const p = parts(cfg());
    step(p, 0);
    for (const [link, over] of Object.entries(c.reports)) p.peers.heartbeatFrom(link, hb(over), 0);
    p.peers.evaluate(0);
    assert.deepEqual(p.peers.candidates('lan0', (l) => (c.excluded ?? []).includes(l)).map((l) => l.cfg.name), c.want);
  });
}

test('peers: heartbeats are due per link at its own interval', () => {
  const p = parts(cfg());
  assert.deepEqual(p.peers.dueHeartbeats(0).map((l) => l.cfg.name), ['ab', 'ac', 'ad', 'ae']);
  assert.deepEqual(p.peers.dueHeartbeats(19).map((l) => l.cfg.name), []);
  assert.deepEqual(p.peers.dueHeartbeats(20).map((l) => l.cfg.name), ['ab', 'ac', 'ad']);
  assert.deepEqual(p.peers.dueHeartbeats(230).map((l) => l.cfg.name), ['ab', 'ac', 'ad', 'ae']);
});
