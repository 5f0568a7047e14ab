// Table-driven tests of the pure kernel planner, run through the text fake (state as sorted `ip` lines).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { HANET_RTPROT, applyOpsToActual, formatKernelOp, planKernelOps } from '../../src/core/kernel-plan.js';
import type { AddrSpec, DesiredKernelState, ProxySpec, RouteSpec, RuleSpec } from '../../src/core/kernel-types.js';
import { FakeKernel } from '../fakes/fake-kernel.js';

const A_PUB: AddrSpec = { family: 4, ifname: 'eth0', address: '10.0.0.11', prefixLen: 24 };
const SVC: AddrSpec = { family: 4, ifname: 'eth0', address: '10.0.0.100', prefixLen: 32 };
const viaB = (dst: string, dstLen: number): RouteSpec => ({ family: 4, dst, dstLen, ifname: 'eth1', via: '192.168.100.2', src: '10.0.0.11' });
const TO_A: RouteSpec = { family: 4, dst: '10.0.0.11', dstLen: 32, ifname: 'eth1', via: '192.168.100.1' };
const PROXY_A: ProxySpec = { family: 4, ifname: 'eth0', address: '10.0.0.11' };
const empty: DesiredKernelState = { addresses: [], managedAddresses: [], routes: [], proxies: [], sysctls: [] };
const want = (d: Partial<DesiredKernelState>): DesiredKernelState => ({ ...empty, ...d });

const fresh = (): FakeKernel => new FakeKernel({
  links: [{ name: 'eth0' }, { name: 'eth1' }],
  addresses: [A_PUB, { family: 4, ifname: 'eth1', address: '192.168.100.1', prefixLen: 30 }],
  sysctls: { 'net/ipv4/ip_forward': '0', 'net/ipv4/neigh/eth0/proxy_delay': '80' },
});

interface Case { name: string; before?: DesiredKernelState; desired: DesiredKernelState; ops: string[]; state: string[] }

const cases: Case[] = [
  {
    name: 'nothing desired, nothing changes',
    desired: empty,
    ops: [],
    state: [
      'ip addr add 10.0.0.11/24 dev eth0', 'ip addr add 192.168.100.1/30 dev eth1',
      'sysctl net/ipv4/ip_forward=0', 'sysctl net/ipv4/neigh/eth0/proxy_delay=80',
    ],
  },
  {
    name: 'owner A fails over to helper B: LAN + default via the private link (src = public address)',
    desired: want({ routes: [viaB('0.0.0.0', 1), viaB('128.0.0.0', 1), viaB('10.0.0.0', 24)] }),
    ops: [
      'ip route replace 0.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
      'ip route replace 10.0.0.0/24 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
      'ip route replace 128.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
    ],
    state: [
      'ip addr add 10.0.0.11/24 dev eth0', 'ip addr add 192.168.100.1/30 dev eth1',
      'ip route add 0.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
      'ip route add 10.0.0.0/24 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
      'ip route add 128.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
      'sysctl net/ipv4/ip_forward=0', 'sysctl net/ipv4/neigh/eth0/proxy_delay=80',
    ],
  },
  {
    name: 'helper B takes over: sysctls first, then /32 route, then proxy entry',
    desired: want({
      routes: [TO_A], proxies: [PROXY_A],
      sysctls: [{ path: 'net/ipv4/ip_forward', value: '1' }, { path: 'net/ipv4/neigh/eth0/proxy_delay', value: '0' }],
    }),
    ops: [
      'sysctl net/ipv4/ip_forward=1 (was 0)',
      'sysctl net/ipv4/neigh/eth0/proxy_delay=0 (was 80)',
      'ip route replace 10.0.0.11/32 via 192.168.100.1 dev eth1 proto hanet',
      'ip neigh add proxy 10.0.0.11 dev eth0 proto hanet',
    ],
    state: [
      'ip addr add 10.0.0.11/24 dev eth0', 'ip addr add 192.168.100.1/30 dev eth1',
      'ip neigh add proxy 10.0.0.11 dev eth0 proto hanet',
      'ip route add 10.0.0.11/32 via 192.168.100.1 dev eth1 proto hanet',
      'sysctl net/ipv4/ip_forward=1', 'sysctl net/ipv4/neigh/eth0/proxy_delay=0',
    ],
  },
  {
    name: 'helper B releases: proxy removed before the route',
    before: want({ routes: [TO_A], proxies: [PROXY_A] }),
    desired: empty,
    ops: [
      'ip neigh del proxy 10.0.0.11 dev eth0',
      'ip route del 10.0.0.11/32 via 192.168.100.1 dev eth1 proto hanet',
    ],
    state: [
      'ip addr add 10.0.0.11/24 dev eth0', 'ip addr add 192.168.100.1/30 dev eth1',
      'sysctl net/ipv4/ip_forward=0', 'sysctl net/ipv4/neigh/eth0/proxy_delay=80',
    ],
  },
  {
    name: 'route with same identity but new gateway is one replace (no delete)',
    before: want({ routes: [viaB('0.0.0.0', 0)] }),
    desired: want({ routes: [{ ...viaB('0.0.0.0', 0), via: '192.168.100.6' }] }),
    ops: ['ip route replace 0.0.0.0/0 via 192.168.100.6 dev eth1 src 10.0.0.11 proto hanet'],
    state: [
      'ip addr add 10.0.0.11/24 dev eth0', 'ip addr add 192.168.100.1/30 dev eth1',
      'ip route add 0.0.0.0/0 via 192.168.100.6 dev eth1 src 10.0.0.11 proto hanet',
      'sysctl net/ipv4/ip_forward=0', 'sysctl net/ipv4/neigh/eth0/proxy_delay=80',
    ],
  },
  {
    name: 'route moved to another metric/table: add the new one before deleting the old',
    before: want({ routes: [viaB('0.0.0.0', 0)] }),
    desired: want({ routes: [{ ...viaB('0.0.0.0', 0), metric: 10, table: 100 }] }),
    ops: [
      'ip route replace 0.0.0.0/0 via 192.168.100.2 dev eth1 src 10.0.0.11 metric 10 table 100 proto hanet',
      'ip route del 0.0.0.0/0 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
    ],
    state: [
      'ip addr add 10.0.0.11/24 dev eth0', 'ip addr add 192.168.100.1/30 dev eth1',
      'ip route add 0.0.0.0/0 via 192.168.100.2 dev eth1 src 10.0.0.11 metric 10 table 100 proto hanet',
      'sysctl net/ipv4/ip_forward=0', 'sysctl net/ipv4/neigh/eth0/proxy_delay=80',
    ],
  },
  {
    name: 'service address: added before routes that use it as src; foreign addresses untouched',
    desired: want({ addresses: [SVC], managedAddresses: [SVC, A_PUB], routes: [{ ...viaB('0.0.0.0', 0), src: '10.0.0.100' }] }),
    ops: [
      'ip addr add 10.0.0.100/32 dev eth0 proto hanet',
      'ip route replace 0.0.0.0/0 via 192.168.100.2 dev eth1 src 10.0.0.100 proto hanet',
      // A_PUB is managed but not desired and present: it goes (last)
      'ip addr del 10.0.0.11/24 dev eth0',
    ],
    state: [
      'ip addr add 10.0.0.100/32 dev eth0 proto hanet', 'ip addr add 192.168.100.1/30 dev eth1',
      'ip route add 0.0.0.0/0 via 192.168.100.2 dev eth1 src 10.0.0.100 proto hanet',
      'sysctl net/ipv4/ip_forward=0', 'sysctl net/ipv4/neigh/eth0/proxy_delay=80',
    ],
  },
  {
    name: 'managed address not desired and absent: nothing to do; duplicates collapse',
    desired: want({ managedAddresses: [SVC, SVC], routes: [TO_A, TO_A], proxies: [PROXY_A, PROXY_A] }),
    ops: [
      'ip route replace 10.0.0.11/32 via 192.168.100.1 dev eth1 proto hanet',
      'ip neigh add proxy 10.0.0.11 dev eth0 proto hanet',
    ],
    state: [
      'ip addr add 10.0.0.11/24 dev eth0', 'ip addr add 192.168.100.1/30 dev eth1',
      'ip neigh add proxy 10.0.0.11 dev eth0 proto hanet',
      'ip route add 10.0.0.11/32 via 192.168.100.1 dev eth1 proto hanet',
      'sysctl net/ipv4/ip_forward=0', 'sysctl net/ipv4/neigh/eth0/proxy_delay=80',
    ],
  },
  {
    name: 'IPv6 text is normalised (no spurious replace) and printed with ip -6',
    before: want({ routes: [{ family: 6, dst: '2001:db8::', dstLen: 64, ifname: 'eth1', via: 'fe80::1' }] }),
    desired: want({ routes: [{ family: 6, dst: '2001:DB8:0::0', dstLen: 64, ifname: 'eth1', via: 'FE80::0:1', metric: 1024 }],
      proxies: [{ family: 6, ifname: 'eth0', address: '2001:db8::11' }] }),
    ops: ['ip -6 neigh add proxy 2001:db8::11 dev eth0 proto hanet'],
    state: [
      'ip -6 neigh add proxy 2001:db8::11 dev eth0 proto hanet',
      'ip -6 route add 2001:db8::/64 via fe80::1 dev eth1 proto hanet',
      'ip addr add 10.0.0.11/24 dev eth0', 'ip addr add 192.168.100.1/30 dev eth1',
      'sysctl net/ipv4/ip_forward=0', 'sysctl net/ipv4/neigh/eth0/proxy_delay=80',
    ],
  },
  {
    name: 'sysctl values compare after whitespace normalisation',
    before: want({ sysctls: [{ path: 'net/ipv4/ip_local_port_range', value: '32768\t60999' }] }),
    desired: want({ sysctls: [{ path: 'net/ipv4/ip_local_port_range', value: '32768 60999' }] }),
    ops: [],
    state: [
      'ip addr add 10.0.0.11/24 dev eth0', 'ip addr add 192.168.100.1/30 dev eth1',
      'sysctl net/ipv4/ip_forward=0', 'sysctl net/ipv4/ip_local_port_range=32768\t60999', 'sysctl net/ipv4/neigh/eth0/proxy_delay=80',
    ],
  },
];

for (const c of cases) {
  test(`plan: ${c.name}`, async () => {
    const k = fresh();
    if (c.before) await k.reconcile(c.before);
    const ops = await k.reconcile(c.desired);
    assert.deepEqual(ops.map(formatKernelOp), c.ops);
    assert.deepEqual(k.lines(), c.state);
    // idempotent: the same desired state again changes nothing
    assert.deepEqual((await k.reconcile(c.desired)).map(formatKernelOp), []);
  });
}

test('planner output does not depend on the order of actual or desired state', () => {
  const actual = {
    addresses: [A_PUB, SVC], routes: [TO_A, viaB('0.0.0.0', 1), viaB('10.1.0.0', 16)], proxies: [PROXY_A, { ...PROXY_A, address: '10.0.0.12' }],
    sysctls: [{ path: 'a', value: '0' }, { path: 'b', value: '0' }],
  };
  const desired = want({
    addresses: [SVC], managedAddresses: [SVC, A_PUB], routes: [viaB('0.0.0.0', 1), viaB('128.0.0.0', 1), TO_A],
    proxies: [{ ...PROXY_A, address: '10.0.0.13' }], sysctls: [{ path: 'b', value: '1' }, { path: 'a', value: '1' }],
  });
  const base = planKernelOps(actual, desired).map(formatKernelOp);
  const rev = <T>(xs: T[]): T[] => [...xs].reverse();
  const shuffled = planKernelOps(
    { addresses: rev(actual.addresses), routes: rev(actual.routes), proxies: rev(actual.proxies), sysctls: rev(actual.sysctls) },
    { ...desired, managedAddresses: rev(desired.managedAddresses), routes: rev(desired.routes), sysctls: rev(desired.sysctls) },
  ).map(formatKernelOp);
  assert.deepEqual(shuffled, base);
  assert.deepEqual(base, [
    'sysctl a=1 (was 0)', 'sysctl b=1 (was 0)',
    'ip route replace 128.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
    'ip neigh add proxy 10.0.0.13 dev eth0 proto hanet',
    'ip neigh del proxy 10.0.0.11 dev eth0', 'ip neigh del proxy 10.0.0.12 dev eth0',
    'ip route del 10.1.0.0/16 via 192.168.100.2 dev eth1 src 10.0.0.11 proto hanet',
    'ip addr del 10.0.0.11/24 dev eth0',
  ]);
});

test('fake: cleanupAll removes only what hanet installed; link changes are reported', async () => {
  const k = fresh();
  await k.reconcile(want({ addresses: [SVC], managedAddresses: [SVC], routes: [TO_A], proxies: [PROXY_A], sysctls: [{ path: 'net/ipv4/ip_forward', value: '1' }] }));
  const removed = await k.cleanupAll();
  assert.deepEqual(removed.map(formatKernelOp), [
    'ip neigh del proxy 10.0.0.11 dev eth0',
    'ip route del 10.0.0.11/32 via 192.168.100.1 dev eth1 proto hanet',
    'ip addr del 10.0.0.100/32 dev eth0',
  ]);
  assert.deepEqual(k.lines(), [
    'ip addr add 10.0.0.11/24 dev eth0', 'ip addr add 192.168.100.1/30 dev eth1',
    'sysctl net/ipv4/ip_forward=1', 'sysctl net/ipv4/neigh/eth0/proxy_delay=80',
  ]);
  const seen: boolean[] = [];
  const off = k.onLinkChange((l) => seen.push(l.carrier));
  k.setLink('eth0', { carrier: false, lowerUp: false });
  off();
  k.setLink('eth0', { carrier: true, lowerUp: true });
  assert.deepEqual(seen, [false]);
  assert.equal((await k.getLink('eth0'))?.carrier, true);
  assert.equal(await k.getLink('nope'), undefined);
  assert.equal(HANET_RTPROT, 0x4e);
});

test('fake: injected failure surfaces from reconcile', async () => {
  const k = fresh();
  k.failNext('ip route replace', new Error('boom'));
  await assert.rejects(k.reconcile(want({ routes: [TO_A] })), /boom/);
  assert.deepEqual((await k.reconcile(want({ routes: [TO_A] }))).map(formatKernelOp), ['ip route replace 10.0.0.11/32 via 192.168.100.1 dev eth1 proto hanet']);
});

test('property: planning again from the state the ops leave (an incremental reconcile) finds nothing to do', () => {
  const addr = fc.constantFrom<AddrSpec>(A_PUB, SVC, { family: 4, ifname: 'eth1', address: '10.0.0.100', prefixLen: 32 }, { family: 6, ifname: 'eth0', address: '2001:db8::11', prefixLen: 64 });
  const route = fc.constantFrom<RouteSpec>(TO_A, viaB('0.0.0.0', 1), viaB('128.0.0.0', 1), { ...viaB('0.0.0.0', 1), via: '192.168.100.9' }, { family: 6, dst: '::', dstLen: 1, ifname: 'eth1', via: 'fe80::2' });
  const proxy = fc.constantFrom<ProxySpec>(PROXY_A, { ...PROXY_A, address: '10.0.0.12' }, { family: 6, ifname: 'eth0', address: '2001:db8::12' });
  const rule = fc.constantFrom<RuleSpec>({ family: 4, priority: 1001, iif: 'eth0', action: 'blackhole' }, { family: 4, priority: 1000, iif: 'eth0', dst: '10.0.0.11', dstLen: 32, action: 'lookup-main' }, { family: 6, priority: 1001, iif: 'eth1', action: 'prohibit' });
  const sysctl = fc.record({ path: fc.constantFrom('a', 'b', 'c/accept_ra'), value: fc.constantFrom('0', '1', '2') });
  const state = fc.record({ addresses: fc.uniqueArray(addr), routes: fc.uniqueArray(route), proxies: fc.uniqueArray(proxy), rules: fc.uniqueArray(rule), sysctls: fc.uniqueArray(sysctl, { selector: (s) => s.path }) });
  fc.assert(fc.property(state, state, (actual, d) => {
    const desired: DesiredKernelState = { ...d, managedAddresses: [...d.addresses, SVC] };
    const after = applyOpsToActual(actual, planKernelOps(actual, desired));
    assert.deepEqual(planKernelOps(after, desired).map(formatKernelOp), []);
  }));
});
