// The `l3` lab topology (issue 15): servers with `bgp` get hanet in L3 mode on the fabric with their ToR session,
// every router and server a BIRD configuration BIRD accepts, and only routers and servers may run BGP.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/schema.js';
import { serverConfig } from '../../src/lab/cluster.js';
import { birdConf } from '../../src/lab/bird.js';
import { defaultTopology, parseTopology } from '../../src/lab/topology.js';

const t = defaultTopology('l3');

test('l3 topology: a and b run hanet in mode l3 on one fabric, each with its ToR as gateway and BGP neighbour', () => {
  for (const [n, rack] of [['a', 1], ['b', 2]] as const) {
    const r = validateConfig(serverConfig(t, n, '/run/hanet-lab/x/cluster', 'x'));
    assert.ok(r.ok);
    const p = r.config.public[0]!;
    assert.deepEqual({ mode: p.mode, lan: p.lan, gateways: p.gateways, bgp: p.bgp }, {
      mode: 'l3', lan: 'fabric', gateways: [`10.${rack}.0.1`], bgp: { localAs: 65000 + 11 * rack, peerAs: 65000 + rack, neighbors: [`10.${rack}.0.1`], check: true, birdSocket: `/run/hanet-lab/x/bird/${n}.ctl` },
    });
  }
  const ds = validateConfig(serverConfig(defaultTopology('l346'), 'a', '/run/hanet-lab/x/cluster', 'x'));
  assert.ok(ds.ok);
  assert.deepEqual({ gateways: ds.config.public[0]!.gateways, bgp: ds.config.public[0]!.bgp }, {
    gateways: ['10.1.0.1', 'fe80::1'], bgp: { localAs: 65011, peerAs: 65001, neighbors: ['10.1.0.1', '2001:db8:1::1'], check: true, birdSocket: '/run/hanet-lab/x/bird/a.ctl' },
  }, 'dual-stack: the link-local gateway, a BGP session per family between global addresses');
  const pair = validateConfig(serverConfig(defaultTopology('pair'), 'a', '/run/hanet-lab/x/cluster', 'x'));
  assert.ok(pair.ok && pair.config.public[0]!.mode === 'l2', 'servers without bgp stay l2');
});

test('l3 topology: BIRD configurations — routers announce connected networks, servers only hanet\'s host routes', () => {
  const spine = birdConf(t, 'x', 's');
  assert.match(spine, /router id 10\.9\.0\.1;/);
  assert.match(spine, /protocol direct/);
  assert.match(spine, /neighbor 10\.255\.1\.2 as 65001;[\s\S]*neighbor 10\.255\.2\.2 as 65002;/);
  assert.match(spine, /connect retry time 1;/);
  assert.match(birdConf(t, 'x', 't1'), /neighbor 10\.1\.0\.10 as 65011;[^}]*ipv4 \{ import where net\.len = 32; export all; \};/, 'a ToR accepts only host routes from its server');
  const a = birdConf(t, 'x', 'a');
  assert.match(a, /import where krt_source = 78 && net\.len = 32 && krt_metric != 4242;/);
  assert.match(a, /local as 65011;\n {2}neighbor 10\.1\.0\.1 as 65001;/);
  assert.doesNotMatch(a, /protocol direct/, 'a server announces nothing of its own');
  assert.throws(() => birdConf(t, 'x', 'c'), /runs no BGP/);
});

test('l3 topology: BIRD parses every generated configuration (bird -p), when installed', (tc) => {
  try { execFileSync('bird', ['--version'], { stdio: 'ignore' }); } catch { tc.skip('bird not installed'); return; }
  const dir = mkdtempSync(join(tmpdir(), 'hanet-l3-'));
  for (const [topo, n] of [...['s', 't1', 't2', 'a', 'b'].map((x) => ['l3', x]), ...['s', 't1', 'a'].map((x) => ['l346', x])] as Array<[string, string]>) {
    const f = join(dir, `${topo}-${n}.conf`);
    writeFileSync(f, birdConf(defaultTopology(topo), 'x', n));
    assert.doesNotThrow(() => execFileSync('bird', ['-p', '-c', f], { stdio: 'pipe' }), `${topo} ${n}`);
  }
});

test('topology check: only routers and servers run BGP', () => {
  const bad = { nodes: { c: { role: 'client', ports: [{ name: 'eth0', addresses: ['10.9.0.2/24'] }], bgp: { as: 65100, neighbors: [{ address: '10.9.0.1', as: 65000 }] } } }, links: [] };
  assert.throws(() => parseTopology(bad), /nodes\.c\.bgp: only routers and servers run BIRD \(this is a client\)/);
});
