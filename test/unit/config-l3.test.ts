// L3 mode in the configuration (public[].mode, public[].bgp) and the BIRD snippet `hanet config bird` derives from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/schema.js';
import { birdSnippet } from '../../src/config/bird.js';
import { birdFindings } from '../../src/doctor/bird.js';
import { toCoreConfig } from '../../src/daemon/core-config.js';

const doc = (pub: Record<string, unknown>, more: Array<Record<string, unknown>> = []) => ({
  node: 'a',
  public: [{ interface: 'eth0', addresses: ['10.1.0.10/24', '2001:db8:1::10/64'], gateway: ['10.1.0.1', '2001:db8:1::1'], ...pub }, ...more],
  private: [{ interface: 'eth1', address: '192.168.100.1/30', peer: 'b', peer_address: '192.168.100.2' }],
});
const issues = (d: unknown): string[] => { const r = validateConfig(d); return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`); };
const parsed = (d: unknown) => { const r = validateConfig(d); assert.ok(r.ok, JSON.stringify(r.ok ? '' : r.issues)); return r.config; };

test('config: mode defaults to l2, l3 flows through to the core config', () => {
  assert.equal(parsed(doc({})).public[0]!.mode, 'l2');
  const c = parsed(doc({ mode: 'l3', lan: 'fabric' }));
  assert.equal(c.public[0]!.mode, 'l3');
  assert.equal(toCoreConfig(c, {}, { ipv6ForceForwarding: false }).publics[0]!.mode, 'l3');
});

test('config: a bad mode, a bad AS number and two modes on one LAN are named by their field', () => {
  assert.deepEqual(issues(doc({ mode: 'l4' })), ['public[0].mode: "l4" is not one of "l2", "l3"']);
  assert.match(issues(doc({ mode: 'l3', bgp: { local_as: 0, peer_as: 65001 } })).join('\n'), /^public\[0\]\.bgp\.local_as: /);
  assert.match(issues(doc({ mode: 'l3', bgp: { local_as: 65011, peer_as: 65001, neighbor: 'tor1' } })).join('\n'), /^public\[0\]\.bgp\.neighbor: /);
  assert.deepEqual(issues(doc({ mode: 'l3', bgp: { local_as: 65011, peer_as: 65001, neighbor: ['10.1.0.1', '10.1.0.2'] } })),
    ['public[0].bgp.neighbor[1]: "10.1.0.2": one neighbour per family (also neighbor[0])']);
  assert.deepEqual(issues(doc({ mode: 'l3' }, [{ interface: 'eth2', addresses: ['10.1.0.11/24'], gateway: '10.1.0.1', mode: 'l2' }])),
    ['public[1].mode: "l2": LAN "lan0" is mode l3 on public[0]; one mode per LAN']);
});

test('config bird: kernel protocols learn only protocol-78 host routes, the filter exports them, one session per family', () => {
  const s = birdSnippet(parsed(doc({ mode: 'l3', bgp: { local_as: 65011, peer_as: 65001 } })));
  assert.match(s, /protocol kernel hanet_kernel4 \{\n {2}ipv4 \{ import where krt_source = 78 && net\.len = 32 && krt_metric != 4242; export none; \};\n {2}learn;/);
  assert.match(s, /ipv6 \{ import where krt_source = 78 && net\.len = 128 && krt_metric != 4242; export none; \}/);
  assert.match(s, /if proto = "hanet_kernel4" \|\| proto = "hanet_kernel6" then accept;/);
  assert.match(s, /protocol bgp hanet_eth0_v4 \{\n {2}local as 65011;\n {2}neighbor 10\.1\.0\.1 as 65001;/);
  assert.match(s, /neighbor 2001:db8:1::1 as 65001;/);
  assert.doesNotMatch(birdSnippet(parsed(doc({}))), /protocol kernel/, 'nothing for an l2-only node');
  const ll = birdSnippet(parsed(doc({ mode: 'l3', gateway: ['10.1.0.1', 'fe80::1'], bgp: { local_as: 65011, peer_as: 65001 } })));
  assert.match(ll, /neighbor fe80::1 as 65001;\n {2}interface "eth0";/, 'a link-local neighbour names its interface');
  const two = parsed(doc({ mode: 'l3', gateway: ['10.1.0.1', 'fe80::1'], bgp: { local_as: 65011, peer_as: 65001, neighbor: ['2001:db8:1::1', '10.1.0.1'] } }));
  assert.deepEqual(two.public[0]!.bgp?.neighbors, ['10.1.0.1', '2001:db8:1::1'], 'one per family, IPv4 first');
  assert.match(birdSnippet(two), /neighbor 2001:db8:1::1 as 65001;/, 'a global neighbour is preferred over the link-local gateway');
});

test('config bird: BIRD itself accepts the snippet (bird -p), when bird is installed', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hanet-bird-'));
  const conf = join(dir, 'bird.conf');
  writeFileSync(conf, `router id 10.1.0.10;\nprotocol device {}\n${birdSnippet(parsed(doc({ mode: 'l3', bgp: { local_as: 65011, peer_as: 65001 } })))}`);
  try { execFileSync('bird', ['--version'], { stdio: 'ignore' }); } catch { t.skip('bird not installed'); return; }
  assert.doesNotThrow(() => execFileSync('bird', ['-p', '-c', conf], { stdio: 'pipe' }));
});

test('doctor bird: blocks when BIRD does not answer, warns without the kernel protocols, ok with them', () => {
  assert.equal(birdFindings({ status: { error: 'Unable to connect to server control socket' } }, [4])[0]!.severity, 'block');
  const up = 'BIRD 2.0.12 ready.\nBIRD 2.0.12\nRouter ID is 10.1.0.10\nDaemon is up and running\n';
  const w = birdFindings({ status: { out: up }, protocols: 'Name       Proto      Table      State  Since         Info\ndevice1    Device     ---        up     18:00:00.000\n' }, [4, 6]);
  assert.equal(w[0]!.severity, 'warn');
  assert.match(w[0]!.message, /hanet_kernel4, hanet_kernel6/);
  const good = birdFindings({ status: { out: up }, protocols: 'hanet_kernel4 Kernel master4 up 18:00:00.000\n' }, [4]);
  assert.deepEqual(good.map((f) => f.severity), ['ok']);
  // The sessions hanet checks before helping (public[].bgp.check): missing, not Established, Established.
  const protocols = (state: string) => `hanet_kernel4 Kernel master4 up 18:00:00.000\nhanet_eth0_v4 BGP --- ${state}\n`;
  const checked = [{ iface: 'eth0', names: ['hanet_eth0_v4'] }];
  const sev = (p: string, c = checked) => birdFindings({ status: { out: up }, protocols: p }, [4], undefined, c).filter((f) => f.id === 'bird-session').map((f) => `${f.severity} ${f.message}`);
  assert.match(sev(protocols('up 18:00:00.000 Established'))[0]!, /^ok eth0: BGP session Established/);
  assert.match(sev(protocols('start 18:00:00.000 Active Socket: Connection refused'))[0]!, /^warn eth0: no BGP session Established/);
  assert.match(sev(protocols('up 18:00:00.000 Established'), [{ iface: 'eth0', names: ['tor1'] }])[0]!, /^warn eth0: BIRD has no BGP protocol tor1/);
});
