// Unit tests of the public-interface health verdict: carrier, ARP misses counted per probe, hold-down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PublicHealth } from '../../src/core/health.js';

const mk = (holdMs = 1000) => new PublicHealth({ arp: true, arpIntervalMs: 10, arpMisses: 3, holdMs }, 0);

/** Drives probes every 10 ms from `from` to `to`; `answer(t)` says whether the gateway replies. */
function probes(h: PublicHealth, from: number, to: number, answer: (t: number) => boolean): void {
  for (let t = from; t <= to; t += 10) {
    h.carrier(t, true, true);
    h.probeSent(t);
    if (answer(t)) h.reply(t + 0.1);
  }
}

test('unknown until the first reply, then healthy and usable at once (no failure seen yet)', () => {
  const h = mk();
  h.carrier(0, true, true);
  assert.equal(h.view(0).reason, 'unknown');
  probes(h, 0, 50, () => true);
  assert.deepEqual([h.view(50).healthy, h.view(50).usable, h.view(50).reason], [true, true, 'ok']);
});

const cases: Array<{ name: string; run: (h: PublicHealth) => number; healthy: boolean; reason: string }> = [
  { name: 'admin down', run: (h) => { probes(h, 0, 50, () => true); h.carrier(60, false, false); return 60; }, healthy: false, reason: 'admin-down' },
  { name: 'carrier down', run: (h) => { probes(h, 0, 50, () => true); h.carrier(60, true, false); return 60; }, healthy: false, reason: 'carrier-down' },
  { name: 'three probes unanswered', run: (h) => { probes(h, 0, 50, () => true); probes(h, 60, 100, () => false); return 100; }, healthy: false, reason: 'arp-timeout' },
  { name: 'two probes unanswered is not yet a failure', run: (h) => { probes(h, 0, 50, () => true); probes(h, 60, 80, () => false); return 80; }, healthy: true, reason: 'ok' },
  { name: 'a stalled event loop (no probes sent for 200 ms) is not a failure', run: (h) => { probes(h, 0, 50, () => true); probes(h, 250, 260, () => true); return 260; }, healthy: true, reason: 'ok' },
  { name: 'interface missing', run: (h) => { probes(h, 0, 50, () => true); h.carrier(60, true, true, false); return 60; }, healthy: false, reason: 'missing' },
];
for (const c of cases) {
  test(`verdict: ${c.name}`, () => {
    const h = mk();
    const at = c.run(h);
    const v = h.view(at);
    assert.equal(v.healthy, c.healthy);
    assert.equal(v.reason, c.reason);
  });
}

test('after a failure the interface is healthy at once but usable only after the hold-down', () => {
  const h = mk(500);
  probes(h, 0, 50, () => true);
  h.carrier(60, true, false);
  probes(h, 100, 300, () => true);
  assert.equal(h.view(300).healthy, true);
  assert.equal(h.view(300).usable, false);
  probes(h, 310, 700, () => true);
  assert.equal(h.view(700).usable, true);
});

test('carrier back but the gateway silent: stays failed, then arp-timeout', () => {
  const h = mk();
  probes(h, 0, 50, () => true);
  h.carrier(60, true, false);
  probes(h, 100, 120, () => false);
  assert.equal(h.view(120).reason, 'carrier-down');
  probes(h, 130, 140, () => false);
  assert.equal(h.view(140).reason, 'arp-timeout');
});
