// Lab tests of L3 mode (issue 15, docs/l3.md) on the `l3` topology: servers in two racks behind their ToR routers,
// BGP (BIRD) between servers, ToRs and spine. When a's uplink fails, b in the other rack installs the host route to
// a's address (route protocol 78), BIRD announces it, the spine routes a's traffic to rack 2 and b relays it over the
// private link: under the P/N/S/B workload nothing is lost. Root needed (namespaces); skipped without it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requireRoot } from '../helpers.js';
import { hanetArgv, labDown, labUp, type LabState } from '../../src/lab/lab.js';
import { readState } from '../../src/lab/state.js';
import { daemonAlive } from '../../src/lab/daemon-proc.js';
import { idleSessions } from '../../src/lab/bird.js';
import { defaultTopology } from '../../src/lab/topology.js';
import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from '../helpers.js';
import type { LabHandle } from '../../src/lab/lab.js';
import { startWorkload } from '../../src/lab/workload/index.js';
import type { WorkloadReport } from '../../src/lab/workload/index.js';
import { startFamilyWorkloads } from '../../src/lab/workload/families.js';
import { assertNothingLost, carrierCycles, DUAL_STACK, failedBack, hanetRoutes, proxiesOf, tookOver, withCluster } from './failover-suite.js';

const A = '10.1.0.10';
const IDLE_B = 'default via 10.2.0.1 dev eth0 metric 4242';
const IDLE_A = 'default via 10.1.0.1 dev eth0 metric 4242';

/** The spine's route to a's address: the /32 through rack 2 while b announces it, else undefined. */
async function spineHostRoute(lab: LabHandle): Promise<string | undefined> {
  const out = (await lab.exec('s', ['ip', 'route', 'show', `${A}/32`], { check: true })).stdout.trim();
  return out === '' ? undefined : out;
}

function report(t: TestContext, what: string, r: WorkloadReport): void {
  t.diagnostic(`${what}: requests ${r.requests}, max gap ${r.max_gap_ms.toFixed(1)} ms, p99 ${r.latency_ms.p99.toFixed(2)} ms`);
  assertNothingLost(r, what);
}

for (const mode of ['carrier', 'silent'] as const) {
  test(`l3: ${mode} failure of a's uplink under load: b in rack 2 announces a's /32 through BGP, nothing lost`, async (t) => {
    await withCluster(t, `l3${mode.slice(0, 2)}`, 'l3', async (lab, c) => {
      const wl = await startWorkload(lab, { server: 'a', address: A });
      await delay(1000); // the workload's baseline before the cut (a timeline, not synchronisation)
      await lab.fail('a:eth0', mode);
      const s = await tookOver(c);
      assert.equal(s.claims[0]?.helper, 'b');
      const viaRack2 = await waitFor(async () => (await spineHostRoute(lab))?.includes('via 10.255.2.2') ? true : undefined, { what: "the spine's /32 to a through rack 2" });
      assert.ok(viaRack2);
      assert.equal(await proxiesOf(lab, 'b'), '', 'no proxy entry in L3 mode');
      assert.match(await hanetRoutes(lab, 'b'), /^10\.1\.0\.10 via 192\.168\.100\.1 dev eth1$/m, "b's host route to a over the private link");
      await delay(1500);
      await lab.heal('a:eth0');
      await failedBack(c);
      // Released: withdrawn from the fabric at once while b's route lingers (metric 4242: BIRD does not learn it).
      await waitFor(async () => ((await spineHostRoute(lab)) === undefined ? true : undefined), { what: 'the /32 withdrawn from the spine' });
      assert.match(await hanetRoutes(lab, 'b'), /^10\.1\.0\.10 via 192\.168\.100\.1 dev eth1 metric 4242$/m, "b's route lingers, withdrawn");
      await delay(500);
      report(t, mode, await wl.stop());
      await c.waitFor('b', (st) => st.helping.length === 0, { what: 'b let go after the linger' });
      assert.equal(await hanetRoutes(lab, 'b'), IDLE_B, 'only the fallback default route left on b');
    });
  });
}

test('l3: 10 failure/heal cycles in a row on the same long-lived connections', async (t) => {
  await withCluster(t, 'l3cyc', 'l3', async (lab, c) => {
    const wl = await startWorkload(lab, { server: 'a', address: A });
    await carrierCycles(lab, c, 10);
    report(t, '10 cycles', await wl.stop());
  }, { common: { takeover: { failback_hold_ms: 300 } } });
});

for (const victim of ['a', 'b'] as const) {
  test(`l3: daemon on ${victim === 'a' ? 'the owner' : 'the helper'} killed -9 and restarted during a takeover: nothing lost, nothing left over`, async (t) => {
    await withCluster(t, `l3k${victim}`, 'l3', async (lab, c) => {
      const wl = await startWorkload(lab, { server: 'a', address: A });
      await delay(800);
      await lab.fail('a:eth0', 'carrier');
      await tookOver(c);
      await delay(500);
      await c.kill(victim, 'SIGKILL');
      await delay(300);
      await c.start(victim);
      await c.waitFor('b', (s) => s.helping.some((h) => h.owner === 'a' && !h.lingering && h.claimId !== 'adopted'), { what: 'b helping a again under a fresh claim' });
      await delay(800);
      await lab.heal('a:eth0');
      await failedBack(c);
      await c.waitFor('b', (s) => s.helping.length === 0, { what: 'b let go after the linger' });
      report(t, `kill -9 ${victim}`, await wl.stop());
      assert.equal(await hanetRoutes(lab, 'b'), IDLE_B, 'only the fallback default route on b');
      assert.equal(await hanetRoutes(lab, 'a'), IDLE_A, 'only the fallback default route on a');
    });
  });
}

for (const mode of ['carrier', 'silent'] as const) {
  test(`l346: ${mode} failure of a's uplink under dual-stack load: b announces a's /32 and /128, nothing lost on either family`, async (t) => {
    await withCluster(t, `l6${mode.slice(0, 2)}`, 'l346', async (lab, c) => {
      const A6 = '2001:db8:1::10';
      const wl = await startFamilyWorkloads(lab, { ...DUAL_STACK.perFamily, server: 'a', addresses: [A, A6] });
      await delay(1000);
      await lab.fail('a:eth0', mode);
      await tookOver(c);
      const spine6 = async () => (await lab.exec('s', ['ip', '-6', 'route', 'show', `${A6}/128`], { check: true })).stdout.trim();
      await waitFor(async () => (await spine6()).includes('via 2001:db8:255:2::2') && (await spineHostRoute(lab))?.includes('via 10.255.2.2'), { what: "the spine's /32 and /128 to a through rack 2" });
      assert.match(await hanetRoutes(lab, 'b'), /^2001:db8:1::10 via fe80::\S+ dev eth1 /m, "b's /128 to a over the private link (a's link-local)");
      await delay(1500);
      await lab.heal('a:eth0');
      await failedBack(c);
      await waitFor(async () => (await spine6()) === '' && (await spineHostRoute(lab)) === undefined, { what: 'both host routes withdrawn from the spine' });
      await delay(500);
      const reports = await wl.stop();
      for (const [fam, r] of Object.entries(reports)) if (r) report(t, `${mode} ${fam}`, r);
      assert.equal(Object.values(reports).filter(Boolean).length, 2, 'a report per family');
    });
  });
}

test('l3: hanet demo --topology l3 --json reports nothing lost', async (t) => {
  if (!requireRoot(t)) return;
  const [cmd, ...args] = hanetArgv();
  try {
    const { stdout } = await promisify(execFile)(cmd!, [...args, 'demo', '--topology', 'l3', '--name', 'l3demo', '--outage', '1000', '--json'], { timeout: 120_000 });
    const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as WorkloadReport & { ok: boolean; topology: string; address: string };
    t.diagnostic(`demo: requests ${r.requests}, max gap ${r.max_gap_ms} ms`);
    assert.equal(r.topology, 'l3');
    assert.equal(r.address, A);
    assert.equal(r.ok, true, JSON.stringify({ failed: r.failed, broken: r.broken_connections, lost: r.inflight_lost, gap: r.max_gap_ms }));
    assertNothingLost(r, 'demo');
  } finally {
    await labDown({ name: 'l3demo' }).catch(() => undefined);
  }
});

test('l3 lab: up starts BIRD on every router and server with every session Established; down stops them by their recorded pids', async (t) => {
  if (!requireRoot(t)) return;
  await labUp(defaultTopology('l3'), { name: 'l3bird', replace: true });
  let st: LabState | undefined;
  try {
    st = await readState('l3bird');
    assert.deepEqual(Object.keys(st?.bird ?? {}).sort(), ['a', 'b', 's', 't1', 't2']);
    for (const d of Object.values(st!.bird!)) assert.ok(daemonAlive(d), `bird pid ${d.pid} runs`);
    for (const n of ['s', 't1', 't2', 'a', 'b']) assert.deepEqual(await idleSessions('l3bird', n), [], `${n}: every session Established`);
  } finally {
    // What a later `hanet lab down` does after whatever started the lab crashed: it has only the state file.
    await labDown({ name: 'l3bird' });
  }
  for (const d of Object.values(st?.bird ?? {})) assert.equal(daemonAlive(d), false, `bird pid ${d.pid} stopped`);
});
