// Lab tests of the workload (root): in the pair lab with no failover software, a healthy run loses nothing, and
// a carrier cut of a's public port MUST show up in the report — the proof that the instrument can see an outage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { labUp, type LabHandle } from '../../src/lab/lab.js';
import { defaultTopology } from '../../src/lab/topology.js';
import { startWorkload, formatReport, type WorkloadReport } from '../../src/lab/workload/index.js';
import { requireRoot } from '../helpers.js';

/** Runs `fn` on a fresh pair lab named `name`, always taking the lab down again. */
async function withLab(name: string, fn: (lab: LabHandle) => Promise<void>): Promise<void> {
  const lab = await labUp(defaultTopology('pair'), { name, replace: true });
  try {
    await fn(lab);
  } finally {
    await lab.down();
  }
}

const show = (t: { diagnostic(s: string): void }, r: WorkloadReport): void => {
  for (const l of formatReport(r).split('\n')) t.diagnostic(l);
};

test('workload in the pair lab without failures: nothing lost, stream verified', async (t) => {
  if (!requireRoot(t)) return;
  await withLab('lw1', async (lab) => {
    const wl = await startWorkload(lab, { server: 'a', address: '10.0.0.11', slow: { concurrency: 10, holdMs: 500 }, persistent: { connections: 4, intervalMs: 10 }, perRequest: { intervalMs: 20 }, bulk: { rateBytesPerSec: 1024 * 1024 } });
    assert.equal(wl.progress().ready, true);
    await delay(3000);
    const r = await wl.stop();
    show(t, r);
    assert.equal(r.failed, 0, JSON.stringify(r.failures));
    assert.equal(r.broken_connections, 0);
    assert.equal(r.inflight_lost, 0);
    assert.equal(r.stream_verified, true);
    for (const k of ['P', 'N', 'S', 'B'] as const) assert.ok(r.streams[k].ok > 0, `${k} ran`);
    assert.ok(r.streams.P.requests > 800, `P requests ${r.streams.P.requests}`);
    // No outage: the largest gap is scheduling noise (tens of ms on this VM), far from the 1 s scale below.
    assert.ok(r.max_gap_ms < 500, `max gap ${r.max_gap_ms}`);
  });
});

test('THE OUTAGE TEST: a 1.5 s carrier cut of a:eth0 with no failover software shows up as loss and a gap', async (t) => {
  if (!requireRoot(t)) return;
  await withLab('lw2', async (lab) => {
    // Request timeout 1 s: TCP would retransmit across a 1.5 s outage and recover every byte (the next
    // retransmission after the heal comes up to ~1.6 s later), so with the default 10 s timeout a cut shows only
    // as a gap. With 1 s, every request sent in the first ~0.5 s of the cut has no reply within its deadline.
    const wl = await startWorkload(lab, { server: 'a', address: '10.0.0.11', requestTimeoutMs: 1000 });
    await delay(1000);
    await lab.fail('a:eth0', 'carrier');
    await delay(1500);
    await lab.heal('a:eth0');
    await delay(2500); // long enough for reconnects to succeed after the heal
    const r = await wl.stop();
    show(t, r);
    assert.ok(r.failed > 0, 'requests failed');
    assert.ok(r.inflight_lost > 0, 'in-flight requests lost');
    assert.ok(r.broken_connections > 0, 'connections broken');
    assert.ok((r.failures.timeout ?? 0) > 0, JSON.stringify(r.failures));
    assert.equal(r.stream_verified, false, 'the bulk stream across the cut is not verified');
    assert.ok(r.max_gap_ms >= 1400, `max gap ${r.max_gap_ms} covers the 1.5 s cut`);
    assert.ok(r.new_connection_gap_ms >= 1400, `new-connection gap ${r.new_connection_gap_ms}`);
    // Every P slot broke (its pipelined requests timed out) and came back after the heal.
    assert.equal(r.streams.P.broken_connections, 4);
    assert.ok(r.streams.P.max_gap_by_slot_ms.every((g) => g >= 1400));
    const tl = r.timeline;
    const lastOkBucket = tl.ok.findLastIndex((n) => n > 0);
    assert.ok(lastOkBucket * tl.bucket_ms > 3000, 'traffic flowed again after the heal');
  });
});

test('the same cut with the default 10 s timeout: TCP recovers every byte, the gap still shows the outage', async (t) => {
  if (!requireRoot(t)) return;
  await withLab('lw3', async (lab) => {
    const wl = await startWorkload(lab, { server: 'a', address: '10.0.0.11', slow: { concurrency: 4, holdMs: 500 }, persistent: { connections: 4, intervalMs: 10 }, bulk: { rateBytesPerSec: 1024 * 1024 } });
    await delay(1000);
    await lab.fail('a:eth0', 'carrier');
    await delay(1500);
    await lab.heal('a:eth0');
    await delay(3000); // TCP's next retransmission after the heal (backoff) can be ~1.6 s away
    const r = await wl.stop();
    show(t, r);
    assert.equal(r.failed, 0, JSON.stringify(r.failures));
    assert.equal(r.stream_verified, true);
    assert.ok(r.max_gap_ms >= 1400, `max gap ${r.max_gap_ms}`);
    assert.ok(r.latency_ms.max >= 1400, `P latency max ${r.latency_ms.max}`);
  });
});
