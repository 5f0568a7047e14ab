// Lab tests of replay protection (issue #11), as an attacker with a tap on the private link would try it:
//  - control: capture a's control messages to b on the wire, stop a, restart b, play them back into b: refused;
//  - udp tunnel: capture a's data packets in 5 sessions of a (5 restarts), then play all of them back from the
//    routed private network (the router r2): none is accepted.
// Root needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withCluster } from './with-cluster.js';
import { captureIn, injectIn } from './security-tools.js';
import type { DaemonStatus } from '../../src/daemon/daemon.js';

const sum = (r: Record<string, number> | undefined): number => Object.values(r ?? {}).reduce((x, y) => x + y, 0);

test('control messages captured on the private link are refused by a restarted receiver', { timeout: 120_000 }, async (t) => {
  await withCluster(t, { name: 'srplc', topology: 'pair' }, async (lab, c) => {
    const dir = mkdtempSync(join(tmpdir(), 'hanet-replay-'));
    try {
      await c.waitFor('b', (s) => s.links[0]!.alive, { what: 'the link alive' });
      // A takeover, so that the capture holds takeover requests and heartbeats carrying claims, not only idle ones.
      await lab.fail('a:eth0', 'carrier');
      await c.waitFor('a', (s) => s.claims.some((x) => x.acked), { what: 'a takeover by b' });
      const file = join(dir, 'control.hex');
      const n = await captureIn(lab, 'b', { iface: 'eth1', port: 7431, count: 50, timeoutMs: 10_000, out: file });
      assert.equal(n, 50, 'captured 50 control messages from a');

      await c.kill('a', 'SIGKILL'); // the sender is gone: nothing but the replay reaches b
      await c.kill('b');
      await c.start('b');
      const before = await c.status('b');
      assert.equal(before.helping.length, 0, 'the restarted b helps nobody');
      const sent = await injectIn(lab, 'a', 'eth1', file);
      assert.equal(sent, 50);
      // Every replayed message reaches b's link and is refused (counted), none is accepted.
      const after = await c.waitFor('b', (s) => sum(s.links[0]!.stats!.rejected) + s.links[0]!.stats!.received >= sum(before.links[0]!.stats!.rejected) + before.links[0]!.stats!.received + 50,
        { what: 'the 50 replayed messages counted at b' });
      const st = after.links[0]!.stats!;
      assert.equal(st.received - before.links[0]!.stats!.received, 0, `b accepted replayed messages: ${JSON.stringify(st)}`);
      assert.equal(sum(st.rejected) - sum(before.links[0]!.stats!.rejected), 50, JSON.stringify(st.rejected));
      assert.equal(after.helping.length, 0, 'the replayed takeover changed nothing');
      assert.ok(!after.links[0]!.alive, 'the replay does not make a look alive');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const udp = (s: DaemonStatus) => s.links[0]!.stats!.udp!;

/** Sends UDP datagrams from a to the discard port of b's tunnel address, every 10 ms for `ms`: tunnel data packets. */
const TRAFFIC = `
const s = require('node:dgram').createSocket('udp4');
const t = setInterval(() => s.send(Buffer.alloc(64, 0x61), 9, '192.168.102.2', () => {}), 10);
setTimeout(() => { clearInterval(t); s.close(); }, Number(process.argv[1]));
`;

test('udp tunnel: data packets of 5 earlier sessions, replayed after the sessions cycled, are all refused', { timeout: 180_000 }, async (t) => {
  await withCluster(t, { name: 'srplu', topology: 'pair-udp' }, async (lab, c) => {
    const dir = mkdtempSync(join(tmpdir(), 'hanet-replay-'));
    try {
      const files: string[] = [];
      for (let i = 0; i < 5; i++) {
        await c.waitFor('a', (s) => s.links[0]!.alive, { what: `the link alive (session ${i + 1})` });
        const file = join(dir, `data-${i}.hex`);
        const traffic = lab.exec('a', [process.execPath, '-e', TRAFFIC, '1500'], { timeoutMs: 10_000 });
        // Data packets (type 01) a sends to b, seen arriving at b: what a tap on the routed network would record.
        const n = await captureIn(lab, 'b', { iface: 'eth1', port: 7432, count: 10, timeoutMs: 5000, out: file, firstByte: 0x01 });
        await traffic;
        assert.equal(n, 10, `captured 10 data packets of session ${i + 1}`);
        files.push(file);
        await c.kill('a');
        await c.start('a'); // a new tunnel session
      }
      await c.waitFor('b', (s) => s.links[0]!.alive, { what: 'the link alive' });
      const before = await c.status('b');
      // The router r2 on the private network plays all 50 back to b, oldest session first.
      for (const f of files) assert.equal(await injectIn(lab, 'r2', 'eth1', f), 10);
      const after = await c.waitFor('b', (s) => udp(s).rxPackets >= udp(before).rxPackets + 50, { what: 'the 50 replayed packets at b' });
      const accepted = udp(after).tun.txPackets - udp(before).tun.txPackets;
      const refused = sum(udp(after).dropped) - sum(udp(before).dropped);
      assert.equal(accepted, 0, `b wrote ${accepted} replayed packets to its TUN: ${JSON.stringify(udp(after).dropped)}`);
      assert.equal(refused, 50, `all 50 refused: ${JSON.stringify(udp(after).dropped)}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
