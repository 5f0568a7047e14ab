// Tests that no peer-supplied string becomes a metric label (issue #11): takeover refusal reasons a peer sends are
// mapped to a fixed union ('other' for anything unknown), so a peer cannot create time series without bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DaemonMetrics, REFUSAL_REASONS, refusalReason, type MetricsSource } from '../../src/daemon/metrics.js';
import type { CoreLogEvent } from '../../src/core/types.js';

test('refusal reasons from peers are a fixed set of label values', async () => {
  let emit: (e: CoreLogEvent) => void = () => undefined;
  const src: MetricsSource = {
    status: () => { throw new Error('state gauges are not under test'); },
    onEvent: (cb) => { emit = cb; return () => undefined; },
  };
  const m = new DaemonMetrics(src, { node: 'a', privates: [], processMetrics: false });
  try {
    for (let i = 0; i < 1000; i++) emit({ type: 'takeover-refused', at: i, lan: 'lan0', helper: 'b', reason: `made-up-${i}` });
    emit({ type: 'takeover-refused', at: 0, lan: 'lan0', helper: 'b', reason: 'lan-unhealthy' });
    emit({ type: 'takeover-refused', at: 0, lan: 'lan0', helper: 'b' });
    const refused = (await m.registry.getSingleMetric('hanet_takeovers_refused_total')!.get()).values;
    assert.deepEqual(refused.map((v) => [v.labels.reason, v.value]).sort(), [['lan-unhealthy', 1], ['other', 1001]]);
  } finally {
    m.close();
  }
});

test('refusalReason keeps the known reasons and maps everything else to other', () => {
  for (const r of REFUSAL_REASONS) assert.equal(refusalReason(r), r);
  for (const v of ['x', '', 'not-helper ', 'OTHER', 42, undefined, null, {}]) assert.equal(refusalReason(v), 'other');
});
