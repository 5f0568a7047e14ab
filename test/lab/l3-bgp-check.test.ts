// L3 mode's BGP check in a generated fabric (three servers in three racks, a private ring): a helper whose BIRD has no
// Established session is not used, the owner goes to the helper whose session is up and moves when that one's goes
// down; under load nothing is lost. Root needed (namespaces, BIRD).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withCluster } from './with-cluster.js';
import { waitFor } from '../helpers.js';
import { birdSocket } from '../../src/lab/bird.js';
import { generateTopology } from '../../src/lab/topologies/generate.js';
import { startWorkload } from '../../src/lab/workload/index.js';
import type { LabHandle } from '../../src/lab/lab.js';

const birdc = async (lab: LabHandle, node: string, ...args: string[]): Promise<void> => {
  const r = await lab.exec(node, ['birdc', '-s', birdSocket(lab.name, node), ...args], { check: true });
  assert.doesNotMatch(r.stdout, /error|syntax/i, r.stdout);
};
/** The spine's route to n1's address: which rack's ToR it goes to (a /32 announced by a helper), or undefined. */
const spineRack = async (lab: LabHandle): Promise<string | undefined> =>
  /via 10\.255\.(\d)\.2/.exec((await lab.exec('s', ['ip', 'route', 'show', '10.1.0.10/32'], { check: true })).stdout)?.[1];

test('l3 bgp check: the owner is carried by the helper whose BGP session is up, and moves when it goes down; nothing lost', async (t) => {
  await withCluster(t, { name: 'lbgp', topology: generateTopology({ servers: 3, mode: 'l3', racks: 3, links: 'ring' }) }, async (lab, c) => {
    await birdc(lab, 'n2', 'disable', 'hanet_eth0_v4');
    await c.waitFor('n2', (s) => (s.eventCounts['bgp-down'] ?? 0) > 0, { what: 'n2 reports its session down' });
    await c.waitFor('n1', (s) => s.links.every((l) => l.alive) && s.links.some((l) => l.peer === 'n3' && Object.values(l.peerLans).some((x) => x.healthy)) && s.links.some((l) => l.peer === 'n2' && !Object.values(l.peerLans).some((x) => x.healthy)), { what: 'n1 hears n3 can carry the fabric, n2 cannot' });
    const wl = await startWorkload(lab, { server: 'n1', address: '10.1.0.10' });
    try {
      await lab.fail('n1:eth0', 'carrier');
      const s = await c.waitFor('n1', (x) => x.claims.some((y) => y.acked), { what: 'n1 helped' });
      assert.equal(s.claims.find((y) => y.acked)!.helper, 'n3', 'not n2 (cheaper by name, but announcing nothing)');
      assert.equal(await waitFor(async () => ((await spineRack(lab)) === '3' ? '3' : undefined), { what: 'the spine routes n1 to rack 3' }), '3');
      // n2 comes back, n3's session goes: n1 moves to n2.
      await birdc(lab, 'n2', 'enable', 'hanet_eth0_v4');
      await c.waitFor('n2', (x) => (x.eventCounts['bgp-up'] ?? 0) > 0, { timeoutMs: 15_000, what: 'n2 Established again' });
      await birdc(lab, 'n3', 'disable', 'hanet_eth0_v4');
      await c.waitFor('n1', (x) => x.claims.some((y) => y.acked && y.helper === 'n2'), { timeoutMs: 15_000, what: 'n1 helped by n2' });
      assert.equal(await waitFor(async () => ((await spineRack(lab)) === '2' ? '2' : undefined), { what: 'the spine routes n1 to rack 2' }), '2');
      await lab.heal('n1:eth0');
      await c.waitFor('n1', (x) => x.claims.length === 0 && x.publics.every((p) => p.placement.kind === 'own'), { timeoutMs: 15_000, what: 'failback' });
      const r = await wl.stop();
      t.diagnostic(`requests ${r.requests}, max gap ${r.max_gap_ms.toFixed(1)} ms`);
      // n3 withdraws as its session goes and n2 announces as n1 moves: what was in flight meanwhile is retransmitted.
      assert.deepEqual({ failed: r.failed, broken: r.broken_connections, lost: r.inflight_lost }, { failed: 0, broken: 0, lost: 0 });
    } finally {
      await wl.stop().catch(() => undefined);
    }
  });
});
