// The chaos watcher's judgement of one sample (src/lab/watch/model.ts) and the chaos schedule (bench/lib/chaos):
// who answers for an address, double and stale answering, paths, delivery both ways; the schedule's determinism.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WatchModel, type Conditions, type ServerReading, type WatchTopology } from '../../src/lab/watch/model.js';
import { FaultRecord } from '../../src/lab/watch/conditions.js';
import { drawSchedule, FAULT_KINDS, type ChaosTopology } from '../../bench/lib/chaos/schedule.js';

const topo: WatchTopology = {
  servers: [
    { node: 'a', publics: [{ port: 'eth0', mac: '02:00:00:00:00:0a', addresses: ['10.0.0.11'] }] },
    { node: 'b', publics: [{ port: 'eth0', mac: '02:00:00:00:00:0b', addresses: ['10.0.0.12'] }] },
  ],
  links: [{ id: 'a:eth1-b:eth1', ends: [{ node: 'a', iface: 'eth1' }, { node: 'b', iface: 'eth1' }] }],
  viewers: [{ node: 'r', port: 'eth1' }],
};
const home = (n: 'a' | 'b'): ServerReading => ({ proxies: [], routes: [], addrs: new Map([['eth0', [n === 'a' ? '10.0.0.11' : '10.0.0.12']]]) });
const helpedA: ServerReading = { ...home('a'), routes: [{ dst: '0.0.0.0/1', dev: 'eth1', prefsrc: '10.0.0.11' }, { dst: '128.0.0.0/1', dev: 'eth1', prefsrc: '10.0.0.11' }] };
const helpingB: ServerReading = { ...home('b'), proxies: [{ dst: '10.0.0.11', dev: 'eth0' }], routes: [{ dst: '10.0.0.11', dev: 'eth1' }] };
const arp = (mac: string) => new Map([['r', new Map([['10.0.0.11', { lladdr: mac, state: ['REACHABLE'] }]])]]);
const verdictA = (cond: Conditions, a: ServerReading, b: ServerReading, mac = '02:00:00:00:00:0a') =>
  new WatchModel(topo).evaluate(cond, new Map([['a', a], ['b', b]]), arp(mac)).find((v) => v.address === '10.0.0.11')!;

test('watch model: at home the owner alone answers and the router delivers', () => {
  const v = verdictA(new FaultRecord(), home('a'), home('b'));
  assert.deepEqual([v.answerers, v.staleAnswerers, v.path, v.delivers], [['a'], [], { r: true }, { r: true }]);
});

test('watch model: a takeover: the helper answers, the helped owner stays silent, both directions work', () => {
  const rec = new FaultRecord();
  rec.failPort('a', 'eth0');
  const v = verdictA(rec, helpedA, helpingB, '02:00:00:00:00:0b');
  assert.deepEqual([v.answerers, v.path, v.delivers, v.arpPointsAt], [['b'], { r: true }, { r: true }, { r: 'b' }]);
});

test('watch model: an owner back on its port and not steered while the helper still proxies is double answering', () => {
  assert.deepEqual(verdictA(new FaultRecord(), home('a'), helpingB).answerers, ['a', 'b']);
  const rec = new FaultRecord();
  rec.daemonDown('b');
  const v = verdictA(rec, home('a'), helpingB);
  assert.deepEqual([v.answerers, v.staleAnswerers], [['a'], ['b']], 'a down daemon answers stale, not double');
});

test('watch model: black holes (a path exists, delivery fails) and no path', () => {
  const rec = new FaultRecord();
  rec.failPort('a', 'eth0');
  // The router still points at a's failed port.
  assert.deepEqual(verdictA(rec, helpedA, helpingB).delivers, { r: false });
  // The helper's route is gone.
  assert.deepEqual(verdictA(rec, helpedA, { ...helpingB, routes: [] }, '02:00:00:00:00:0b').delivers, { r: false });
  // The owner's routes through the helper are gone: its replies have no way out.
  assert.deepEqual(verdictA(rec, home('a'), helpingB, '02:00:00:00:00:0b').delivers, { r: false });
  // The private link is cut: no path at all.
  rec.failLink('a:eth1-b:eth1', ['a', 'b']);
  assert.deepEqual(verdictA(rec, helpedA, helpingB, '02:00:00:00:00:0b').path, { r: false });
  const gw = new FaultRecord();
  gw.failPort('r', 'eth1');
  assert.deepEqual(verdictA(gw, home('a'), home('b')).path, { r: false });
});

const chaosTopo: ChaosTopology = {
  servers: [{ node: 'a', publics: ['eth0', 'eth1'] }, { node: 'b', publics: ['eth0'] }, { node: 'c', publics: ['eth0'] }, { node: 'd', publics: ['eth0'] }],
  links: [{ id: 'a:eth2-b:eth1', kind: 'veth', ends: ['a', 'b'] }, { id: 'b:ser0-d:ser0', kind: 'serial', ends: ['b', 'd'] }, { id: 'b:udp0-d:udp0', kind: 'udp', ends: ['b', 'd'] }],
};

test('chaos schedule: the same seed gives the same schedule, another seed another; every kind is drawn', () => {
  const s1 = drawSchedule(1, 200, chaosTopo);
  assert.deepEqual(drawSchedule(1, 200, chaosTopo), s1);
  assert.deepEqual(drawSchedule(1, 20, chaosTopo), s1.slice(0, 20), 'a shorter run is a prefix');
  assert.notDeepEqual(drawSchedule(2, 200, chaosTopo), s1);
  assert.deepEqual(new Set(s1.map((e) => e.kind)), new Set(FAULT_KINDS));
  for (const e of s1) {
    if (e.kind === 'two-at-once') assert.notEqual(e.target.split(':')[0], e.second!.split(':')[0]);
    if (e.kind === 'link-oneway' || e.kind === 'link-silent') assert.ok(!e.target.includes('ser0'), 'serial lines cut both ways only');
  }
});
