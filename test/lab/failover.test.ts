// Lab tests of the core promise on the real kernel: a's public port fails under load, b takes over its packet
// transmission over the private link, and no request, connection or byte is lost. Root needed (namespaces).
// The failure cases are the suite shared with the IPv6 variants (failover-suite.ts); lease expiry and forged
// messages are here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ControlSender, deriveControlKey, newSessionId, NO_NONCE } from '../../src/proto/control.js';
import { sendUdpIn } from './security-tools.js';
import { parseKey } from '../../src/config/load.js';
import { failoverSuite, hanetRoutes, IPV4, proxiesOf, tookOver, withCluster } from './failover-suite.js';

failoverSuite(IPV4);

test('owner daemon dead during a takeover: the helper lease expires and it stops answering for the address', async (t) => {
  await withCluster(t, 'llease', 'pair', async (lab, c) => {
    await lab.fail('a:eth0', 'carrier');
    await tookOver(c);
    assert.match(await proxiesOf(lab, 'b'), /10\.0\.0\.11/);
    assert.equal(await lab.probe('r', '10.0.0.11', { port: 9, timeoutMs: 1000 }), true, 'a reachable through b');
    const killedAt = Date.now();
    await c.kill('a', 'SIGKILL');
    await c.waitFor('b', (s) => s.helping.length === 0 && s.events.some((e) => e.type === 'lease-expired'), { timeoutMs: 5000, what: 'lease expiry' });
    const after = Date.now() - killedAt;
    assert.ok(after >= 900, `released after the 1 s lease, not before (${after} ms)`);
    assert.equal(await proxiesOf(lab, 'b'), '');
    assert.equal(await hanetRoutes(lab, 'b'), 'default via 10.0.0.1 dev eth0 metric 4242');
    // Through b's proxy entry the router reached a (a TCP connect to a closed port is refused by a: reachable);
    // with the lease gone and a still cut, nobody answers for 10.0.0.11 any more.
    await lab.exec('r', ['ip', 'neigh', 'flush', 'dev', 'eth1'], { check: true });
    assert.equal(await lab.probe('r', '10.0.0.11', { port: 9, timeoutMs: 1000 }), false, 'nobody answers for 10.0.0.11');
  }, { common: { takeover: { lease_ms: 1000 } } });
});

test('forged and replayed control messages are rejected and change nothing', async (t) => {
  await withCluster(t, 'lauth', 'pair', async (lab, c) => {
    const realKey = deriveControlKey(parseKey(readFileSync(`${c.dir}/cluster.key`)).key);
    const wrongKey = deriveControlKey(Buffer.alloc(32, 7));
    const forger = new ControlSender({ node: 'a', key: wrongKey });
    const genuine = new ControlSender({ node: 'a', key: realKey });
    // A takeover request from "a" made with the wrong key, and a genuine (harmless) message sent twice.
    // The attacker's binding: a fresh nonce, and no nonce of b's (it cannot know b's live one).
    const binding = { nonce: newSessionId(), echo: NO_NONCE };
    const forged = forger.encode('b', { type: 'takeover', claimId: 'forged-1', lan: 'sw', addresses: ['10.0.0.11'], ownerLinkAddress: '192.168.100.1', leaseMs: 60000 }, binding).bytes;
    const once = genuine.encode('b', { type: 'release-ack', claimId: 'nothing' }, binding).bytes;
    // From a's address and port (spoofed with a raw socket: b's socket is connected to a's and drops anything else).
    await sendUdpIn(lab, 'a', { src: '192.168.100.1', sport: 7431, dst: '192.168.100.2', dport: 7431, payloads: [forged, once, once, Buffer.from('deadbeef', 'hex')] });
    // The genuine message is refused either way: it names no nonce of b's ('unbound'), or a stale one, or is a replay.
    const replays = (s: { rejected: Record<string, number> }) => (s.rejected['replay'] ?? 0) + (s.rejected['stale-session'] ?? 0) + (s.rejected['unbound'] ?? 0);
    const st = await c.waitFor('b', (s) => (s.rejected['bad-mac'] ?? 0) >= 1 && replays(s) >= 1, { what: 'rejections counted' });
    assert.ok((st.rejected['truncated'] ?? 0) + (st.rejected['bad-magic'] ?? 0) >= 1, `garbage counted: ${JSON.stringify(st.rejected)}`);
    assert.equal(st.helping.length, 0, 'the forged takeover changed nothing');
    assert.equal(await proxiesOf(lab, 'b'), '');
  });
});
