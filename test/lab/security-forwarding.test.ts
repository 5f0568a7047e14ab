// Forwarding only for takeovers (issue #11): a host on the public LAN that routes through a server must not reach
// the private network, before, during or after a takeover; only the owner's claimed address crosses, while it is
// claimed. The router r of the `pair` lab plays the LAN host (it sits on the public LAN at 10.0.0.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withCluster } from './with-cluster.js';

const hanetRules = async (lab: Parameters<Parameters<typeof withCluster>[2]>[0], node: string): Promise<string> =>
  (await lab.exec(node, ['ip', 'rule', 'show'], { check: false })).stdout.split('\n').filter((l) => l.includes('proto 78')).join('\n');

test('a LAN host routing through a server reaches neither peer\'s private address, before, during or after a takeover', { timeout: 60_000 }, async (t) => {
  await withCluster(t, { name: 'sfwd', topology: 'pair' }, async (lab, c) => {
    await c.waitFor('a', (s) => s.ready && s.links.every((l) => l.alive), { what: 'cluster ready' });
    // The attack: the LAN host routes the private network through a server (a reached host answers a TCP connect
    // to the discard port with RST: reachable).
    await lab.exec('r', ['ip', 'route', 'replace', '192.168.100.2/32', 'via', '10.0.0.11'], { check: true });
    await lab.exec('r', ['ip', 'route', 'replace', '192.168.100.1/32', 'via', '10.0.0.12'], { check: true });
    assert.equal(await lab.probe('r', '192.168.100.2', { timeoutMs: 700 }), false, "b's private address through a, at rest");
    assert.equal(await lab.probe('r', '192.168.100.1', { timeoutMs: 700 }), false, "a's private address through b, at rest");

    await lab.fail('a:eth0', 'carrier');
    await c.waitFor('a', (s) => s.claims.some((x) => x.acked), { what: 'takeover acknowledged' });
    assert.equal(await lab.probe('r', '10.0.0.11', { timeoutMs: 1000 }), true, "a's service address is carried through b");
    assert.equal(await lab.probe('r', '192.168.100.1', { timeoutMs: 700 }), false, "a's private address through b, during b's takeover");
    assert.match(await hanetRules(lab, 'b'), /to 10\.0\.0\.11 iif eth0 lookup main/);

    await lab.heal('a:eth0');
    await c.waitFor('b', (s) => s.helping.length === 0, { timeoutMs: 15_000, what: 'b let go after the linger' });
    assert.doesNotMatch(await hanetRules(lab, 'b'), /10\.0\.0\.11/, 'the claim\'s forwarding ends with it');
    assert.equal(await lab.probe('r', '192.168.100.2', { timeoutMs: 700 }), false, "b's private address through a, after");
    const global = (await lab.exec('b', ['sysctl', '-n', 'net.ipv4.ip_forward'], { check: true })).stdout.trim();
    assert.equal(global, '0', 'forwarding is never switched on globally');

    await c.stop();
    assert.equal(await hanetRules(lab, 'b'), '', 'no rule left after a clean stop');
  });
});
