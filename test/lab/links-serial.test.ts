// Lab tests of the serial private link (pair-serial: a 115200-baud pseudo-terminal line between a and b, rate
// limited by the lab's relay): a takeover carried over the line, the line unplugged (USB adapter pulled out, and
// a silent RS232 cut) and plugged back: the link recovers by itself and the takeover resumes. Root needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withCluster } from './with-cluster.js';
import type { DaemonStatus } from '../../src/daemon/daemon.js';

const linkOf = (s: DaemonStatus) => s.links[0]!;
const serialStats = (s: DaemonStatus) => linkOf(s).stats!.serial!;
const served = (s: DaemonStatus) => s.claims.some((c) => c.acked);

test('serial link: takeover over the line; unplugged and plugged back, the link recovers and the takeover resumes', { timeout: 120_000 }, async (t) => {
  await withCluster(t, { name: 'sser', topology: 'pair-serial' }, async (lab, c) => {
    await c.waitFor('a', (s) => linkOf(s).alive, { what: 'the serial link alive' });
    const ip = await lab.exec('a', ['ip', '-o', 'addr', 'show', 'ser0'], { check: true });
    assert.match(ip.stdout, /inet 192\.168\.101\.1 peer 192\.168\.101\.2\/32/);
    assert.match((await lab.exec('a', ['ip', '-o', 'link', 'show', 'ser0'], { check: true })).stdout, /mtu 576 /);

    await lab.fail('a:eth0', 'carrier');
    await c.waitFor('a', served, { what: 'takeover over the serial line' });
    assert.equal(await lab.probe('c', '10.0.0.11', { timeoutMs: 3000 }), true, 'c reaches a through b and the line');

    // USB adapter pulled out: the tty hangs up, the TUN loses carrier at once, the helper lets go.
    await lab.unplug('a:ser0', 'hangup');
    await c.waitFor('a', (s) => !serialStats(s).lineUp && !linkOf(s).carrierUp && !served(s), { what: 'line lost, carrier down, not served' });
    await c.waitFor('b', (s) => s.helping.every((h) => h.lingering), { what: 'b stops helping' });
    await lab.plug('a:ser0');
    await c.waitFor('a', (s) => serialStats(s).lineUp && linkOf(s).alive && served(s), { timeoutMs: 15_000, what: 'line reopened and takeover resumed' });
    assert.equal(await lab.probe('c', '10.0.0.11', { timeoutMs: 3000 }), true, 'served again after the replug');
    const st = serialStats(await c.status('a'));
    assert.ok(st.opens >= 2 && st.hangups >= 1, JSON.stringify(st));

    // RS232 cable pulled: no error on the tty, the heartbeats stop (a keeps its claim: a silent helper may only be
    // restarting), b's lease runs out; plugged back, the heartbeats renew the claim and b helps again.
    await lab.unplug('a:ser0', 'silent');
    await c.waitFor('a', (s) => !linkOf(s).alive, { what: 'heartbeat timeout on a silent line' });
    await c.waitFor('b', (s) => s.helping.every((h) => h.lingering), { timeoutMs: 15_000, what: 'b\'s lease expired' });
    await lab.plug('a:ser0');
    await c.waitFor('a', (s) => linkOf(s).alive && served(s), { timeoutMs: 15_000, what: 'link alive again after the silent cut' });
    await c.waitFor('b', (s) => s.helping.some((h) => !h.lingering), { timeoutMs: 15_000, what: 'b helps again' });
    assert.equal(await lab.probe('c', '10.0.0.11', { timeoutMs: 3000 }), true, 'served again after the silent cut');

    await lab.heal('a:eth0');
    await c.waitFor('a', (s) => s.claims.length === 0 && s.publics.every((p) => p.placement.kind === 'own'), { what: 'failback' });
  });
});
