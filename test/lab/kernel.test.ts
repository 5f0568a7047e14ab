// Lab tests of the Linux KernelPort (netlink + /proc/sys) run inside throwaway namespaces hn-tk*:
// carrier detection latency, reconcile add/replace/remove + idempotence, crash leftovers, timings.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot, requireRoot } from '../helpers.js';
import { Agent, addNs, delNs, ipn, nsExec, nsName } from './ns-agent.js';
import type { DesiredKernelState, KernelOp } from '../../src/core/kernel-types.js';
import { formatKernelOp } from '../../src/core/kernel-plan.js';

const NS = nsName('k');
const NSW = nsName('w'); // plays the switch: holds the far end of eth0
let agent: Agent | undefined;
let sw: Agent | undefined;

before(() => {
  if (!isRoot()) return;
  addNs(NS, NSW);
  // eth0 = "public" port whose far end sw0 lives in NSW (like the lab's switch namespace): both ends are the
  // first device of their namespace, so they get the same ifindex, as in the lab; eth1 = private link (peer p1).
  ipn(NS, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'sw0', 'netns', NSW);
  ipn(NS, 'link', 'add', 'eth1', 'type', 'veth', 'peer', 'name', 'p1');
  for (const l of ['eth0', 'eth1', 'p1']) ipn(NS, 'link', 'set', l, 'up');
  ipn(NSW, 'link', 'set', 'sw0', 'up');
  ipn(NS, 'addr', 'add', '10.0.0.11/24', 'dev', 'eth0');
  ipn(NS, 'addr', 'add', '192.168.100.1/30', 'dev', 'eth1');
  ipn(NS, 'route', 'add', 'default', 'via', '10.0.0.1', 'dev', 'eth0');
  agent = new Agent(NS);
  sw = new Agent(NSW);
});

after(async () => {
  try { await agent?.close(); await sw?.close(); } finally { delNs(NS, NSW); }
});

const routes = (): string[] => ipn(NS, 'route', 'show', 'table', 'all', 'proto', '78').trim().split('\n').filter(Boolean).map((s) => s.trim()).sort();
const proxies = (): string[] => ipn(NS, 'neigh', 'show', 'proxy').trim().split('\n').filter(Boolean).map((s) => s.trim()).sort();
const addrs = (dev: string): string[] => [...ipn(NS, '-4', '-o', 'addr', 'show', 'dev', dev).matchAll(/inet (\S+)/g)].map((m) => m[1]!).sort();
const sysctl = (p: string): string => nsExec(NS, 'cat', `/proc/sys/${p}`).trim();
const texts = (ops: KernelOp[]): string[] => ops.map(formatKernelOp);

const SVC = { family: 4 as const, ifname: 'eth0', address: '10.0.0.100', prefixLen: 32 };
const viaB = (dst: string, dstLen: number) => ({ family: 4 as const, dst, dstLen, ifname: 'eth1', via: '192.168.100.2', src: '10.0.0.11' });
const takeover: DesiredKernelState = {
  addresses: [SVC], managedAddresses: [SVC],
  routes: [viaB('0.0.0.0', 1), viaB('128.0.0.0', 1), viaB('10.0.0.0', 25), viaB('10.0.0.128', 25)],
  proxies: [{ family: 4, ifname: 'eth0', address: '10.0.0.12' }],
  sysctls: [{ path: 'net/ipv4/ip_forward', value: '1' }, { path: 'net/ipv4/neigh/eth0/proxy_delay', value: '0' }],
};
const release: DesiredKernelState = { addresses: [], managedAddresses: [SVC], routes: [], proxies: [], sysctls: takeover.sysctls };

type ReconcileResult = { ops: KernelOp[]; ms: number } & { error?: string; extAcks?: (string | null)[]; errnos?: (string | null)[]; applied?: KernelOp[] };

test('getLink reads carrier; unknown interface is undefined', async (t) => {
  if (!requireRoot(t)) return;
  const l = await agent!.call<{ name: string; carrier: boolean; up: boolean; lowerUp: boolean; mtu: number; mac: string } | null>('getLink', { name: 'eth0' });
  assert.ok(l);
  assert.equal(l.name, 'eth0');
  assert.equal(l.carrier, true);
  assert.equal(l.up && l.lowerUp, true);
  assert.equal(l.mtu, 1500);
  assert.match(l.mac, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  assert.equal(await agent!.call('getLink', { name: 'nope0' }), null);
});

test('carrier loss is seen by getLink at once; RTNLGRP_LINK notification can be late', async (t) => {
  if (!requireRoot(t)) return;
  type Result = { pollAt: number | null; notifyAt: number | null; polls: number };
  const trial = async (quietMs: number, poll = true): Promise<{ pollMs: number | null; notifyMs: number | null }> => {
    await sw!.call('setLink', { name: 'sw0', up: true });
    await agent!.call('waitCarrier', { name: 'eth0', carrier: true });
    // the variable under test: time since the previous carrier change (not a synchronisation sleep)
    await new Promise((r) => setTimeout(r, quietMs));
    await agent!.call('carrierWatch', { name: 'eth0', poll });
    const t0 = await sw!.call<number>('setLink', { name: 'sw0', up: false });
    const r = await agent!.call<Result>('carrierResult', { name: 'eth0', waitMs: 2500 });
    return { pollMs: r.pollAt !== null ? r.pollAt - t0 : null, notifyMs: r.notifyAt !== null ? r.notifyAt - t0 : null };
  };
  const quiet = [], flap = [];
  for (let i = 0; i < 3; i++) quiet.push(await trial(1200));
  for (let i = 0; i < 3; i++) flap.push(await trial(300));
  const unpolled = [];
  for (let i = 0; i < 3; i++) unpolled.push(await trial(300, false));
  const f = (xs: (number | null)[]): string => xs.map((x) => (x === null ? 'never' : x.toFixed(2))).join(', ');
  t.diagnostic(`carrier-down >1 s after the last change: getLink poll ${f(quiet.map((x) => x.pollMs))} ms; RTM_NEWLINK ${f(quiet.map((x) => x.notifyMs))} ms`);
  t.diagnostic(`carrier-down 300 ms after carrier-up:  getLink poll ${f(flap.map((x) => x.pollMs))} ms; RTM_NEWLINK ${f(flap.map((x) => x.notifyMs))} ms`);
  t.diagnostic(`carrier-down 300 ms after carrier-up, nobody polling: RTM_NEWLINK ${f(unpolled.map((x) => x.notifyMs))} ms`);
  for (const x of [...quiet, ...flap]) {
    assert.notEqual(x.pollMs, null, 'getLink never saw the carrier loss');
    assert.ok(x.pollMs! < 20, `getLink saw carrier loss after ${x.pollMs} ms`);
  }
  await sw!.call('setLink', { name: 'sw0', up: true });
  await agent!.call('waitCarrier', { name: 'eth0', carrier: true });
});

test('getLink round trip (median of 1000)', async (t) => {
  if (!requireRoot(t)) return;
  const r = await agent!.call<{ medianUs: number; p99Us: number }>('benchGetLink', { name: 'eth0', n: 1000 });
  t.diagnostic(`getLink: median ${r.medianUs.toFixed(1)} µs, p99 ${r.p99Us.toFixed(1)} µs`);
  assert.ok(r.medianUs < 2000);
});

test('reconcile adds, is idempotent, replaces and removes; sysctls written', async (t) => {
  if (!requireRoot(t)) return;
  // wait for carrier: routes via eth1 need the link usable
  const r1 = await agent!.call<ReconcileResult>('reconcile', { desired: takeover });
  assert.equal(r1.error, undefined, r1.error);
  assert.deepEqual(texts(r1.ops), [
    'sysctl net/ipv4/ip_forward=1 (was 0)',
    'sysctl net/ipv4/neigh/eth0/proxy_delay=0 (was 80)',
    'ip addr add 10.0.0.100/32 dev eth0 proto hanet',
    'ip route replace 0.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
    'ip route replace 10.0.0.0/25 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
    'ip route replace 10.0.0.128/25 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
    'ip route replace 128.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
    'ip neigh add proxy 10.0.0.12 dev eth0 proto hanet',
  ]);
  assert.deepEqual(routes(), [
    '0.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11',
    '10.0.0.0/25 via 192.168.100.2 dev eth1 src 10.0.0.11',
    '10.0.0.128/25 via 192.168.100.2 dev eth1 src 10.0.0.11',
    '128.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11',
  ]);
  assert.deepEqual(proxies(), ['10.0.0.12 dev eth0 proxy proto 78']);
  assert.deepEqual(addrs('eth0'), ['10.0.0.100/32', '10.0.0.11/24']);
  assert.equal(sysctl('net/ipv4/ip_forward'), '1');
  assert.equal(sysctl('net/ipv4/neigh/eth0/proxy_delay'), '0');

  const r2 = await agent!.call<ReconcileResult>('reconcile', { desired: takeover });
  assert.deepEqual(r2.ops, [], 'second reconcile with the same state changes nothing');

  // replace: new gateway for one route (same identity) and one route moved to table 100
  const changed: DesiredKernelState = {
    ...takeover,
    routes: [{ ...viaB('0.0.0.0', 1), via: '192.168.100.2', src: '10.0.0.100' }, viaB('128.0.0.0', 1), { ...viaB('10.0.0.0', 25), table: 100 }, viaB('10.0.0.128', 25)],
  };
  const r3 = await agent!.call<ReconcileResult>('reconcile', { desired: changed });
  assert.deepEqual(texts(r3.ops), [
    // sorted by identity (family|table|dst|metric): table 100 before table 254 (main)
    'ip route replace 10.0.0.0/25 via 192.168.100.2 dev eth1 src 10.0.0.11 table 100 proto hanet',
    'ip route replace 0.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.100 proto hanet',
    'ip route del 10.0.0.0/25 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
  ]);
  assert.ok(routes().includes('10.0.0.0/25 via 192.168.100.2 dev eth1 table 100 src 10.0.0.11'), routes().join('\n'));
  assert.deepEqual((await agent!.call<ReconcileResult>('reconcile', { desired: changed })).ops, []);

  // release: proxy, routes, service address go; foreign default route and addresses stay
  const r4 = await agent!.call<ReconcileResult>('reconcile', { desired: release });
  assert.deepEqual(texts(r4.ops), [
    'ip neigh del proxy 10.0.0.12 dev eth0',
    'ip route del 10.0.0.0/25 via 192.168.100.2 dev eth1 src 10.0.0.11 table 100 proto hanet',
    'ip route del 0.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.100 proto hanet',
    'ip route del 10.0.0.128/25 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
    'ip route del 128.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
    'ip addr del 10.0.0.100/32 dev eth0',
  ]);
  assert.deepEqual(routes(), []);
  assert.deepEqual(proxies(), []);
  assert.deepEqual(addrs('eth0'), ['10.0.0.11/24']);
  assert.match(ipn(NS, 'route', 'show', 'default'), /default via 10\.0\.0\.1 dev eth0/);
  assert.deepEqual((await agent!.call<ReconcileResult>('reconcile', { desired: release })).ops, []);
});

test('a hanet route never deletes a foreign route with the same destination', async (t) => {
  if (!requireRoot(t)) return;
  ipn(NS, 'route', 'add', '10.50.0.0/16', 'via', '10.0.0.1', 'dev', 'eth0', 'metric', '7', 'proto', 'static');
  const d: DesiredKernelState = { ...release, routes: [{ family: 4, dst: '10.50.0.0', dstLen: 16, ifname: 'eth1', via: '192.168.100.2', metric: 5 }] };
  assert.equal(texts((await agent!.call<ReconcileResult>('reconcile', { desired: d })).ops).length, 1);
  assert.equal(texts((await agent!.call<ReconcileResult>('reconcile', { desired: release })).ops).length, 1);
  assert.match(ipn(NS, 'route', 'show', '10.50.0.0/16'), /10\.50\.0\.0\/16 via 10\.0\.0\.1 dev eth0 proto static metric 7/);
  ipn(NS, 'route', 'del', '10.50.0.0/16', 'via', '10.0.0.1', 'metric', '7');
});

test('kernel errors carry errno and the extended ack; other ops still apply', async (t) => {
  if (!requireRoot(t)) return;
  const d: DesiredKernelState = {
    ...release,
    routes: [{ family: 4, dst: '10.60.0.0', dstLen: 16, ifname: 'eth1', via: '172.31.0.1' }, { family: 4, dst: '10.61.0.0', dstLen: 16, ifname: 'eth1', via: '192.168.100.2' }],
  };
  const r = await agent!.call<ReconcileResult>('reconcile', { desired: d });
  assert.match(r.error ?? '', /^reconcile: 1 of 2 ops failed: ip route replace 10\.60\.0\.0\/16 via 172\.31\.0\.1 dev eth1 proto hanet: ENETUNREACH \(Nexthop has invalid gateway\)$/);
  assert.deepEqual(r.errnos, ['ENETUNREACH']);
  assert.deepEqual(r.extAcks, ['Nexthop has invalid gateway']);
  assert.deepEqual(texts(r.applied ?? []), ['ip route replace 10.61.0.0/16 via 192.168.100.2 dev eth1 proto hanet']);
  assert.deepEqual(texts((await agent!.call<ReconcileResult>('reconcile', { desired: release })).ops), ['ip route del 10.61.0.0/16 via 192.168.100.2 dev eth1 proto hanet']);
});

test('flushNeighbors drops dynamic neighbour entries of one interface, keeps permanent and proxy ones', async (t) => {
  if (!requireRoot(t)) return;
  ipn(NS, 'neigh', 'replace', '10.0.0.201', 'lladdr', '02:00:00:00:02:01', 'dev', 'eth0', 'nud', 'stale');
  ipn(NS, 'neigh', 'replace', '10.0.0.202', 'lladdr', '02:00:00:00:02:02', 'dev', 'eth0', 'nud', 'permanent');
  ipn(NS, 'neigh', 'replace', 'proxy', '10.0.0.203', 'dev', 'eth0');
  ipn(NS, 'neigh', 'replace', '192.168.100.9', 'lladdr', '02:00:00:00:02:09', 'dev', 'eth1', 'nud', 'stale');
  try {
    const n = await agent!.call<number>('flushNeighbors', { name: 'eth0' });
    assert.ok(n >= 1, `deleted ${n}`);
    const eth0 = ipn(NS, 'neigh', 'show', 'dev', 'eth0');
    assert.doesNotMatch(eth0, /10\.0\.0\.201/);
    assert.match(eth0, /10\.0\.0\.202 .*PERMANENT/);
    assert.match(ipn(NS, 'neigh', 'show', 'proxy'), /10\.0\.0\.203/);
    assert.match(ipn(NS, 'neigh', 'show', 'dev', 'eth1'), /192\.168\.100\.9/, 'other interfaces untouched');
  } finally {
    ipn(NS, 'neigh', 'del', '10.0.0.202', 'dev', 'eth0');
    ipn(NS, 'neigh', 'del', 'proxy', '10.0.0.203', 'dev', 'eth0');
    ipn(NS, 'neigh', 'del', '192.168.100.9', 'dev', 'eth1');
  }
});

test('concurrent reconciles are serialised', async (t) => {
  if (!requireRoot(t)) return;
  const [x, y] = await agent!.call<[KernelOp[], KernelOp[]]>('reconcileBoth', { first: takeover, second: release });
  assert.equal(x.length, 6);
  assert.equal(y.length, 6, 'the second saw what the first installed and removed it');
  assert.deepEqual(routes(), []);
  assert.deepEqual(proxies(), []);
});

test('leftovers after a crash are found and removed by cleanupAll', async (t) => {
  if (!requireRoot(t)) return;
  const crashing = new Agent(NS);
  try {
    const r = await crashing.call<ReconcileResult>('reconcile', { desired: takeover });
    assert.equal(r.ops.length > 0, true);
  } finally {
    await crashing.kill();
  }
  assert.equal(routes().length, 4);
  const fresh = new Agent(NS);
  try {
    const left = await fresh.call<{ routes: unknown[]; proxies: unknown[]; addresses: unknown[] }>('leftovers');
    assert.deepEqual([left.routes.length, left.proxies.length, left.addresses], [4, 1, [{ family: 4, ifname: 'eth0', address: '10.0.0.100', prefixLen: 32 }]]);
    const removed = await fresh.call<KernelOp[]>('cleanupAll');
    assert.deepEqual(texts(removed), [
      'ip neigh del proxy 10.0.0.12 dev eth0',
      'ip route del 0.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
      'ip route del 10.0.0.0/25 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
      'ip route del 10.0.0.128/25 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
      'ip route del 128.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
      'ip addr del 10.0.0.100/32 dev eth0',   // found through IFA_PROTO = HANET_RTPROT
    ]);
    assert.deepEqual(routes(), []);
    assert.deepEqual(proxies(), []);
    assert.deepEqual(addrs('eth0'), ['10.0.0.11/24']);
    assert.deepEqual(await fresh.call('cleanupAll'), []);
  } finally {
    await fresh.close();
  }
});

test('reconcile time for a takeover-sized change (4 routes + 1 proxy + 1 address)', async (t) => {
  if (!requireRoot(t)) return;
  const r = await agent!.call<{ opsCount: number; applyMedianMs: number; noopMedianMs: number; releaseMedianMs: number }>('benchReconcile', { takeover, release, n: 50 });
  t.diagnostic(`reconcile takeover (${r.opsCount} ops): median ${r.applyMedianMs.toFixed(3)} ms; no-op ${r.noopMedianMs.toFixed(3)} ms; release ${r.releaseMedianMs.toFixed(3)} ms`);
  assert.equal(r.opsCount, 6); // sysctls already hold
  assert.ok(r.applyMedianMs < 100);
});

test('no fd leaks: sockets are closed', async (t) => {
  if (!requireRoot(t)) return;
  const probe = new Agent(NS);
  try {
    const cycle = async (): Promise<void> => {
      await probe.call('arpOpen', { ifname: 'eth0' });
      await probe.call('watchLinks');
      await probe.call('getLink', { name: 'eth0' });
      await probe.call('closeAll');
    };
    await cycle(); // warm-up: lets node open whatever it opens lazily
    const base = await probe.call<number>('fds');
    for (let i = 0; i < 20; i++) await cycle();
    const end = await probe.call<number>('fds');
    assert.ok(end <= base, `fds ${base} -> ${end}`);
  } finally {
    await probe.close();
  }
});
