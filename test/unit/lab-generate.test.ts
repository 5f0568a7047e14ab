// Generated lab topologies (issue #15, `hanet lab up --servers N`): the private-link graphs, the address plan of an
// N-server L2 LAN and of an L3 fabric in racks, and that every generated server gets a valid hanet configuration
// (and, in L3, a BIRD configuration BIRD accepts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/schema.js';
import { serverConfig } from '../../src/lab/cluster.js';
import { birdConf } from '../../src/lab/bird.js';
import { generateTopology, linkPairs } from '../../src/lab/topologies/generate.js';
import { nodesWithRole, serverPorts } from '../../src/lab/topology.js';

const degrees = (pairs: Array<[number, number]>, n: number): number[] => {
  const d = Array.from({ length: n }, () => 0);
  for (const [x, y] of pairs) { d[x - 1]!++; d[y - 1]!++; }
  return d;
};

test('link graphs: how many links and how many per server', () => {
  const cases: Array<[string, number, number, number[]]> = [
    ['ring', 32, 32, [2]], ['ring:2', 10, 20, [4]], ['chain', 5, 4, [1, 2]], ['pairs', 6, 3, [1]], ['star', 5, 4, [1, 4]], ['full', 6, 15, [5]], ['ring', 2, 1, [1]],
  ];
  for (const [g, n, links, degs] of cases) {
    const p = linkPairs(g, n);
    assert.equal(p.length, links, `${g} of ${n}`);
    assert.deepEqual([...new Set(degrees(p, n))].sort((a, b) => a - b), degs, `${g} of ${n}: degrees`);
    assert.equal(new Set(p.map(([x, y]) => `${x}-${y}`)).size, p.length, `${g}: no link twice`);
  }
  assert.throws(() => linkPairs('pairs', 5), /even number/);
  assert.throws(() => linkPairs('ring:5', 5), /K must be 1\.\.4/);
  assert.throws(() => linkPairs('mesh', 5), /not a link graph/);
});

test('generated L2: n servers on one LAN behind r, each with a valid hanet configuration and its private links', () => {
  const t = generateTopology({ servers: 32, links: 'ring' });
  const servers = nodesWithRole(t, 'server');
  assert.equal(servers.length, 32);
  assert.deepEqual(servers.slice(0, 3), ['n1', 'n2', 'n3']);
  const addrs = new Set<string>();
  for (const s of servers) {
    const ports = serverPorts(t, s);
    assert.equal(ports.public.length, 1, s);
    assert.equal(ports.private.length, 2, s);
    for (const p of [...ports.public, ...ports.private]) for (const a of p.addresses) { assert.ok(!addrs.has(a), `${a} twice`); addrs.add(a); }
    const r = validateConfig(serverConfig(t, s, '/run/hanet-lab/x/cluster', 'x'));
    assert.ok(r.ok, s);
    assert.deepEqual(r.config.public[0]!.gateways, ['10.0.0.1']);
    assert.equal(r.config.private.length, 2);
  }
  assert.deepEqual(serverPorts(t, 'n1').public[0]!.addresses, ['10.0.0.11/16']);
  assert.deepEqual(serverPorts(t, 'n32').private.map((p) => p.peer?.node).sort(), ['n1', 'n31'], 'the ring closes');
  // Host numbers past 255 stay inside the /16.
  assert.deepEqual(serverPorts(generateTopology({ servers: 300, links: 'chain' }), 'n300').public[0]!.addresses, ['10.0.1.54/16']);
  const v6 = generateTopology({ servers: 4, links: 'full', ipv6: true });
  const c6 = validateConfig(serverConfig(v6, 'n2', '/run/hanet-lab/x/cluster', 'x'));
  assert.ok(c6.ok);
  assert.deepEqual(c6.config.public[0]!.gateways, ['10.0.0.1', 'fe80::1'], 'dual-stack: both gateways');
  assert.equal(c6.config.private.length, 3);
});

test('generated L3: servers round-robin over racks, each ToR a BGP neighbour of its servers and of the spine', () => {
  const t = generateTopology({ servers: 10, mode: 'l3', racks: 3, links: 'ring' });
  assert.deepEqual(nodesWithRole(t, 'router'), ['s', 't1', 't2', 't3']);
  assert.deepEqual(t.nodes.s!.bgp!.neighbors.map((n) => n.as), [65001, 65002, 65003]);
  // n1, n4, n7, n10 in rack 1; n2 in rack 2: ring neighbours are in other racks.
  assert.deepEqual(t.nodes.t1!.bgp!.neighbors.map((n) => n.address), ['10.255.1.1', '10.1.0.10', '10.1.0.11', '10.1.0.12', '10.1.0.13']);
  assert.equal(serverPorts(t, 'n2').public[0]!.switch, 'sw2');
  for (const s of nodesWithRole(t, 'server')) {
    const r = validateConfig(serverConfig(t, s, '/run/hanet-lab/x/cluster', 'x'));
    assert.ok(r.ok, s);
    const p = r.config.public[0]!;
    assert.equal(p.mode, 'l3');
    assert.equal(p.bgp?.peerAs, 65000 + Number(/sw(\d+)/.exec(serverPorts(t, s).public[0]!.switch!)![1]), s);
    assert.equal(p.bgp?.localAs, 4_200_000_000 + Number(s.slice(1)));
  }
  assert.throws(() => generateTopology({ servers: 4, mode: 'l3', racks: 5 }), /--racks must be 1\.\.4/);
  assert.throws(() => generateTopology({ servers: 4, mode: 'l3', ipv6: true }), /IPv4 only/);
  assert.throws(() => generateTopology({ servers: 1 }), /--servers must be 2\.\./);
});

test('generated L3: BIRD parses the spine\'s, a ToR\'s and a server\'s configuration (bird -p), when installed', (tc) => {
  try { execFileSync('bird', ['--version'], { stdio: 'ignore' }); } catch { tc.skip('bird not installed'); return; }
  const t = generateTopology({ servers: 8, mode: 'l3', racks: 2 });
  const dir = mkdtempSync(join(tmpdir(), 'hanet-gen-'));
  for (const n of ['s', 't2', 'n8']) {
    const f = join(dir, `${n}.conf`);
    writeFileSync(f, birdConf(t, 'x', n));
    assert.doesNotThrow(() => execFileSync('bird', ['-p', '-c', f], { stdio: 'pipe' }), n);
  }
  assert.match(birdConf(t, 'x', 'n8'), /local as 4200000008;/);
});
