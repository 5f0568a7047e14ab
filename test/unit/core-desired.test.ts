// The desired kernel state as a pure function: addresses by placement, takeover routes (prefix halves) through the
// local backup or the helper, a helper's host routes and proxy entries (none while lingering), sysctls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { desiredKernelState, type DesiredInput } from '../../src/core/desired.js';
import type { HelperClaim } from '../../src/core/helper.js';
import type { Placement } from '../../src/core/owner.js';
import { formatAddr, formatProxy, formatRoute, formatRule } from '../../src/core/kernel-plan.js';
import { defaults, priv, pub } from './core-sim.js';

const cfg = defaults('a', [pub('eth0', '10.0.0.11'), pub('eth3', '10.0.0.13', { defaultRoute: false })], [priv('ab', 'eth1', 'b', '192.168.100.1', '192.168.100.2')]);
const text = (over: Partial<DesiredInput>) => {
  const d = desiredKernelState({ cfg, placement: () => ({ kind: 'own' }), usable: () => true, helperIface: () => 'eth0', peerLink6: () => 'fe80::2', helping: [], ...over });
  return [...d.addresses.map((a) => `addr ${formatAddr(a)}`), ...d.routes.map((r) => `route ${formatRoute(r)}`), ...d.proxies.map((p) => formatProxy(p))].sort();
};
const at = (m: Record<string, Placement>) => (iface: string): Placement => m[iface] ?? { kind: 'own' };
const held = (over: Partial<HelperClaim> = {}): HelperClaim => ({ owner: 'b', lan: 'lan0', claimId: 'b-1', addresses: ['10.0.0.12'], ownerLinkAddress: '192.168.100.2', link: 'ab', leaseMs: 3000, expiresAt: 3000, since: 0, confirmed: true, ...over });

const cases: Array<{ name: string; input: Partial<DesiredInput>; want: string[] }> = [
  { name: 'at rest: own addresses and the fallback default route', input: {}, want: [
    'addr 10.0.0.11/24 dev eth0', 'addr 10.0.0.13/24 dev eth3', 'route 0.0.0.0/0 via 10.0.0.1 dev eth0 metric 4242'] },
  { name: 'local backup: the address moves, halves of its prefix and of the default via the other port', input: { placement: at({ eth0: { kind: 'local', iface: 'eth3' } }) }, want: [
    'addr 10.0.0.11/24 dev eth3', 'addr 10.0.0.13/24 dev eth3',
    'route 0.0.0.0/1 via 10.0.0.1 dev eth3 src 10.0.0.11', 'route 10.0.0.0/25 dev eth3 src 10.0.0.11', 'route 10.0.0.128/25 dev eth3 src 10.0.0.11', 'route 128.0.0.0/1 via 10.0.0.1 dev eth3 src 10.0.0.11'] },
  { name: 'remote: halves through the helper on the private link, the address stays on its port', input: { placement: at({ eth0: { kind: 'remote', link: 'ab', peer: 'b' }, eth3: { kind: 'remote', link: 'ab', peer: 'b' } }), usable: () => false }, want: [
    'addr 10.0.0.11/24 dev eth0', 'addr 10.0.0.13/24 dev eth3',
    'route 0.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11', 'route 10.0.0.0/25 via 192.168.100.2 dev eth1 src 10.0.0.11', 'route 10.0.0.128/25 via 192.168.100.2 dev eth1 src 10.0.0.11', 'route 128.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11'] },
  { name: 'helping: a host route to the owner and a proxy entry on the answering port', input: { helping: [held()] }, want: [
    'addr 10.0.0.11/24 dev eth0', 'addr 10.0.0.13/24 dev eth3', 'proxy 10.0.0.12 dev eth0', 'route 0.0.0.0/0 via 10.0.0.1 dev eth0 metric 4242', 'route 10.0.0.12/32 via 192.168.100.2 dev eth1'] },
  { name: 'lingering: the route stays, the proxy entry goes', input: { helping: [held({ lingerUntil: 5000 })] }, want: [
    'addr 10.0.0.11/24 dev eth0', 'addr 10.0.0.13/24 dev eth3', 'route 0.0.0.0/0 via 10.0.0.1 dev eth0 metric 4242', 'route 10.0.0.12/32 via 192.168.100.2 dev eth1'] },
];
for (const c of cases) test(`desired: ${c.name}`, () => assert.deepEqual(text(c.input), [...c.want].sort()));

test('desired: sysctls for a helper (forwarding, proxy_delay 0) and loose rp_filter on private links; managed addresses per LAN', () => {
  const d = desiredKernelState({ cfg, placement: () => ({ kind: 'own' }), usable: () => true, helperIface: () => 'eth0', peerLink6: () => 'fe80::2', helping: [] });
  assert.deepEqual(d.sysctls.map((s) => `${s.path}=${s.value}`), [
    'net/ipv4/conf/eth0/forwarding=1', 'net/ipv4/neigh/eth0/proxy_delay=0', 'net/ipv4/conf/eth3/forwarding=1', 'net/ipv4/neigh/eth3/proxy_delay=0',
    'net/ipv4/conf/eth1/forwarding=1', 'net/ipv4/conf/eth0/arp_ignore=1', 'net/ipv4/conf/eth3/arp_ignore=1', 'net/ipv4/conf/eth1/rp_filter=2']);
  assert.ok(!d.sysctls.some((x) => x.path === 'net/ipv4/ip_forward'), 'never global forwarding');
  assert.deepEqual(d.managedAddresses.map((a) => `${a.address}@${a.ifname}`), ['10.0.0.11@eth0', '10.0.0.11@eth3', '10.0.0.13@eth0', '10.0.0.13@eth3']);
  const noHelp = desiredKernelState({ cfg: { ...cfg, takeover: { ...cfg.takeover, canHelp: false } }, placement: () => ({ kind: 'own' }), usable: () => true, helperIface: () => 'eth0', peerLink6: () => 'fe80::2', helping: [] });
  assert.deepEqual(noHelp.sysctls.map((s) => s.path), ['net/ipv4/conf/eth0/arp_ignore', 'net/ipv4/conf/eth3/arp_ignore', 'net/ipv4/conf/eth1/rp_filter']);
  assert.deepEqual(noHelp.rules, [], 'a node that never helps forwards nothing');
});

test('desired: forwarding rules: nothing from a public port or a private link, but a held claim\'s traffic, while it is held', () => {
  const rules = (helping: HelperClaim[]) => desiredKernelState({ cfg, placement: () => ({ kind: 'own' }), usable: () => true, helperIface: () => 'eth0', peerLink6: () => 'fe80::2', helping })
    .rules!.map((r) => formatRule(r)).sort();
  const deny = ['iif eth0 blackhole prio 1001', 'iif eth1 blackhole prio 1001', 'iif eth3 blackhole prio 1001'];
  assert.deepEqual(rules([]), deny);
  const allow = ['iif eth0 to 10.0.0.12/32 lookup main prio 1000', 'iif eth1 from 10.0.0.12/32 lookup main prio 1000', 'iif eth3 to 10.0.0.12/32 lookup main prio 1000'];
  assert.deepEqual(rules([held()]), [...allow, ...deny].sort());
  assert.deepEqual(rules([held({ lingerUntil: 5000 })]), [...allow, ...deny].sort(), 'packets still on their way while the route lingers');
});
