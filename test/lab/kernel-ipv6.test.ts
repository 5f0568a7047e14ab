// Lab tests of the Linux KernelPort with an IPv6 desired state in a throwaway namespace (hn-tk6*): service
// addresses (added without DAD), takeover routes via the private link's IPv6 address with `src`, a /128 route, an
// IPv6 proxy entry and the proxy-NDP sysctls; idempotence, leftovers, release; and what admin-down does to addresses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot, requireRoot } from '../helpers.js';
import { Agent, addNs, delNs, ipn, nsExec, nsName } from './ns-agent.js';
import type { DesiredKernelState, KernelOp } from '../../src/core/kernel-types.js';
import { formatKernelOp } from '../../src/core/kernel-plan.js';

const NS = nsName('6');
let agent: Agent | undefined;

before(() => {
  if (!isRoot()) return;
  addNs(NS);
  // eth0 = public port, eth1 = private link; their veth peers stay in the namespace (only carrier matters here)
  for (const [dev, peer] of [['eth0', 'sw0'], ['eth1', 'p1']] as const) {
    ipn(NS, 'link', 'add', dev, 'type', 'veth', 'peer', 'name', peer);
    ipn(NS, 'link', 'set', peer, 'up');
    ipn(NS, 'link', 'set', dev, 'up');
  }
  // DAD stays on (the namespace default, accept_dad=1): the applier must add service addresses without it.
  ipn(NS, 'addr', 'add', '2001:db8:1::11/64', 'dev', 'eth0', 'nodad');
  ipn(NS, 'addr', 'add', 'fd00::1/64', 'dev', 'eth1', 'nodad');
  ipn(NS, '-6', 'route', 'add', 'default', 'via', '2001:db8:1::1', 'dev', 'eth0');
  agent = new Agent(NS);
});

after(async () => {
  try { await agent?.close(); } finally { delNs(NS); }
});

const lines = (s: string): string[] => s.trim().split('\n').filter(Boolean).map((x) => x.trim().replace(/\s+/g, ' ')).sort();
const routes = (): string[] => lines(ipn(NS, '-6', 'route', 'show', 'table', 'all', 'proto', '78'));
const proxies = (): string[] => lines(ipn(NS, '-6', 'neigh', 'show', 'proxy'));
const addrs = (dev: string): string[] => lines(ipn(NS, '-6', '-o', 'addr', 'show', 'dev', dev, 'scope', 'global'))
  .map((l) => /inet6 (\S+) (.*?)(\\|$)/.exec(l)!).map((m) => `${m[1]} ${m[2]!.trim()}`.trim());
const sysctl = (p: string): string => nsExec(NS, 'cat', `/proc/sys/${p}`).trim();
const texts = (ops: KernelOp[]): string[] => ops.map(formatKernelOp);

function hasForceForwarding(t: { skip(msg: string): void }): boolean {
  if (nsExec(NS, 'sh', '-c', 'test -e /proc/sys/net/ipv6/conf/eth0/force_forwarding && echo yes || true').trim() === 'yes') return true;
  t.skip('no force_forwarding on this kernel (< 6.17)');
  return false;
}

type ReconcileResult = { ops: KernelOp[]; error?: string };

// Owner side: its service address routed through the helper's private-link address (global, and link-local) with
// its own address as source. Helper side: a /128 route to the owner's address and the proxy entry on its port.
const SVC = { family: 6 as const, ifname: 'eth0', address: '2001:db8:1::100', prefixLen: 128 };
const SVC64 = { family: 6 as const, ifname: 'eth0', address: '2001:db8:1::101', prefixLen: 64 };
const viaHelper = (dst: string, dstLen: number) => ({ family: 6 as const, dst, dstLen, ifname: 'eth1', via: 'fd00::2', src: '2001:db8:1::11' });
const takeover: DesiredKernelState = {
  addresses: [SVC, SVC64], managedAddresses: [SVC, SVC64],
  routes: [
    viaHelper('::', 1), viaHelper('8000::', 1), viaHelper('2001:db8:1::', 65), viaHelper('2001:db8:1:0:8000::', 65),
    { family: 6, dst: '2001:db8:1::12', dstLen: 128, ifname: 'eth1', via: 'fd00::2' },
    { family: 6, dst: '2001:db8:2::', dstLen: 64, ifname: 'eth1', via: 'fe80::2', src: '2001:db8:1::100' },
  ],
  proxies: [{ family: 6, ifname: 'eth0', address: '2001:db8:1::12' }],
  // What a helper needs (docs/troubleshooting.md): proxy answers need forwarding on the public port, unicast NSs
  // conf/all/proxy_ndp; forwarding itself force_forwarding on both incoming interfaces (Linux >= 6.17; the per-
  // interface forwarding does not forward IPv6, conf/all/forwarding would make every interface forward).
  sysctls: [
    { path: 'net/ipv6/conf/all/proxy_ndp', value: '1' },
    { path: 'net/ipv6/conf/eth0/force_forwarding', value: '1' },
    { path: 'net/ipv6/conf/eth0/forwarding', value: '1' },
    { path: 'net/ipv6/conf/eth1/force_forwarding', value: '1' },
    { path: 'net/ipv6/neigh/eth0/proxy_delay', value: '0' },
  ],
};
const release: DesiredKernelState = { addresses: [], managedAddresses: [SVC, SVC64], routes: [], proxies: [], sysctls: takeover.sysctls };

test('reconcile an IPv6 takeover: addresses without DAD, routes via the private link with src, proxy entry, sysctls', async (t) => {
  if (!requireRoot(t)) return;
  if (!hasForceForwarding(t)) return;
  const r1 = await agent!.call<ReconcileResult>('reconcile', { desired: takeover });
  assert.equal(r1.error, undefined, r1.error);
  assert.deepEqual(texts(r1.ops), [
    'sysctl net/ipv6/conf/all/proxy_ndp=1 (was 0)',
    'sysctl net/ipv6/conf/eth0/force_forwarding=1 (was 0)',
    'sysctl net/ipv6/conf/eth0/forwarding=1 (was 0)',
    'sysctl net/ipv6/conf/eth1/force_forwarding=1 (was 0)',
    'sysctl net/ipv6/neigh/eth0/proxy_delay=0 (was 80)',
    'ip -6 addr add 2001:db8:1::100/128 dev eth0 proto hanet',
    'ip -6 addr add 2001:db8:1::101/64 dev eth0 proto hanet',
    'ip -6 route replace 2001:db8:1:0:8000::/65 via fd00::2 dev eth1 src 2001:db8:1::11 proto hanet',
    'ip -6 route replace 2001:db8:1::/65 via fd00::2 dev eth1 src 2001:db8:1::11 proto hanet',
    'ip -6 route replace 2001:db8:1::12/128 via fd00::2 dev eth1 proto hanet',
    'ip -6 route replace 2001:db8:2::/64 via fe80::2 dev eth1 src 2001:db8:1::100 proto hanet',
    'ip -6 route replace 8000::/1 via fd00::2 dev eth1 src 2001:db8:1::11 proto hanet',
    'ip -6 route replace ::/1 via fd00::2 dev eth1 src 2001:db8:1::11 proto hanet', // sorted by key text: ':' after digits
    'ip -6 neigh add proxy 2001:db8:1::12 dev eth0 proto hanet',
  ]);
  assert.deepEqual(routes(), [
    '2001:db8:1:0:8000::/65 via fd00::2 dev eth1 src 2001:db8:1::11 metric 1024 pref medium',
    '2001:db8:1::/65 via fd00::2 dev eth1 src 2001:db8:1::11 metric 1024 pref medium',
    '2001:db8:1::12 via fd00::2 dev eth1 metric 1024 pref medium',
    '2001:db8:2::/64 via fe80::2 dev eth1 src 2001:db8:1::100 metric 1024 pref medium',
    '8000::/1 via fd00::2 dev eth1 src 2001:db8:1::11 metric 1024 pref medium',
    '::/1 via fd00::2 dev eth1 src 2001:db8:1::11 metric 1024 pref medium',
  ]);
  assert.deepEqual(proxies(), ['2001:db8:1::12 dev eth0 proxy proto 78']);
  // IFA_F_NODAD: a service address is usable at once and never goes "dadfailed" against a helper's proxy entry
  assert.deepEqual(addrs('eth0'), ['2001:db8:1::100/128 scope global nodad', '2001:db8:1::101/64 scope global nodad', '2001:db8:1::11/64 scope global nodad']);
  assert.equal(sysctl('net/ipv6/conf/all/forwarding'), '0');
  assert.equal(sysctl('net/ipv6/conf/eth1/force_forwarding'), '1');
  assert.equal(sysctl('net/ipv6/neigh/eth0/proxy_delay'), '0');

  assert.deepEqual((await agent!.call<ReconcileResult>('reconcile', { desired: takeover })).ops, [], 'idempotent (metric 1024 read back as the IPv6 default)');
  const left = await agent!.call<{ routes: unknown[]; proxies: unknown[]; addresses: unknown[] }>('leftovers');
  assert.deepEqual([left.routes.length, left.proxies.length], [6, 1]);
  assert.deepEqual(new Set(left.addresses), new Set([SVC, SVC64]), 'found through IFA_PROTO');

  const r3 = await agent!.call<ReconcileResult>('reconcile', { desired: release });
  assert.equal(r3.error, undefined, r3.error);
  assert.equal(r3.ops.length, 9);
  assert.deepEqual(routes(), []);
  assert.deepEqual(proxies(), []);
  assert.deepEqual(addrs('eth0'), ['2001:db8:1::11/64 scope global nodad']);
  assert.match(ipn(NS, '-6', 'route', 'show', 'default'), /default via 2001:db8:1::1 dev eth0/, 'the operator\'s default route untouched');
  assert.deepEqual((await agent!.call<ReconcileResult>('reconcile', { desired: release })).ops, []);
});

test('cleanupAll removes IPv6 leftovers of a crashed run', async (t) => {
  if (!requireRoot(t) || !hasForceForwarding(t)) return;
  const crashing = new Agent(NS);
  try {
    assert.equal((await crashing.call<ReconcileResult>('reconcile', { desired: takeover })).error, undefined);
  } finally {
    await crashing.kill();
  }
  const fresh = new Agent(NS);
  try {
    const removed = texts(await fresh.call<KernelOp[]>('cleanupAll'));
    assert.equal(removed.length, 9, removed.join('\n'));
    assert.ok(removed.includes('ip -6 neigh del proxy 2001:db8:1::12 dev eth0'));
    assert.ok(removed.includes('ip -6 addr del 2001:db8:1::100/128 dev eth0'));
    assert.deepEqual(routes(), []);
    assert.deepEqual(proxies(), []);
    assert.deepEqual(addrs('eth0'), ['2001:db8:1::11/64 scope global nodad']);
  } finally {
    await fresh.close();
  }
});

test('admin-down removes IPv6 addresses (even nodad ones) unless keep_addr_on_down=1', async (t) => {
  if (!requireRoot(t)) return;
  // A hanet owner whose port is set down must keep its service address local (packets for it keep arriving over the
  // private link): IPv4 addresses survive admin-down, IPv6 ones are flushed by default. (Plain `ip` here: a kernel
  // port that plans from the state it last left would only see the loss at its next full read.)
  const down = async (): Promise<string[]> => {
    ipn(NS, 'addr', 'replace', '2001:db8:1::100/128', 'dev', 'eth0', 'nodad');
    ipn(NS, 'link', 'set', 'eth0', 'down');
    const left = addrs('eth0');
    ipn(NS, 'link', 'set', 'eth0', 'up');
    return left;
  };
  assert.equal(sysctl('net/ipv6/conf/eth0/keep_addr_on_down'), '0');
  assert.deepEqual(await down(), []);
  ipn(NS, 'addr', 'add', '2001:db8:1::11/64', 'dev', 'eth0', 'nodad');
  ipn(NS, '-6', 'route', 'replace', 'default', 'via', '2001:db8:1::1', 'dev', 'eth0');
  nsExec(NS, 'sysctl', '-qw', 'net.ipv6.conf.eth0.keep_addr_on_down=1');
  assert.deepEqual(await down(), ['2001:db8:1::100/128 scope global nodad', '2001:db8:1::11/64 scope global nodad']);
  ipn(NS, 'addr', 'del', '2001:db8:1::100/128', 'dev', 'eth0');
});
