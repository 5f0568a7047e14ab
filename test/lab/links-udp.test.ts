// Lab tests of the udp private link (pair-udp: the private network routed a - r2 - b, an authenticated UDP tunnel
// between the daemons): a takeover over the tunnel, and forged or garbage datagrams dropped and counted while the
// link stays up. Root needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withCluster } from './with-cluster.js';
import type { DaemonStatus } from '../../src/daemon/daemon.js';
import { sendUdpIn } from './security-tools.js';

const udpStats = (s: DaemonStatus) => s.links[0]!.stats!.udp!;

// Datagrams to b's tunnel socket: garbage, a data header of a session b never adopted, a short one, control garbage.
const FORGED = [Buffer.from('hello'), Buffer.concat([Buffer.from([1]), Buffer.alloc(60, 7)]), Buffer.from([1, 2, 3]), Buffer.concat([Buffer.from([2]), Buffer.from('HNT not a message')])];

test('udp link: takeover through the routed tunnel; forged datagrams are dropped and counted', { timeout: 120_000 }, async (t) => {
  await withCluster(t, { name: 'sudp', topology: 'pair-udp' }, async (lab, c) => {
    await c.waitFor('a', (s) => s.links[0]!.alive, { what: 'the udp link alive' });
    assert.match((await lab.exec('a', ['ip', '-o', 'addr', 'show', 'udp0'], { check: true })).stdout, /inet 192\.168\.102\.1 peer 192\.168\.102\.2\/32/);
    assert.match((await lab.exec('a', ['ip', '-o', 'link', 'show', 'udp0'], { check: true })).stdout, /mtu 1420 /);

    await lab.fail('a:eth0', 'carrier');
    await c.waitFor('a', (s) => s.claims.some((x) => x.acked), { what: 'takeover over the udp link' });
    assert.equal(await lab.probe('c', '10.0.0.11', { timeoutMs: 3000 }), true, 'c reaches a through b and the tunnel');

    const before = udpStats(await c.status('b')).dropped;
    // From a's underlay address and port (spoofed with a raw socket: b's socket is connected to a's, bound to eth1).
    await sendUdpIn(lab, 'a', { src: '192.168.100.1', sport: 7432, dst: '192.168.100.6', dport: 7432, payloads: FORGED });
    const after = await c.waitFor('b', (s) => udpStats(s).dropped['stale-session']! > before['stale-session']! && udpStats(s).dropped['bad-type']! > before['bad-type']!, { what: 'forged datagrams counted' });
    const d = udpStats(after).dropped;
    assert.ok(d.truncated! > before.truncated!, JSON.stringify(d));
    assert.equal(after.rejected['bad-version'], 1, `the control-typed garbage was rejected by the control codec: ${JSON.stringify(after.rejected)}`);
    assert.ok(after.links[0]!.alive, 'the link stays up');
    assert.equal(await lab.probe('c', '10.0.0.11', { timeoutMs: 3000 }), true, 'still served');

    await lab.heal('a:eth0');
    await c.waitFor('a', (s) => s.claims.length === 0 && s.publics.every((p) => p.placement.kind === 'own'), { what: 'failback' });
  });
});
