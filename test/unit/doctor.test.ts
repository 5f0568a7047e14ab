// Unit tests of hanet doctor's pure decisions (facts in, findings out), the file-safety rules, the parsers of other
// software's configuration, the text output and the systemd unit rendering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileSafetyIssues, type FileFacts } from '../../src/config/file-safety.js';
import { kernelFindings, type KernelFacts } from '../../src/doctor/kernel.js';
import { sysctlFindings, type SysctlFact } from '../../src/doctor/sysctl.js';
import { interfaceFindings, type IfaceFacts } from '../../src/doctor/interfaces.js';
import { addressesIn, keepalivedConfPath, networkdKeepsForeignRoutes, nmUnmanaged, softwareFindings } from '../../src/doctor/software.js';
import { clockFindings, parseTimedatectl } from '../../src/doctor/clock.js';
import { peerFindings } from '../../src/doctor/peers.js';
import { summarise, type Finding } from '../../src/doctor/types.js';
import { formatFindings } from '../../src/cli/doctor.js';
import { renderUnit } from '../../src/cli/service.js';
import type { EthernetLinkConfig } from '../../src/config/schema.js';

const sev = (fs: Finding[], id: string, subject?: string): string | undefined =>
  fs.find((f) => f.id === id && (subject === undefined || f.subject === subject))?.severity;

test('file safety: key must be root-only, config and hook not writable by others, their directory too', () => {
  const facts = (mode: number, uid = 0, dir = { path: '/etc/hanet', uid: 0, mode: 0o755 }): FileFacts => ({ path: '/etc/hanet/x', file: { isFile: true, uid, mode }, dir });
  assert.deepEqual(fileSafetyIssues('key', facts(0o600)), []);
  assert.deepEqual(fileSafetyIssues('key', facts(0o640)).map((i) => i.problem), ['group-other-access']);
  assert.deepEqual(fileSafetyIssues('key', facts(0o604)).map((i) => i.problem), ['group-other-access']);
  assert.deepEqual(fileSafetyIssues('key', facts(0o600, 1000)).map((i) => i.problem), ['not-root-owned']);
  assert.deepEqual(fileSafetyIssues('config', facts(0o644)), []);
  assert.deepEqual(fileSafetyIssues('config', facts(0o664)).map((i) => i.problem), ['group-other-writable']);
  assert.deepEqual(fileSafetyIssues('hook', facts(0o755)), []);
  assert.deepEqual(fileSafetyIssues('hook', facts(0o644)).map((i) => i.problem), ['not-executable']);
  assert.deepEqual(fileSafetyIssues('hook', facts(0o757)).map((i) => i.problem), ['group-other-writable']);
  assert.deepEqual(fileSafetyIssues('config', facts(0o644, 0, { path: '/etc/hanet', uid: 0, mode: 0o777 })).map((i) => i.problem), ['dir-writable']);
  assert.deepEqual(fileSafetyIssues('config', facts(0o644, 0, { path: '/tmp', uid: 0, mode: 0o1777 })), [], 'a sticky directory is fine');
  assert.deepEqual(fileSafetyIssues('config', facts(0o644, 0, { path: '/home/u', uid: 1000, mode: 0o755 })).map((i) => i.problem), ['dir-not-root-owned']);
  assert.deepEqual(fileSafetyIssues('key', { path: '/nope' }).map((i) => i.problem), ['missing']);
  assert.deepEqual(fileSafetyIssues('key', { path: '/dev', file: { isFile: false, uid: 0, mode: 0o755 } }).map((i) => i.problem), ['not-regular']);
  for (const i of fileSafetyIssues('key', facts(0o666, 1000))) assert.ok(i.fix.length > 0 && i.message.includes('/etc/hanet/x'));
});

const goodKernel: KernelFacts = { root: true, addon: undefined, netlink: undefined, afPacket: undefined, tun: undefined, proxyArp: true, proxyNdp: true, sysctlWrite: undefined };

test('kernel features: all present is clean; each missing one blocks (TUN and IPv6 only when needed)', () => {
  const clean = kernelFindings(goodKernel, { tun: 'unknown', ipv6: 'unknown' });
  assert.ok(clean.every((f) => f.severity === 'ok'), JSON.stringify(clean));
  assert.equal(sev(kernelFindings({ ...goodKernel, root: false, afPacket: 'EPERM', sysctlWrite: 'EACCES' }, { tun: false, ipv6: false }), 'af-packet'), 'block');
  assert.equal(sev(kernelFindings({ ...goodKernel, afPacket: 'EAFNOSUPPORT' }, { tun: false, ipv6: false }), 'af-packet'), 'block');
  const noAddon = kernelFindings({ ...goodKernel, addon: 'no build' }, { tun: false, ipv6: false });
  assert.equal(sev(noAddon, 'native-addon'), 'block');
  assert.equal(sev(noAddon, 'netlink'), undefined, 'netlink is not judged without the addon');
  assert.equal(sev(kernelFindings({ ...goodKernel, netlink: 'EPERM' }, { tun: false, ipv6: false }), 'netlink'), 'block');
  assert.equal(sev(kernelFindings({ ...goodKernel, tun: 'ENOENT' }, { tun: true, ipv6: false }), 'tun'), 'block');
  assert.equal(sev(kernelFindings({ ...goodKernel, tun: 'ENOENT' }, { tun: false, ipv6: false }), 'tun'), 'ok');
  assert.equal(sev(kernelFindings({ ...goodKernel, tun: 'ENOENT' }, { tun: 'unknown', ipv6: false }), 'tun'), 'warn');
  assert.equal(sev(kernelFindings({ ...goodKernel, proxyNdp: false }, { tun: false, ipv6: true }), 'proxy-ndp'), 'block');
  assert.equal(sev(kernelFindings({ ...goodKernel, proxyNdp: false }, { tun: false, ipv6: false }), 'proxy-ndp'), 'ok');
  assert.equal(sev(kernelFindings({ ...goodKernel, proxyArp: false }, { tun: false, ipv6: false }), 'proxy-arp'), 'block');
  const ro = kernelFindings({ ...goodKernel, sysctlWrite: 'EROFS' }, { tun: false, ipv6: false });
  assert.equal(sev(ro, 'sysctl-writable'), 'block');
  assert.match(ro.find((f) => f.id === 'sysctl-writable')!.message, /read-only/);
});

const fact = (path: string, value: string | undefined, writable = true): SysctlFact => ({ path, value, writable });

test('sysctls: a wrong value blocks only when hanet cannot write it, warns when reset while hanet runs', () => {
  const pd = (v: string, w = true) => [fact('net/ipv4/neigh/eth0/proxy_delay', v, w)];
  const rp = (own: string, all = '0', w = true) => [{ iface: 'eth1', own: fact('net/ipv4/conf/eth1/rp_filter', own, w), all: fact('net/ipv4/conf/all/rp_filter', all, w) }];
  // Not running: hanet will set them (the kernel's defaults 80 and 1 are normal before the first start).
  let f = sysctlFindings({ daemonRunning: false, forwarding: [fact('net/ipv4/conf/eth0/forwarding', '0')], proxyDelay: pd('80'), rpFilter: rp('1') });
  assert.ok(f.every((x) => x.severity === 'ok'), JSON.stringify(f));
  // Read-only /proc/sys: they stay wrong.
  f = sysctlFindings({ daemonRunning: false, forwarding: [fact('net/ipv4/conf/eth0/forwarding', '1', false)], proxyDelay: pd('80', false), rpFilter: rp('1', '0', false) });
  assert.equal(sev(f, 'proxy-delay', 'eth0'), 'block');
  assert.equal(sev(f, 'rp-filter', 'eth1'), 'block');
  assert.equal(sev(f, 'forwarding', 'eth0'), 'ok');
  assert.match(f.find((x) => x.id === 'proxy-delay')!.fix!, /net\.ipv4\.neigh\.eth0\.proxy_delay=0/);
  // Running and still wrong: something resets them.
  f = sysctlFindings({ daemonRunning: true, forwarding: [fact('net/ipv4/conf/eth0/forwarding', '0')], proxyDelay: pd('80'), rpFilter: rp('1') });
  assert.equal(sev(f, 'forwarding', 'eth0'), 'warn');
  assert.equal(sev(f, 'proxy-delay', 'eth0'), 'warn');
  assert.equal(sev(f, 'rp-filter', 'eth1'), 'warn');
  // The kernel uses max(all, iface): all=1 with hanet's iface=2 is loose; all=1 with iface 0 is strict.
  assert.equal(sev(sysctlFindings({ daemonRunning: true, forwarding: [], proxyDelay: [], rpFilter: rp('2', '1') }), 'rp-filter'), 'ok');
  assert.equal(sev(sysctlFindings({ daemonRunning: true, forwarding: [], proxyDelay: [], rpFilter: rp('0', '1') }), 'rp-filter'), 'warn');
  // A TUN interface hanet creates does not exist yet.
  assert.equal(sev(sysctlFindings({ daemonRunning: false, forwarding: [], proxyDelay: [], rpFilter: [{ iface: 'hnx', own: fact('net/ipv4/conf/hnx/rp_filter', undefined, false), all: fact('net/ipv4/conf/all/rp_filter', '1') }] }), 'rp-filter'), 'ok');
});

test('interfaces: missing, no carrier, admin down, port of a bond or bridge, driver without operstate', () => {
  const up = (name: string, extra: Partial<IfaceFacts> = {}, link: Partial<NonNullable<IfaceFacts['link']>> = {}): IfaceFacts =>
    ({ name, isBond: false, link: { up: true, carrier: true, operstate: 6, kind: 'veth', ...link }, ...extra });
  const roles = [{ name: 'eth0', role: 'public' as const, probes: true }, { name: 'eth1', role: 'private' as const }];
  assert.ok(interfaceFindings(roles, [up('eth0'), up('eth1')]).every((f) => f.severity === 'ok'));
  assert.equal(sev(interfaceFindings(roles, [up('eth1')]), 'interface', 'eth0'), 'block');
  assert.equal(sev(interfaceFindings(roles, [up('eth0', {}, { carrier: false }), up('eth1')]), 'carrier', 'eth0'), 'block');
  assert.equal(sev(interfaceFindings(roles, [up('eth0', {}, { up: false, carrier: false }), up('eth1')]), 'carrier', 'eth0'), 'block');
  assert.equal(sev(interfaceFindings(roles, [up('eth0'), up('eth1', {}, { carrier: false })]), 'carrier', 'eth1'), undefined, 'private links: the peer check covers them');
  const bonded = interfaceFindings(roles, [up('eth0', { master: { name: 'bond0', kind: 'bond' } }), up('eth1')]);
  assert.equal(sev(bonded, 'enslaved', 'eth0'), 'block');
  assert.match(bonded.find((f) => f.id === 'enslaved')!.fix!, /bond0/);
  assert.equal(sev(interfaceFindings(roles, [up('eth0'), up('eth1', { master: { name: 'br0', kind: 'bridge' } })]), 'enslaved', 'eth1'), 'block');
  assert.equal(sev(interfaceFindings([{ name: 'bond0', role: 'public', probes: true }], [up('bond0', { isBond: true })]), 'enslaved', 'bond0'), 'ok');
  assert.equal(sev(interfaceFindings([{ name: 'eth0', role: 'public', probes: false }], [up('eth0', {}, { operstate: 0 })]), 'carrier', 'eth0'), 'warn');
  assert.equal(sev(interfaceFindings([{ name: 'eth0', role: 'public', probes: true }], [up('eth0', {}, { operstate: 0 })]), 'carrier', 'eth0'), 'ok');
});

test('other software: keepalived holding a service address blocks; NetworkManager and networkd warn unless told off', () => {
  assert.equal(keepalivedConfPath(['keepalived', '-f', '/x/k.conf']), '/x/k.conf');
  assert.equal(keepalivedConfPath(['keepalived', '--use-file=/y.conf', '-D']), '/y.conf');
  assert.equal(keepalivedConfPath(['keepalived']), '/etc/keepalived/keepalived.conf');
  const conf = 'vrrp_instance VI_1 {\n  virtual_ipaddress {\n    203.0.113.11/24 dev eno1\n    # 203.0.113.12\n  }\n}\n';
  assert.deepEqual(addressesIn(conf, ['203.0.113.11', '203.0.113.12', '198.51.100.1']), ['203.0.113.11']);
  assert.deepEqual(nmUnmanaged('[keyfile]\nunmanaged-devices=interface-name:eno1;interface-name:eno2;mac:00:11:22:33:44:55\n'), ['eno1', 'eno2']);
  assert.equal(networkdKeepsForeignRoutes(['[Network]\nManageForeignRoutes=no\n']), true);
  assert.equal(networkdKeepsForeignRoutes(['[Network]\nManageForeignRoutes=no\n', '[Network]\nManageForeignRoutes=yes\n']), false);
  assert.equal(networkdKeepsForeignRoutes([]), false);

  const scope = { addresses: ['203.0.113.11'], interfaces: ['eno1', 'eno2'] };
  assert.ok(softwareFindings({}, scope).every((f) => f.severity === 'ok'));
  const ka = (confText: string | undefined) => ({ keepalived: { pid: 7, confPath: '/etc/keepalived/keepalived.conf', confText } });
  assert.equal(sev(softwareFindings(ka(conf), scope), 'keepalived'), 'block');
  assert.equal(sev(softwareFindings(ka('vrrp_instance X { virtual_ipaddress { 10.9.9.9 } }'), scope), 'keepalived'), 'ok');
  assert.equal(sev(softwareFindings(ka(undefined), scope), 'keepalived'), 'warn');
  assert.equal(sev(softwareFindings(ka(conf), undefined), 'keepalived'), 'warn', 'without a configuration it cannot tell');
  assert.equal(sev(softwareFindings({ networkManager: { pid: 8, unmanaged: ['eno1'] } }, scope), 'network-manager'), 'warn');
  assert.match(softwareFindings({ networkManager: { pid: 8, unmanaged: ['eno1'] } }, scope).find((f) => f.id === 'network-manager')!.fix!, /interface-name:eno2/);
  assert.equal(sev(softwareFindings({ networkManager: { pid: 8, unmanaged: ['eno1', 'eno2'] } }, scope), 'network-manager'), 'ok');
  assert.equal(sev(softwareFindings({ networkd: { pid: 9, keepsForeignRoutes: false } }, scope), 'systemd-networkd'), 'warn');
  assert.equal(sev(softwareFindings({ networkd: { pid: 9, keepsForeignRoutes: true } }, scope), 'systemd-networkd'), 'ok');
});

test('clock: synchronised, unsynchronised, unknown with or without a sync daemon', () => {
  assert.equal(parseTimedatectl('NTPSynchronized=yes\n'), true);
  assert.equal(parseTimedatectl('NTPSynchronized=no\n'), false);
  assert.equal(parseTimedatectl(''), undefined);
  assert.equal(sev(clockFindings({ synchronized: true, daemons: [] }), 'clock'), 'ok');
  assert.equal(sev(clockFindings({ synchronized: false, daemons: ['chronyd'] }), 'clock'), 'warn');
  assert.equal(sev(clockFindings({ synchronized: undefined, daemons: ['chronyd'] }), 'clock'), 'ok');
  const none = clockFindings({ synchronized: undefined, daemons: [] });
  assert.equal(sev(none, 'clock'), 'warn');
  assert.match(none[0]!.message, /works without it/, 'peers do not reject messages for the clock (session binding)');
});

test('peers: answered, silent and errors', () => {
  const link: EthernetLinkConfig = { kind: 'ethernet', name: 'ab', interface: 'eth1', peer: 'b', peerAddress: '192.168.100.2', cost: 10 };
  const f = peerFindings([{ link, result: { kind: 'answered', rttMs: 0.2 } }, { link: { ...link, name: 'ac' }, result: { kind: 'silent' } }, { link: { ...link, name: 'ad' }, result: { kind: 'error', error: 'no such interface' } }]);
  assert.deepEqual(f.map((x) => [x.subject, x.severity]), [['ab', 'ok'], ['ac', 'block'], ['ad', 'block']]);
  assert.match(f[1]!.message, /does not answer ARP for 192\.168\.100\.2 on eth1/);
});

test('summary and text output: exit status follows blocking findings only', () => {
  const fs: Finding[] = [
    { id: 'clock', severity: 'warn', message: 'm1', fix: 'f1' },
    { id: 'carrier', subject: 'eth0', severity: 'block', message: 'm2', fix: 'f2' },
    { id: 'tun', severity: 'ok', message: 'm3' },
  ];
  assert.deepEqual(summarise(fs), { blocking: 1, warnings: 1, ok: false });
  assert.deepEqual(summarise(fs.filter((f) => f.severity !== 'block')), { blocking: 0, warnings: 1, ok: true });
  const text = formatFindings(fs);
  assert.match(text, /^BLOCK carrier eth0: m2\n {6}fix: f2$/m);
  assert.match(text, /^WARN  clock: m1$/m);
  assert.match(text, /1 problem blocks a takeover/);
});

test('service unit: ExecStartPre/ExecStart/Documentation point at the installed package', () => {
  const tpl = '[Unit]\nDocumentation=file:///x\n[Service]\nExecStartPre=/usr/bin/env hanet check -c /etc/hanet/hanet.yaml\nExecStart=/usr/bin/env hanet run -c /etc/hanet/hanet.yaml\nRestart=on-failure\n';
  const u = renderUnit(tpl, { node: '/usr/bin/node', root: '/usr/local/lib/node_modules/hanet', config: '/etc/hanet/h.yaml' });
  assert.match(u, /^ExecStartPre=\/usr\/bin\/node \/usr\/local\/lib\/node_modules\/hanet\/bin\/hanet\.js check -c \/etc\/hanet\/h\.yaml$/m);
  assert.match(u, /^ExecStart=\/usr\/bin\/node \/usr\/local\/lib\/node_modules\/hanet\/bin\/hanet\.js run -c \/etc\/hanet\/h\.yaml$/m);
  assert.match(u, /^Documentation=file:\/\/\/usr\/local\/lib\/node_modules\/hanet\/docs\/install\.md/m);
  assert.match(u, /^Restart=on-failure$/m);
  assert.throws(() => renderUnit('[Service]\n', { node: 'n', root: 'r', config: 'c' }), /ExecStart/);
});
