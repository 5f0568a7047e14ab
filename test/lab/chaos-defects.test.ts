// Defects the chaos run (bench/chaos.ts, issue #10) found in the product, each reproduced on its own in a lab with
// a running cluster: every test failed before its fix. Root needed (namespaces).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { requireRoot } from '../helpers.js';
import { logTail } from './with-cluster.js';
import { labUp, type LabHandle } from '../../src/lab/lab.js';
import { defaultTopology } from '../../src/lab/topology.js';
import { runCluster, type LiveCluster } from '../../src/lab/live-cluster.js';
import type { ClusterOptions } from '../../src/lab/cluster.js';

async function withLive(t: TestContext, name: string, topology: string, opts: ClusterOptions, fn: (lab: LabHandle, c: LiveCluster) => Promise<void>): Promise<void> {
  if (!requireRoot(t)) return;
  const lab = await labUp(defaultTopology(topology), { name, replace: true });
  let c: LiveCluster | undefined;
  try {
    c = await runCluster(lab, opts);
    await fn(lab, c);
  } catch (err) {
    if (c) for (const n of c.servers) t.diagnostic(`${n} log:\n${logTail(c.logPath(n))}`);
    throw err;
  } finally {
    await c?.stop();
    await lab.down();
  }
}

const proxies = async (lab: LabHandle, node: string): Promise<string> => (await lab.exec(node, ['ip', 'neigh', 'show', 'proxy'], { check: true })).stdout;

/** Holds `cond` true at every poll for `ms` (a negative property: the defect let go within ~100 ms). */
async function holds(ms: number, what: string, cond: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    assert.ok(await cond(), what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a helper with two public ports on the LAN keeps helping: its own gratuitous ARP heard on its other port is not another host announcing', async (t) => {
  // Found by the chaos run (quad, seed 1): a silent failure of b, helped by a (eth0 and eth1 on the LAN); a heard its
  // gratuitous ARP for b's address on its second port, took it for another host's and let go (help-superseded):
  // b's address had no answer on the LAN while b still routed through a.
  await withLive(t, 'cdual', 'dual', {}, async (lab, c) => {
    await lab.fail('b:eth0', 'silent');
    await c.waitFor('b', (s) => s.claims.some((x) => x.acked && x.helper === 'a'), { what: 'b helped by a' });
    await c.waitFor('a', (s) => (s.eventCounts.announced ?? 0) > 0, { what: 'a announced' });
    await holds(1000, 'a keeps its proxy entry for b', async () => (await proxies(lab, 'a')).includes('10.0.0.12'));
    const s = await c.status('a');
    assert.equal(s.eventCounts['help-superseded'] ?? 0, 0, JSON.stringify(s.helping));
    await lab.heal('b:eth0');
  });
});

test('a clean stop puts back the sysctls hanet changed, also when a kill -9 and a restart came between', async (t) => {
  // Found by the chaos run's leftover check: ip_forward (and with it every interface's forwarding and
  // accept_redirects), proxy_delay and rp_filter stayed at hanet's values after every clean stop.
  await withLive(t, 'csys', 'pair', {}, async (lab, c) => {
    const read = async (node: string, port = 'eth1'): Promise<string> => (await lab.exec(node, ['sysctl', '-n', 'net.ipv4.ip_forward', 'net.ipv4.neigh.eth0.proxy_delay', `net.ipv4.conf.${port}.rp_filter`], { check: true })).stdout.trim().split('\n').join(' ');
    // A fresh namespace's values (the client's: the lab sets none there), which a's were before hanet ran.
    const before = await read('c', 'eth0');
    await c.stop();
    assert.equal(await read('a'), before, 'a clean stop');
    await c.start('a');
    assert.notEqual(await read('a'), before, 'hanet changed them (the test means something)');
    await c.kill('a', 'SIGKILL');
    await c.start('a');
    await c.kill('a', 'SIGTERM');
    assert.equal(await read('a'), before);
  });
});
