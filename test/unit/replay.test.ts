// Tests of the ReplayGuard (session binding, src/proto/replay.ts): the handshake after a start or restart of
// either end, captured messages refused by a restarted receiver, old sessions of a restarted sender never adopted
// again, held-back messages refused once their nonce expired, recovery after a long outage, the sequence window,
// and a model check of random restarts, losses and replays. No wall clock anywhere: time is the receiver's own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { NO_NONCE, newSessionId } from '../../src/proto/control.js';
import { ReplayGuard, type ReplayInput } from '../../src/proto/replay.js';

const verdict = (v: { ok: boolean; reason?: string }): string => (v.ok ? 'ok' : v.reason!);

/** A daemon as the guard sees it: a session, a sequence counter, and its guard; restart() makes a new incarnation. */
class Node {
  guard!: ReplayGuard;
  session!: string;
  seq = 0n;
  incarnation = -1;
  constructor(readonly name: string, readonly clock: { t: number }, readonly rotateMs = 10_000) { this.restart(); }
  restart(): void {
    this.guard = new ReplayGuard({ now: () => this.clock.t, rotateMs: this.rotateMs });
    this.session = newSessionId();
    this.seq = 0n;
    this.incarnation++;
  }
  /** The header of our next message to `to` (what the wire carries for the guard). */
  send(to: Node): ReplayInput & { from: Node; to: Node; fromInc: number; toInc: number } {
    const b = this.guard.binding(to.name);
    return { sender: this.name, session: this.session, nonce: b.nonce, echo: b.echo, seq: ++this.seq, from: this, to, fromInc: this.incarnation, toInc: to.incarnation };
  }
}
const deliver = (m: ReturnType<Node['send']>): string => verdict(m.to.guard.admit(m));

function pair(rotateMs = 10_000) {
  const clock = { t: 1000 };
  return { clock, a: new Node('a', clock, rotateMs), b: new Node('b', clock, rotateMs) };
}

/** Alternate messages a -> b, b -> a until both accepted one; returns how many each sent. */
function handshake(x: Node, y: Node): { x: number; y: number } {
  let nx = 0;
  let ny = 0;
  let okX = false;
  let okY = false;
  for (let i = 0; i < 10 && !(okX && okY); i++) {
    nx++; if (deliver(x.send(y)) === 'ok') okX = true;
    ny++; if (deliver(y.send(x)) === 'ok') okY = true;
  }
  assert.ok(okX && okY, 'handshake completed');
  return { x: nx, y: ny };
}

test('cold start: the first message is refused (unbound); from the reply on, both ways flow', () => {
  const { a, b } = pair();
  assert.equal(deliver(a.send(b)), 'unbound', 'b has not issued a nonce to a yet');
  assert.equal(deliver(b.send(a)), 'ok', 'b learned a\'s nonce from the refused message');
  for (let i = 0; i < 20; i++) {
    assert.equal(deliver(a.send(b)), 'ok');
    assert.equal(deliver(b.send(a)), 'ok');
  }
  assert.deepEqual(a.guard.stats(), { peers: 1, adopted: 1 });
  assert.equal(a.guard.adoptedSession('b'), b.session);
  assert.equal(b.guard.adoptedSession('a'), a.session);
});

test('a restarted sender is accepted after one message of the receiver (about one heartbeat)', () => {
  const { a, b } = pair();
  handshake(a, b);
  b.restart();
  // b's first message names no nonce of a's; a's next message teaches b a's nonce; b's second is accepted.
  assert.equal(deliver(b.send(a)), 'unbound');
  assert.equal(deliver(a.send(b)), 'stale-session', 'a still names the dead b');
  assert.equal(deliver(b.send(a)), 'ok');
  assert.equal(deliver(a.send(b)), 'ok', 'and a is accepted by b at its next message');
  for (let i = 0; i < 5; i++) { assert.equal(deliver(a.send(b)), 'ok'); assert.equal(deliver(b.send(a)), 'ok'); }
});

test('a restarted receiver refuses every message captured before its restart, also once its peer talks to it again', () => {
  const { a, b } = pair();
  handshake(a, b);
  const captured = Array.from({ length: 100 }, () => a.send(b));
  for (const m of captured.slice(0, 50)) assert.equal(deliver(m), 'ok'); // half delivered, half only captured
  b.restart();
  for (const m of captured) assert.equal(deliver(m), 'stale-session', `seq ${m.seq}`);
  handshake(a, b);
  for (const m of captured) assert.notEqual(deliver(m), 'ok', `seq ${m.seq} after the new handshake`);
  assert.equal(deliver(a.send(b)), 'ok', 'the live session still flows');
});

test('a restarted sender: messages of its earlier session are never accepted again, even those never delivered', () => {
  const { a, b } = pair();
  handshake(a, b);
  const held = Array.from({ length: 30 }, () => a.send(b)); // an attacker holds these back
  a.restart();
  handshake(a, b);
  for (const m of held) assert.equal(deliver(m), 'stale-session', `seq ${m.seq}`);
  // ...and they cannot be made current by first replaying other old material.
  a.restart();
  handshake(a, b);
  for (const m of held) assert.equal(deliver(m), 'stale-session');
  assert.equal(deliver(a.send(b)), 'ok');
});

test('held-back messages of the live session: accepted once while their nonce is valid, refused after 2 rotations', () => {
  const { clock, a, b } = pair(1000);
  handshake(a, b);
  const early = a.send(b);
  const late = a.send(b);
  const later = a.send(b);
  clock.t += 500;
  assert.equal(deliver(early), 'ok', 'delayed, not replayed: accepted');
  assert.equal(deliver(early), 'replay');
  // keep the exchange going while time passes: b rotates its nonce every second
  for (let i = 0; i < 30; i++) { clock.t += 100; deliver(a.send(b)); deliver(b.send(a)); }
  assert.equal(deliver(late), 'stale-session', 'its nonce is 2 rotations old');
  assert.equal(deliver(later), 'stale-session');
  assert.equal(deliver(a.send(b)), 'ok');
});

test('after an outage longer than two maximum nonce ages, the first message teaches its nonce and the reply flows', () => {
  const { clock, a, b } = pair(1000); // maxNonceAgeMs 10 s
  handshake(a, b);
  clock.t += 25_000; // both rotated past anything the other knows
  assert.equal(deliver(a.send(b)), 'stale-session', 'a names a nonce b forgot; b learns a\'s current one from it');
  assert.equal(deliver(b.send(a)), 'ok', 'so b names a\'s current nonce, and a learns b\'s');
  assert.equal(deliver(a.send(b)), 'ok');
  assert.equal(deliver(b.send(a)), 'ok');
});

test('nonces rotate on the receiver\'s clock; in-flight messages naming the previous nonce are accepted', () => {
  const { clock, a, b } = pair(1000);
  handshake(a, b);
  assert.equal(deliver(b.send(a)), 'ok');
  assert.equal(deliver(a.send(b)), 'ok', "a names b's current nonce: b may rotate it");
  const n1 = b.guard.binding('a').nonce;
  const inFlight = a.send(b);
  clock.t += 1000;
  const n2 = b.guard.binding('a').nonce;
  assert.notEqual(n1, n2);
  assert.equal(deliver(inFlight), 'ok', 'names the previous nonce');
  assert.equal(deliver(b.send(a)), 'ok');
  const m = a.send(b);
  assert.equal(m.echo, n2, 'a learned the new nonce from b\'s message');
  assert.equal(deliver(m), 'ok');
});

test('a slow link (heartbeats far apart compared with the rotation) is never refused: a nonce the peer has not named yet is not rotated away', () => {
  const { clock, a, b } = pair(1000); // rotate after 1 s, but heartbeats every 6 s (at 9600 baud they are 2.7 s apart)
  handshake(a, b);
  // Each side sends more often than it hears from the other (e.g. one direction's heartbeats are lost for a while).
  for (let i = 0; i < 30; i++) {
    for (let k = 0; k < 3; k++) { clock.t += 6000; assert.equal(deliver(a.send(b)), 'ok', `a's heartbeat ${i}.${k}`); }
    for (let k = 0; k < 3; k++) { clock.t += 6000; assert.equal(deliver(b.send(a)), 'ok', `b's heartbeat ${i}.${k}`); }
  }
});

test('a nonce the peer never names is still replaced after maxNonceAgeMs', () => {
  const clock = { t: 0 };
  const g = new ReplayGuard({ now: () => clock.t, rotateMs: 1000, maxNonceAgeMs: 5000 });
  const n1 = g.binding('x').nonce;
  clock.t = 4999;
  assert.equal(g.binding('x').nonce, n1, 'not named, younger than the maximum age: kept');
  clock.t = 5000;
  assert.notEqual(g.binding('x').nonce, n1);
});

test('replays and reordering within the adopted session: the 64-entry window', () => {
  const { a, b } = pair();
  handshake(a, b);
  const ms = Array.from({ length: 200 }, () => a.send(b));
  assert.equal(deliver(ms[99]!), 'ok');
  assert.equal(deliver(ms[98]!), 'ok');
  assert.equal(deliver(ms[36]!), 'ok'); // 63 below the highest: last slot of the window
  assert.equal(deliver(ms[36]!), 'replay');
  assert.equal(deliver(ms[35]!), 'too-old');
  assert.equal(deliver(ms[98]!), 'replay');
  assert.equal(deliver(ms[199]!), 'ok'); // a jump past the window forgets the old bits
  assert.equal(deliver(ms[149]!), 'ok');
  assert.equal(deliver(ms[99]!), 'too-old');
});

test('check() changes no state; an unknown peer is refused', () => {
  const { a, b } = pair();
  handshake(a, b);
  const m = a.send(b);
  assert.equal(verdict(b.guard.check(m)), 'ok');
  assert.equal(verdict(b.guard.check(m)), 'ok');
  assert.equal(deliver(m), 'ok');
  assert.equal(verdict(b.guard.check(m)), 'replay');
  assert.equal(verdict(new ReplayGuard().check({ sender: 'x', session: newSessionId(), nonce: newSessionId(), echo: NO_NONCE, seq: 1n })), 'unbound');
});

test('peers are independent; memory is bounded by maxSenders', () => {
  const clock = { t: 0 };
  const g = new ReplayGuard({ now: () => clock.t, maxSenders: 4 });
  for (let i = 0; i < 10; i++) { clock.t++; g.binding(`n${i}`); }
  assert.equal(g.stats().peers, 4);
  const { a, b } = pair();
  const c = new Node('c', a.clock);
  handshake(a, b);
  assert.equal(deliver(c.send(b)), 'unbound', 'c is not bound by a\'s handshake');
  handshake(c, b);
  assert.equal(deliver(a.send(b)), 'ok');
});

test('model check: random restarts, losses, holds and replays never let a message be accepted twice, by a later incarnation of its recipient, or from an older session than one already adopted', () => {
  type Ev = { kind: 'send'; from: 0 | 1; fate: 'deliver' | 'drop' | 'hold' } | { kind: 'restart'; who: 0 | 1 } | { kind: 'replay'; pick: number } | { kind: 'time'; ms: number };
  const ev: fc.Arbitrary<Ev> = fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('send' as const), from: fc.constantFrom(0 as const, 1 as const), fate: fc.constantFrom('deliver' as const, 'deliver' as const, 'drop' as const, 'hold' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), who: fc.constantFrom(0 as const, 1 as const) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('replay' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('time' as const), ms: fc.integer({ min: 1, max: 400 }) }) },
  );
  fc.assert(fc.property(fc.array(ev, { minLength: 20, maxLength: 300, size: 'max' }), (events) => {
    const { clock, a, b } = pair(1000);
    const nodes = [a, b] as const;
    const all: Array<ReturnType<Node['send']>> = [];
    const accepted = new Set<ReturnType<Node['send']>>();
    /** Per receiver incarnation: the newest sender incarnation it accepted a message from. */
    const newestFrom = new Map<string, number>();
    const check = (m: ReturnType<Node['send']>): void => {
      if (deliver(m) !== 'ok') return;
      assert.ok(!accepted.has(m), 'accepted twice');
      assert.equal(m.toInc, m.to.incarnation, 'accepted by a later incarnation of its recipient');
      const key = `${m.to.name}/${m.to.incarnation}`;
      assert.ok(m.fromInc >= (newestFrom.get(key) ?? -1), 'accepted from an older session than one already adopted');
      newestFrom.set(key, m.fromInc);
      accepted.add(m);
    };
    for (const e of events) {
      if (e.kind === 'send') {
        const m = nodes[e.from].send(nodes[1 - e.from]!);
        all.push(m);
        if (e.fate === 'deliver') check(m);
      } else if (e.kind === 'restart') nodes[e.who].restart();
      else if (e.kind === 'replay') { if (all.length) check(all[e.pick % all.length]!); }
      else clock.t += e.ms;
    }
  }), { numRuns: 400 });
});
