// Tests of UdpControlLink on 127.0.0.1: two links do the session-binding handshake and exchange messages; the
// socket is not shareable and drops datagrams from any address but the peer's; forged, replayed, misaddressed
// and foreign messages are counted as rejected and never delivered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { ControlSender, deriveControlKey, newSessionId, NO_NONCE } from '../../src/proto/control.js';
import type { PeerMessage } from '../../src/core/messages.js';
import { ReplayGuard } from '../../src/proto/replay.js';
import { UdpControlLink } from '../../src/links/udp-control.js';
import { NUDGE_BURST } from '../../src/links/control-rx.js';
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
  const guards = { a: new ReplayGuard(), b: new ReplayGuard() };
  const senders = { a: new ControlSender({ node: 'a', key }), b: new ControlSender({ node: 'b', key }) };
  const a = await UdpControlLink.open({ ...common, name: 'ab', peer: 'b', sender: senders.a, guard: guards.a, localPort: pa, peerPort: pb });
  const b = await UdpControlLink.open({ ...common, name: 'ba', peer: 'a', sender: senders.b, guard: guards.b, localPort: pb, peerPort: pa });
  return { a, b, pa, pb, guards, senders };
}

const hb: PeerMessage = { type: 'heartbeat', lans: { lan0: { healthy: true } }, canHelp: true, helping: [], claims: [] };
/** A heartbeat told apart from the handshake's (whose answers may still be in flight when a test starts). */
const hb2: PeerMessage = { ...hb, canHelp: false };
const isHb2 = (m: ReceivedMessage): boolean => m.message.type === 'heartbeat' && !m.message.canHelp;

/** Heartbeats both ways until each end accepted one (the session-binding handshake). */
async function handshake(a: UdpControlLink, b: UdpControlLink): Promise<void> {
  await waitFor(() => {
    if (a.stats().received > 0 && b.stats().received > 0) return true;
    a.send(hb);
    b.send(hb);
    return false;
  }, { what: 'the handshake', intervalMs: 5 });
}

async function rawSend(bytes: Buffer, port: number): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((resolve, reject) => s.send(bytes, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
  await new Promise<void>((r) => s.close(() => r()));
}

test('two links do the handshake, then exchange messages both ways', async () => {
  const { a, b } = await pair();
  try {
    assert.ok(a.connected && b.connected, 'sockets connected to their peer');
    await handshake(a, b);
    const atB: ReceivedMessage[] = [];
    const atA: ReceivedMessage[] = [];
    b.onMessage((m) => { if (m.message.type !== 'heartbeat' || isHb2(m)) atB.push(m); });
    a.onMessage((m) => { if (m.message.type !== 'heartbeat') atA.push(m); });
    const rejected0 = Object.values(b.stats().rejected).reduce((x, y) => x + y, 0);
    a.send(hb2);
    a.send({ type: 'takeover', claimId: 'a-1', lan: 'lan0', addresses: ['10.0.0.11/24'], ownerLinkAddress: '192.168.100.1', leaseMs: 3000 });
    await waitFor(() => atB.length === 2, { what: 'two messages at b' });
    b.send({ type: 'takeover-ack', claimId: 'a-1', ok: true });
    await waitFor(() => atA.length === 1, { what: 'the ack at a' });

    assert.deepEqual(atB.map((m) => m.message.type).sort(), ['heartbeat', 'takeover']);
    assert.equal(atB[0]!.envelope.sender, 'a');
    assert.equal(atB[0]!.link, 'ba');
    assert.ok(atB[0]!.receivedAt > 0);
    assert.deepEqual(atA[0]!.message, { type: 'takeover-ack', claimId: 'a-1', ok: true });
    assert.equal(Object.values(b.stats().rejected).reduce((x, y) => x + y, 0), rejected0, 'nothing rejected after the handshake');
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('the port cannot be shared: another socket (with SO_REUSEADDR) cannot bind it', async () => {
  const { a, b, pb } = await pair();
  try {
    const thief = createSocket({ type: 'udp4', reuseAddr: true });
    const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      thief.once('error', (e) => resolve(e));
      thief.bind({ address: '127.0.0.1', port: pb }, () => resolve(undefined));
    });
    thief.close();
    assert.equal(err?.code, 'EADDRINUSE');
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('datagrams from any other address and port are dropped by the kernel (connected socket)', async () => {
  const { a, b, pb } = await pair();
  try {
    await handshake(a, b);
    const before = b.stats();
    for (let i = 0; i < 5; i++) await rawSend(Buffer.from('garbage from elsewhere'), pb);
    // The same link still gets its peer's messages, after those: if the garbage were delivered it came first.
    const got: ReceivedMessage[] = [];
    b.onMessage((m) => { if (isHb2(m)) got.push(m); });
    a.send(hb2);
    await waitFor(() => got.length === 1, { what: "the peer's message" });
    assert.deepEqual(b.stats().rejected, before.rejected, 'nothing from another port reached the link');
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('forged, replayed, stale, misaddressed and foreign messages are rejected and counted', async () => {
  const { a, b, guards, senders } = await pair();
  try {
    await handshake(a, b);
    const got: ReceivedMessage[] = [];
    const rejects: RejectEvent[] = [];
    b.onMessage((m) => got.push(m));
    b.onReject((r) => rejects.push(r));
    const from = '127.0.0.1:1';
    const st0 = b.stats();
    // Fed to the link as if they came from the peer's address (a connected socket lets nothing else in).
    const forger = new ControlSender({ node: 'a', key: deriveControlKey(Buffer.alloc(32, 9)) });
    b.receive(forger.encode('b', hb, guards.a.binding('b')).bytes, from); // wrong key: bad-mac
    b.receive(Buffer.from('hello'), from); // garbage
    // a genuine message of a's live session (as if captured from the wire), delivered twice: accepted once, then a replay
    const genuine = senders.a.encode('b', hb, guards.a.binding('b')).bytes;
    b.receive(genuine, from);
    b.receive(genuine, from);
    // authenticated, but naming no nonce of b's (a key holder's own session): not acted on
    const other = new ControlSender({ node: 'a', key });
    b.receive(other.encode('b', hb, { nonce: newSessionId(), echo: NO_NONCE }).bytes, from);
    // addressed to another node; from a node that is not this link's peer
    b.receive(other.encode('c', hb, guards.a.binding('c')).bytes, from);
    b.receive(new ControlSender({ node: 'c', key }).encode('b', hb, guards.a.binding('b')).bytes, from);

    assert.deepEqual(rejects.map((r) => r.reason).sort(), ['bad-mac', 'bad-magic', 'replay', 'unbound', 'unexpected-sender', 'wrong-recipient']);
    assert.equal(got.length, 1);
    const st = b.stats();
    const d = (r: keyof typeof st.rejected): number => st.rejected[r] - st0.rejected[r];
    assert.deepEqual([d('bad-mac'), d('replay'), d('unbound'), d('unexpected-sender'), st.received - st0.received], [1, 1, 1, 1, 1]);
    assert.equal(rejects[0]!.from, from);
    assert.equal(rejects.find((r) => r.reason === 'replay')?.sender, 'a');
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('messages captured before a restart of the receiver are refused by the new one', async () => {
  const { a, b, pa, pb, guards } = await pair();
  const captured: Buffer[] = [];
  try {
    await handshake(a, b);
    // What a tap would record: authenticated messages from a to b, naming b's live nonce.
    const aSender = new ControlSender({ node: 'a', key });
    for (let i = 0; i < 10; i++) captured.push(aSender.encode('b', hb, guards.a.binding('b')).bytes);
  } finally {
    await b.close();
  }
  // b restarts: a new guard and session.
  const b2 = await UdpControlLink.open({ key, name: 'ba', peer: 'a', sender: new ControlSender({ node: 'b', key }), guard: new ReplayGuard(), localAddress: '127.0.0.1', peerAddress: '127.0.0.1', localPort: pb, peerPort: pa });
  try {
    for (const c of captured) b2.receive(c, '127.0.0.1:1');
    assert.equal(b2.stats().received, 0);
    assert.equal(b2.stats().rejected['stale-session'], 10);
    await handshake(a, b2);
    const before = b2.stats().received;
    for (const c of captured) b2.receive(c, '127.0.0.1:1');
    assert.equal(b2.stats().received, before, 'nor after the new handshake');
  } finally {
    await Promise.all([a.close(), b2.close()]);
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

test('binding an address the host does not have, or to a missing interface, fails with HANET_ERR_SOCKET', async () => {
  await assert.rejects(
    UdpControlLink.open({ name: 'x', peer: 'b', key, sender: new ControlSender({ node: 'a', key }), guard: new ReplayGuard(), localAddress: '192.0.2.77', peerAddress: '127.0.0.1', port: 0 }),
    (e) => isHanetError(e, 'HANET_ERR_SOCKET'),
  );
  await assert.rejects(
    UdpControlLink.open({ name: 'x', peer: 'b', key, sender: new ControlSender({ node: 'a', key }), guard: new ReplayGuard(), localAddress: '127.0.0.1', peerAddress: '127.0.0.1', port: 0, device: 'hn-no-such0' }),
    (e) => isHanetError(e, 'HANET_ERR_SOCKET') && /hn-no-such0/.test((e as Error).message),
  );
});

test('a link whose peer was not there yet (ICMP port unreachable on the connected socket) receives once it is', async () => {
  const [pa, pb] = await freePorts(2) as [number, number];
  const common = { key, localAddress: '127.0.0.1', peerAddress: '127.0.0.1' };
  const a = await UdpControlLink.open({ ...common, name: 'ab', peer: 'b', sender: new ControlSender({ node: 'a', key }), guard: new ReplayGuard(), localPort: pa, peerPort: pb });
  let b: UdpControlLink | undefined;
  try {
    // Nobody listens on pb: the kernel answers port unreachable, a's socket gets a pending ECONNREFUSED (POLLERR).
    // (One send only: a further send would consume the pending error before poll() reports it.)
    a.send(hb);
    await waitFor(() => a.socketErrors > 0, { what: 'the socket error at a' });
    b = await UdpControlLink.open({ ...common, name: 'ba', peer: 'a', sender: new ControlSender({ node: 'b', key }), guard: new ReplayGuard(), localPort: pb, peerPort: pa });
    await handshake(a, b);
    assert.ok(a.stats().received > 0 && b.stats().received > 0);
  } finally {
    await Promise.all([a.close(), b?.close()]);
  }
});

test('handshake answers: one heartbeat each way completes the binding, without waiting for the next ones', async () => {
  const { a, b } = await pair();
  try {
    a.send(hb); // refused by b ('unbound'); b learns a's nonce but has no heartbeat of its own to answer with yet
    await waitFor(() => b.stats().rejected.unbound === 1, { what: "a's first heartbeat refused" });
    b.send(hb); // names a's nonce: a adopts b's session and answers at once; b adopts a's and answers
    await waitFor(() => a.stats().received >= 1 && b.stats().received >= 1, { what: 'both ends bound' });
    assert.ok((a.stats().handshakeAnswers ?? 0) >= 1);
    assert.equal(a.stats().sent, 1 + (a.stats().handshakeAnswers ?? 0), 'no other message was needed');
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test('handshake answers are rate-limited: a flood of replayed messages gets at most a burst of them', async () => {
  const { a, b, guards } = await pair();
  try {
    await handshake(a, b);
    const stale = new ControlSender({ node: 'a', key }).encode('b', hb, { nonce: newSessionId(), echo: guards.a.binding('b').nonce }).bytes;
    const before = b.stats();
    for (let i = 0; i < 200; i++) b.receive(stale, '127.0.0.1:1'); // synchronous: well within one window
    const after = b.stats();
    assert.equal(after.rejected['stale-session'] - before.rejected['stale-session'], 200);
    const answers = (after.handshakeAnswers ?? 0) - (before.handshakeAnswers ?? 0);
    assert.ok(answers >= 1 && answers <= NUDGE_BURST, `${answers} answers`);
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});
