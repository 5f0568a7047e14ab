// Lab test of the delay element (src/lab/delay.ts, root): in the `pair-delay` topology a 5 ms one-way delay in node
// dl gives c <-> a a round trip of ~10 ms, for ping and for TCP request/response, and stopping it removes the delay.
// Medians over many samples with a wide band (the release lateness is 0-1 ms per pass; the machine is shared).
// Lab names here start with `kd`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labUp, type LabHandle } from '../../src/lab/lab.js';
import { defaultTopology } from '../../src/lab/topology.js';
import { startDelay } from '../../src/lab/delay.js';
import { startWorkload } from '../../src/lab/workload/index.js';
import { requireRoot, waitFor } from '../helpers.js';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Round-trip times (ms) of `count` pings from c to `to`, 20 ms apart. */
async function pingRtts(lab: LabHandle, to: string, count = 30): Promise<number[]> {
  const r = await lab.exec('c', ['ping', '-n', '-c', String(count), '-i', '0.02', '-W', '1', to], { timeoutMs: 20_000 });
  return [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
}

test('delay node: 5 ms each way gives a ~10 ms round trip (ping and TCP), and none once stopped', async (t) => {
  if (!requireRoot(t)) return;
  const lab = await labUp(defaultTopology('pair-delay'), { name: 'kdl1', replace: true });
  try {
    const before = await pingRtts(lab, '10.0.0.11');
    assert.ok(before.length >= 25, `pings answered without the delay node: ${before.length}`);
    t.diagnostic(`no delay: median ${median(before).toFixed(3)} ms`);
    assert.ok(median(before) < 3, `undelayed median RTT ${median(before)} ms`);

    const d = await startDelay(lab, 'dl', { delayMs: 5 });
    let stats;
    try {
      const rtts = await pingRtts(lab, '10.0.0.11');
      assert.ok(rtts.length >= 25, `pings answered through the delay node: ${rtts.length}`);
      const m = median(rtts);
      t.diagnostic(`ping through dl: median ${m.toFixed(3)} ms, min ${Math.min(...rtts)} max ${Math.max(...rtts)}`);
      assert.ok(m >= 9.5 && m <= 14, `median ping RTT ${m} ms not within [9.5, 14]`);

      // TCP request/response (the workload's P stream): the same round trip, nothing lost.
      const wl = await startWorkload(lab, { server: 'a', address: '10.0.0.11', persistent: { connections: 2, intervalMs: 20 } });
      await waitFor(() => wl.progress().ok >= 150, { timeoutMs: 15_000, what: '150 P replies' }).catch(() => undefined);
      const r = await wl.stop();
      t.diagnostic(`TCP P stream through dl: p50 ${r.latency_ms.p50} p99 ${r.latency_ms.p99} ms over ${r.latency_ms.count}`);
      assert.equal(r.failed, 0);
      assert.ok(r.latency_ms.count >= 100, `P replies ${r.latency_ms.count}`);
      assert.ok(r.latency_ms.p50 >= 9.5 && r.latency_ms.p50 <= 14, `TCP p50 ${r.latency_ms.p50} ms not within [9.5, 14]`);
    } finally {
      stats = await d.stop();
    }
    assert.ok(stats, 'the delay node reports its statistics');
    t.diagnostic(`delay node: ${JSON.stringify(stats)}`);
    assert.ok(stats.packets > 100, `packets forwarded ${stats.packets}`);
    assert.equal(stats.dropped, 0);

    const after = await pingRtts(lab, '10.0.0.11');
    assert.ok(after.length >= 25, `pings answered after the delay node stopped: ${after.length}`);
    assert.ok(median(after) < 3, `median RTT after stop ${median(after)} ms`);
  } finally {
    await lab.down();
  }
});
