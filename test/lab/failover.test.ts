// Lab tests of the core promise on the real kernel: a's public port fails under load, b takes over its packet
// transmission over the private link, and no request, connection or byte is lost. Root needed (namespaces).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import { waitFor } from '../helpers.js';
import { withCluster as withLabCluster } from './with-cluster.js';
import type { LabHandle } from '../../src/lab/lab.js';
import type { Cluster, ClusterOptions } from '../../src/lab/cluster.js';
import { startWorkload, type WorkloadReport } from '../../src/lab/workload/index.js';
import { ControlSender, deriveControlKey, newSessionId, NO_NONCE } from '../../src/proto/control.js';
import { sendUdpIn } from './security-tools.js';
import { parseKey } from '../../src/config/load.js';

async function withCluster(t: TestContext, name: string, topology: string, fn: (lab: LabHandle, c: Cluster) => Promise<void>, cluster: ClusterOptions = {}): Promise<void> {
  await withLabCluster(t, { name, topology, cluster }, fn);
}

function assertNothingLost(r: WorkloadReport, what: string): void {
  const brief = JSON.stringify({ requests: r.requests, failed: r.failed, broken: r.broken_connections, lost: r.inflight_lost, stream: r.stream_verified, gap: r.max_gap_ms });
  assert.ok(r.requests > 100, `${what}: the workload ran (${brief})`);
  assert.equal(r.failed, 0, `${what}: failed requests ${brief}`);
  assert.equal(r.broken_connections, 0, `${what}: broken connections ${brief}`);
  assert.equal(r.inflight_lost, 0, `${what}: in-flight requests lost ${brief}`);
  assert.equal(r.stream_verified, true, `${what}: byte stream ${brief}`);
  // TCP alone would retransmit through the outage within the request timeout: only a small gap proves that the
  // takeover carried the traffic (measured here: 20-110 ms; the cut lasts >= 300 ms in every test).
  assert.ok(r.max_gap_ms < 250, `${what}: largest gap ${r.max_gap_ms} ms ${brief}`);
}

const tookOver = (c: Cluster) => c.waitFor('a', (s) => s.claims.some((x) => x.acked), { what: 'takeover acknowledged' });
const failedBack = (c: Cluster) => c.waitFor('a', (s) => s.claims.length === 0 && s.publics.every((p) => p.placement.kind === 'own') && s.publics.every((p) => p.health.healthy), { timeoutMs: 15_000, what: 'failback' });

async function proxiesOf(lab: LabHandle, node: string): Promise<string> {
  return (await lab.exec(node, ['ip', 'neigh', 'show', 'proxy'], { check: true })).stdout.trim();
}
async function hanetRoutes(lab: LabHandle, node: string): Promise<string> {
  return (await lab.exec(node, ['ip', 'route', 'show', 'table', 'all', 'proto', '78'], { check: false })).stdout.trim();
}

for (const mode of ['carrier', 'silent', 'admin'] as const) {
  test(`${mode} failure of a's public port under load, then heal: nothing lost`, async (t) => {
    await withCluster(t, `lf${mode.slice(0, 2)}`, 'pair', async (lab, c) => {
      const wl = await startWorkload(lab, { server: 'a', address: '10.0.0.11' });
      await delay(1000); // the workload's baseline before the cut (a timeline, not synchronisation)
      await lab.fail('a:eth0', mode);
      const s = await tookOver(c);
      assert.equal(s.claims[0]?.helper, 'b');
      await waitFor(async () => (await proxiesOf(lab, 'b')).includes('10.0.0.11'), { what: 'proxy entry on b' });
      await delay(1500);
      await lab.heal('a:eth0');
      await failedBack(c);
      await delay(500);
      const r = await wl.stop();
      t.diagnostic(`${mode}: requests ${r.requests}, max gap ${r.max_gap_ms.toFixed(1)} ms, p99 ${r.latency_ms.p99.toFixed(2)} ms`);
      assertNothingLost(r, mode);
      await c.waitFor('b', (s2) => s2.helping.length === 0, { what: 'b let go after the linger' });
      assert.equal(await proxiesOf(lab, 'b'), '');
    });
  });
}

test('10 failure/heal cycles in a row on the same long-lived connections', async (t) => {
  await withCluster(t, 'lcyc', 'pair', async (lab, c) => {
    const wl = await startWorkload(lab, { server: 'a', address: '10.0.0.11' });
    for (let i = 0; i < 10; i++) {
      await delay(300);
      await lab.fail('a:eth0', 'carrier');
      await tookOver(c);
      await delay(300);
      await lab.heal('a:eth0');
      await failedBack(c);
    }
    await delay(300);
    const r = await wl.stop();
    t.diagnostic(`10 cycles: requests ${r.requests}, max gap ${r.max_gap_ms.toFixed(1)} ms`);
    assertNothingLost(r, '10 cycles');
  }, { common: { takeover: { failback_hold_ms: 300 } } });
});

for (const victim of ['a', 'b'] as const) {
  test(`daemon on ${victim === 'a' ? 'the owner' : 'the helper'} killed -9 and restarted during a takeover: nothing lost, nothing left over`, async (t) => {
    await withCluster(t, `lk${victim}`, 'pair', async (lab, c) => {
      const wl = await startWorkload(lab, { server: 'a', address: '10.0.0.11' });
      await delay(800);
      await lab.fail('a:eth0', 'carrier');
      await tookOver(c);
      await delay(500);
      await c.kill(victim, 'SIGKILL');
      await delay(300);
      await c.start(victim);
      const st = await c.waitFor('b', (s) => s.helping.some((h) => h.owner === 'a' && !h.lingering && h.claimId !== 'adopted'), { what: 'b helping a again under a fresh claim' });
      assert.equal(st.helping.length, 1);
      await delay(800);
      await lab.heal('a:eth0');
      await failedBack(c);
      await c.waitFor('b', (s) => s.helping.length === 0, { what: 'b let go after the linger' });
      const r = await wl.stop();
      t.diagnostic(`kill -9 ${victim}: requests ${r.requests}, max gap ${r.max_gap_ms.toFixed(1)} ms`);
      assertNothingLost(r, `kill ${victim}`);
      assert.equal(await proxiesOf(lab, 'b'), '', 'no proxy entry left on b');
      assert.equal(await hanetRoutes(lab, 'b'), 'default via 10.0.0.1 dev eth0 metric 4242', 'only the fallback default route on b');
      assert.equal(await hanetRoutes(lab, 'a'), 'default via 10.0.0.1 dev eth0 metric 4242', 'only the fallback default route on a');
    });
  });
}

test('owner daemon dead during a takeover: the helper lease expires and it stops answering for the address', async (t) => {
  await withCluster(t, 'llease', 'pair', async (lab, c) => {
    await lab.fail('a:eth0', 'carrier');
    await tookOver(c);
    assert.match(await proxiesOf(lab, 'b'), /10\.0\.0\.11/);
    assert.equal(await lab.probe('r', '10.0.0.11', { port: 9, timeoutMs: 1000 }), true, 'a reachable through b');
    const killedAt = Date.now();
    await c.kill('a', 'SIGKILL');
    await c.waitFor('b', (s) => s.helping.length === 0 && s.events.some((e) => e.type === 'lease-expired'), { timeoutMs: 5000, what: 'lease expiry' });
    const after = Date.now() - killedAt;
    assert.ok(after >= 900, `released after the 1 s lease, not before (${after} ms)`);
    assert.equal(await proxiesOf(lab, 'b'), '');
    assert.equal(await hanetRoutes(lab, 'b'), 'default via 10.0.0.1 dev eth0 metric 4242');
    // Through b's proxy entry the router reached a (a TCP connect to a closed port is refused by a: reachable);
    // with the lease gone and a still cut, nobody answers for 10.0.0.11 any more.
    await lab.exec('r', ['ip', 'neigh', 'flush', 'dev', 'eth1'], { check: true });
    assert.equal(await lab.probe('r', '10.0.0.11', { port: 9, timeoutMs: 1000 }), false, 'nobody answers for 10.0.0.11');
  }, { common: { takeover: { lease_ms: 1000 } } });
});

test('local backup: a second public port of a on the same LAN carries its address, no peer involved', async (t) => {
  await withCluster(t, 'ldual', 'dual', async (lab, c) => {
    const wl = await startWorkload(lab, { server: 'a', address: '10.0.0.11' });
    await delay(800);
    await lab.fail('a:eth0', 'carrier');
    await c.waitFor('a', (s) => s.publics.find((p) => p.iface === 'eth0')?.placement.kind === 'local', { what: 'local backup' });
    const addrs = (await lab.exec('a', ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth2'], { check: true })).stdout;
    assert.match(addrs, /10\.0\.0\.11\/24/);
    const b = await c.status('b');
    assert.equal(b.helping.length, 0, 'b is not involved');
    await delay(1000);
    await lab.heal('a:eth0');
    await failedBack(c);
    await delay(300);
    const r = await wl.stop();
    t.diagnostic(`local backup: max gap ${r.max_gap_ms.toFixed(1)} ms`);
    assertNothingLost(r, 'local backup');
  });
});

test('three servers: a fails, exactly one of b and d helps', async (t) => {
  await withCluster(t, 'ltrio', 'trio', async (lab, c) => {
    const wl = await startWorkload(lab, { server: 'a', address: '10.0.0.11' });
    await delay(800);
    await lab.fail('a:eth0', 'carrier');
    await tookOver(c);
    await delay(500);
    const helpers: string[] = [];
    for (const n of ['b', 'd']) if ((await proxiesOf(lab, n)).includes('10.0.0.11')) helpers.push(n);
    assert.equal(helpers.length, 1, `exactly one helper, got ${helpers.join(',')}`);
    const r = await wl.stop();
    assertNothingLost(r, 'trio');
  });
});

test('forged and replayed control messages are rejected and change nothing', async (t) => {
  await withCluster(t, 'lauth', 'pair', async (lab, c) => {
    const realKey = deriveControlKey(parseKey(readFileSync(`${c.dir}/cluster.key`)).key);
    const wrongKey = deriveControlKey(Buffer.alloc(32, 7));
    const forger = new ControlSender({ node: 'a', key: wrongKey });
    const genuine = new ControlSender({ node: 'a', key: realKey });
    // A takeover request from "a" made with the wrong key, and a genuine (harmless) message sent twice.
    // The attacker's binding: a fresh nonce, and no nonce of b's (it cannot know b's live one).
    const binding = { nonce: newSessionId(), echo: NO_NONCE };
    const forged = forger.encode('b', { type: 'takeover', claimId: 'forged-1', lan: 'sw', addresses: ['10.0.0.11'], ownerLinkAddress: '192.168.100.1', leaseMs: 60000 }, binding).bytes;
    const once = genuine.encode('b', { type: 'release-ack', claimId: 'nothing' }, binding).bytes;
    // From a's address and port (spoofed with a raw socket: b's socket is connected to a's and drops anything else).
    await sendUdpIn(lab, 'a', { src: '192.168.100.1', sport: 7431, dst: '192.168.100.2', dport: 7431, payloads: [forged, once, once, Buffer.from('deadbeef', 'hex')] });
    // The genuine message is refused either way: it names no nonce of b's ('unbound'), or a stale one, or is a replay.
    const replays = (s: { rejected: Record<string, number> }) => (s.rejected['replay'] ?? 0) + (s.rejected['stale-session'] ?? 0) + (s.rejected['unbound'] ?? 0);
    const st = await c.waitFor('b', (s) => (s.rejected['bad-mac'] ?? 0) >= 1 && replays(s) >= 1, { what: 'rejections counted' });
    assert.ok((st.rejected['truncated'] ?? 0) + (st.rejected['bad-magic'] ?? 0) >= 1, `garbage counted: ${JSON.stringify(st.rejected)}`);
    assert.equal(st.helping.length, 0, 'the forged takeover changed nothing');
    assert.equal(await proxiesOf(lab, 'b'), '');
  });
});
