// Lab test (issue #10/#11): a daemon whose wall clock steps by +-40 s keeps its peer and its takeover. The clock is
// injected (a preload shifts Date.now in one daemon only); the machine's clock is not touched. Root needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { withCluster } from './with-cluster.js';
import type { Cluster } from '../../src/lab/cluster.js';

const PRELOAD = join(dirname(fileURLToPath(import.meta.url)), 'security-clock-shift.js');

/** For `ms`, every 50 ms: both ends see each other, b still helps a, and b keeps receiving a's messages. */
async function holds(c: Cluster, ms: number, what: string): Promise<void> {
  const b0 = await c.status('b');
  const a0 = await c.status('a');
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const [a, b] = [await c.status('a'), await c.status('b')];
    assert.ok(a.links[0]!.alive && b.links[0]!.alive, `${what}: the link went down (rejected at a ${JSON.stringify(a.rejected)}, at b ${JSON.stringify(b.rejected)})`);
    assert.ok(b.helping.some((h) => h.owner === 'a' && !h.lingering), `${what}: b no longer helps a`);
    assert.ok(a.claims.some((x) => x.acked), `${what}: a lost its takeover`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const [a1, b1] = [await c.status('a'), await c.status('b')];
  assert.equal(b1.eventCounts['peer-down'] ?? 0, b0.eventCounts['peer-down'] ?? 0, `${what}: b saw a go down`);
  assert.equal(a1.eventCounts['peer-down'] ?? 0, a0.eventCounts['peer-down'] ?? 0, `${what}: a saw b go down`);
  // A heartbeat every 50 ms (the default) each way: at least half of them in the window.
  assert.ok(b1.links[0]!.stats!.received - b0.links[0]!.stats!.received >= ms / 100, `${what}: b received too few messages`);
  assert.ok(a1.links[0]!.stats!.received - a0.links[0]!.stats!.received >= ms / 100, `${what}: a received too few messages`);
}

test("a wall-clock step of +-40 s on either node loses neither the peer nor the takeover", { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'hanet-clock-'));
  const saved = { NODE_OPTIONS: process.env.NODE_OPTIONS, HANET_TEST_CLOCK_DIR: process.env.HANET_TEST_CLOCK_DIR };
  // The daemons inherit these (through `ip netns exec`) and load the preload; each reads its own offset file.
  process.env.NODE_OPTIONS = `${saved.NODE_OPTIONS ?? ''} --import=${pathToFileURL(PRELOAD).href}`.trim();
  process.env.HANET_TEST_CLOCK_DIR = dir;
  try {
    await withCluster(t, { name: 'sclk', topology: 'pair' }, async (lab, c) => {
      await lab.fail('a:eth0', 'carrier');
      await c.waitFor('a', (s) => s.claims.some((x) => x.acked), { what: 'a takeover by b' });
      for (const [node, offset] of [['a', 40_000], ['a', -40_000], ['b', 40_000], ['b', -40_000]] as const) {
        writeFileSync(join(dir, `${node}.offset`), String(offset));
        await holds(c, 1000, `${node}'s clock stepped ${offset > 0 ? '+' : ''}${offset / 1000} s`);
        writeFileSync(join(dir, `${node}.offset`), '0');
      }
      assert.equal(await lab.probe('c', '10.0.0.11', { timeoutMs: 3000 }), true, 'c reaches a through b');
    });
  } finally {
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
    rmSync(dir, { recursive: true, force: true });
  }
});
