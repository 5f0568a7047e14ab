// The scale run of the bench (bench/lib/scale.ts, issue #15) at a small size: a generated cluster (L2, and L3 in two
// racks behind BGP ToRs) where several servers fail at the same instant under load; each is carried by a neighbour
// on the private-link ring and nothing is lost. Root needed (namespaces; BIRD for L3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireRoot } from '../helpers.js';
import { runScale, SCALE_QUICK, victimsOf } from '../../bench/lib/scale.js';
import { linkPairs } from '../../src/lab/topologies/generate.js';

const neighbours = (graph: string, n: number, node: string): string[] =>
  linkPairs(graph, n).filter(([x, y]) => `n${x}` === node || `n${y}` === node).map(([x, y]) => `n${`n${x}` === node ? y : x}`);

for (const fabric of ['l2', 'l3'] as const) {
  test(`scale (${fabric}): servers of a generated cluster failing at once are each carried by a ring neighbour, nothing lost`, async (t) => {
    if (!requireRoot(t)) return;
    const o = { ...SCALE_QUICK, fabric, servers: fabric === 'l2' ? 6 : 4, failing: 2, idleSeconds: 1, settleSeconds: 0, ...(fabric === 'l3' ? { racks: 2 } : {}) };
    const r = await runScale(o, (s) => t.diagnostic(s));
    assert.deepEqual(r.per_server.map((p) => p.node), victimsOf(o.servers, o.failing));
    for (const p of r.per_server) {
      assert.ok(neighbours(o.links, o.servers, p.node).includes(p.helper), `${p.node} helped by ${p.helper}`);
      assert.ok(!r.per_server.some((q) => q.node === p.helper), `${p.node}'s helper ${p.helper} has not failed itself`);
      assert.ok(p.requests > 0, `${p.node}: its workload ran`);
    }
    assert.deepEqual({ failed: r.failed, broken: r.broken, lost: r.lost, streams: r.streams_ok }, { failed: 0, broken: 0, lost: 0, streams: true }, JSON.stringify(r.per_server));
    assert.ok(r.idle.rss_mib > 0 && r.idle.cpu_pct >= 0, 'the daemons were measured');
    t.diagnostic(`gaps ${r.per_server.map((p) => `${p.node}→${p.helper} ${p.max_gap_ms} ms`).join(', ')}; idle ${r.idle.cpu_pct}% CPU, ${r.idle.pss_mib} MiB PSS`);
  });
}
