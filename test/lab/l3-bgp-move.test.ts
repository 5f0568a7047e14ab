// Lab test of the benchmark's `bgp-move` setup (bench/lib/l3.ts, issue 15): what MetalLB-style BGP speakers do, moving
// a's address to b, is a real move and not a fake outage: the spine routes a's address through rack 2, b accepts new
// connections to it while a's uplink is down, and the connections made with a are reset. Root needed; skipped without.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { requireRoot, waitFor } from '../helpers.js';
import { labUp } from '../../src/lab/lab.js';
import { defaultTopology } from '../../src/lab/topology.js';
import { DEFAULTS, startWorkload, type WorkloadHandle } from '../../src/lab/workload/index.js';
import { L3_A, moveBack, moveToB, serveOn, spineHostRoute, stopService } from '../../bench/lib/l3.js';

test('l3 bench bgp-move: after the move b answers for a\'s address through rack 2 and the long-lived connections are reset', async (t) => {
  if (!requireRoot(t)) return;
  const lab = await labUp(defaultTopology('l3'), { name: 'l3mv', replace: true });
  let wl: WorkloadHandle | undefined;
  const svcB = await serveOn(lab, 'b').catch(async (e: unknown) => { await lab.down(); throw e; });
  try {
    wl = await startWorkload(lab, { server: 'a', address: L3_A });
    await delay(1000); // the workload's baseline before the cut (a timeline, not synchronisation)
    const before = wl.progress().broken_connections;
    await lab.fail('a:eth0', 'carrier');
    await moveToB(lab);
    await waitFor(async () => ((await spineHostRoute(lab)).includes('via 10.255.2.2') ? true : undefined), { what: "the spine's /32 to a's address through rack 2" });
    // a's uplink is down: only b can accept a connection to a's address now.
    assert.equal(await lab.probe('c', L3_A, { port: DEFAULTS.port, timeoutMs: 1000 }), true, "c connects to a's address");
    let seen = '';
    const onB = await waitFor(async () => {
      seen = (await lab.exec('b', ['ss', '-Htn', 'state', 'established'], { check: true })).stdout;
      // The service listens on [::]: IPv4 peers show as v4-mapped ([::ffff:10.1.0.10]:7100).
      const mine = seen.split('\n').filter((l) => (l.includes(`${L3_A}]:${DEFAULTS.port} `) || l.includes(`${L3_A}:${DEFAULTS.port} `)) && l.includes('10.9.0.2'));
      return mine.length > 0 ? mine : undefined;
    }, { what: "the workload's connections to a's address established on b" }).catch((e: unknown) => {
      throw new Error(`${String(e)}; b's established sockets:\n${seen}`);
    });
    t.diagnostic(`${onB?.length} connection(s) from c to ${L3_A} established on b`);
    // The P/S/B connections made with a are reset by b (no socket for them): broken before the heal.
    await waitFor(() => (wl!.progress().broken_connections > before ? true : undefined), { what: 'connections broken by the move' });
    await lab.heal('a:eth0');
    await moveBack(lab);
    await waitFor(async () => ((await spineHostRoute(lab)) === '' ? true : undefined), { what: 'the /32 withdrawn from the spine' });
    await delay(300);
    const r = await wl.stop();
    wl = undefined;
    t.diagnostic(`requests ${r.requests}, failed ${r.failed}, broken ${r.broken_connections}, in-flight lost ${r.inflight_lost}`);
    assert.ok(r.broken_connections > 0, 'the move broke connections');
    assert.ok(r.requests - r.failed > 0, 'requests succeeded');
  } finally {
    await wl?.stop().catch(() => undefined);
    stopService(svcB);
    await lab.down();
  }
});
