// Tests of UdpControlLink on 127.0.0.1: two links exchange messages; forged, replayed and misaddressed
// datagrams from a raw socket are counted as rejected and never delivered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { ControlSender, deriveControlKey } from '../../src/proto/control.js';
import type { PeerMessage } from '../../src/core/messages.js';
import { ReplayGuard } from '../../src/proto/replay.js';
import { UdpControlLink } from '../../src/links/udp-control.js';
import type { ReceivedMessage, RejectEvent } from '../../src/links/types.js';
import { isHanetError } from '../../src/errors.js';
import { waitFor } from '../helpers.js';

const key = deriveControlKey(Buffer.alloc(32, 7));

async function freePorts(n: number): Promise<number[]> {
  const socks = await Promise.all(Array.from({ length: n }, () => new Promise<ReturnType<typeof createSocket>>((resolve) => {
    const s = createSocket('udp4');
    s.bind(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = socks.map((s) => s.address().port);
  await Promise.all(socks.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

async function pair(signal?: AbortSignal) {
  const [pa, pb] = await freePorts(2) as [number, number];
  const common = { key, localAddress: '127.0.0.1', peerAddress: '127.0.0.1', ...(signal ? { signal } : {}) };
  const a = await UdpControlLink.open({ ...common, name: 'ab', peer: 'b', sender: new ControlSender({ node: 'a', key }), guard: new ReplayGuard(), localPort: pa, peerPort: pb });
  const b = await UdpControlLink.open({ ...common, name: 'ba', peer: 'a', sender: new ControlSender({ node: 'b', key }), guard: new ReplayGuard(), localPort: pb, peerPort: pa });
  return { a, b, pa, pb };
}

const hb: PeerMessage = { type: 'heartbeat', lans: { lan0: { healthy: true } }, canHelp: true, helping: [], claims: [] };

async function rawSend(bytes: Buffer, port: number): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => s.send(bytes, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  await new Promise<void>((r) => s.close(() => r()));
}

test('two links exchange messages both ways', async () => {
  const { a, b } = await pair();
  try {
    const atB: ReceivedMessage[] = [];
    const atA: ReceivedMessage[] = [];
    b.onMessage((m) => atB.push(m));
    a.onMessage((m) => atA.push(m));
    a.send(hb);
    a.send({ type: 'takeover', claimId: 'a-1', lan: 'lan0', addresses: ['10.0.0.11/24'], ownerLinkAddress: '192.168.100.1', leaseMs: 3000 });
    await waitFor(() => atB.length === 2, { what: 'two messages at b' });
    b.send({ type: 'takeover-ack', claimId: 'a-1', ok: true });
    await waitFor(() => atA.length === 1, { what: 'the ack at a' });

    assert.deepEqual(atB.map((m) => m.message.type).sort(), ['heartbeat', 'takeover']);
    assert.equal(atB[0]!.envelope.sender, 'a');
    assert.equal(atB[0]!.link, 'ba');
    assert.ok(atB[0]!.receivedAt > 0);
    assert.deepEqual(atA[0]!.message, { type: 'takeover-ack', claimId: 'a-1', ok: true });
    await waitFor(() => a.stats().sent === 2, { what: 'send callbacks' });
    assert.equal(b.stats().received, 2);
    assert.equal(Object.values(b.stats().rejected).reduce((x, y) => x + y, 0), 0);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('forged, replayed, misaddressed and foreign datagrams are rejected and counted', async () => {
  const { a, b, pb } = await pair();
  try {
    const got: ReceivedMessage[] = [];
    const rejects: RejectEvent[] = [];
    b.onMessage((m) => got.push(m));
    b.onReject((r) => rejects.push(r));

    // forged: right format, wrong key
    const forger = new ControlSender({ node: 'a', key: deriveControlKey(Buffer.alloc(32, 9)) });
    await rawSend(forger.encode('b', hb).bytes, pb);
    // garbage
    await rawSend(Buffer.from('hello'), pb);
    // a genuine message (as if captured from the wire), sent twice: accepted once, then a replay
    const attackerCopy = new ControlSender({ node: 'a', key });
    const genuine = attackerCopy.encode('b', hb).bytes;
    await rawSend(genuine, pb);
    await waitFor(() => got.length === 1, { what: 'the genuine message' });
    await rawSend(genuine, pb);
    // authenticated, but addressed to another node, or from a node that is not this link's peer
    await rawSend(attackerCopy.encode('c', hb).bytes, pb);
    await rawSend(new ControlSender({ node: 'c', key }).encode('b', hb).bytes, pb);

    await waitFor(() => rejects.length === 5, { what: 'five rejections' });
    assert.deepEqual(rejects.map((r) => r.reason).sort(), ['bad-mac', 'bad-magic', 'replay', 'unexpected-sender', 'wrong-recipient']);
    assert.equal(got.length, 1);
    const st = b.stats();
    assert.equal(st.received, 1);
    assert.equal(st.rejected['bad-mac'], 1);
    assert.equal(st.rejected.replay, 1);
    assert.equal(st.rejected['unexpected-sender'], 1);
    assert.match(rejects[0]!.from, /^127\.0\.0\.1:\d+$/);
    assert.equal(rejects.find((r) => r.reason === 'replay')?.sender, 'a');
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('send after close is counted, not thrown; close is idempotent', async () => {
  const { a, b } = await pair();
  await a.close();
  await a.close();
  a.send(hb);
  assert.equal(a.stats().sendErrors, 1);
  assert.equal(a.stats().lastSendError, 'link closed');
  assert.throws(() => a.send({ type: 'release', claimId: '' }), (e) => isHanetError(e, 'HANET_ERR_PROTOCOL'));
  await b.close();
});

test('abort signal: aborting closes the link; an aborted signal fails open()', async () => {
  const ac = new AbortController();
  const { a, b } = await pair(ac.signal);
  ac.abort();
  await waitFor(() => { a.send(hb); return a.stats().lastSendError === 'link closed'; }, { what: 'link closed by abort' });
  await Promise.all([a.close(), b.close()]);

  const [p] = await freePorts(1) as [number];
  await assert.rejects(
    UdpControlLink.open({ name: 'x', peer: 'b', key, sender: new ControlSender({ node: 'a', key }), guard: new ReplayGuard(), localAddress: '127.0.0.1', peerAddress: '127.0.0.1', port: p, signal: AbortSignal.abort() }),
    (e) => isHanetError(e, 'HANET_ERR_ABORTED'),
  );
});

test('binding an address the host does not have fails with HANET_ERR_SOCKET', async () => {
  await assert.rejects(
    UdpControlLink.open({ name: 'x', peer: 'b', key, sender: new ControlSender({ node: 'a', key }), guard: new ReplayGuard(), localAddress: '192.0.2.77', peerAddress: '127.0.0.1', port: 0 }),
    (e) => isHanetError(e, 'HANET_ERR_SOCKET'),
  );
});
