// Lab tests of the private links' sockets (issue #11), for the control socket of an ethernet link (pair) and the
// tunnel socket of a udp link (pair-udp): a local unprivileged user (`nobody`) cannot take the port over; datagrams
// from the public LAN to the private address never reach the daemon, even with the peer's address and port
// spoofed; the socket bound to its interface survives the interface going down and up, also when the daemon
// started while it was down. Root needed.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { withCluster } from './with-cluster.js';
import { sendAsNobody, sendUdpIn, stealAsNobody, udpSnmp } from './security-tools.js';
import type { DaemonStatus } from '../../src/daemon/daemon.js';
import type { Cluster } from '../../src/lab/cluster.js';
import type { LabHandle } from '../../src/lab/lab.js';
import { waitFor } from '../helpers.js';

interface Setup {
  topology: string;
  lab: string;
  port: number;
  /** b's address on the link's network (the socket's address), a's, and that network (for the LAN router's route). */
  b: string;
  a: string;
  net: string;
}

const KINDS: Array<[string, Setup]> = [
  ['ethernet link (control socket)', { topology: 'pair', lab: 'ssoke', port: 7431, b: '192.168.100.2', a: '192.168.100.1', net: '192.168.100.0/30' }],
  ['udp link (tunnel socket)', { topology: 'pair-udp', lab: 'ssoku', port: 7432, b: '192.168.100.6', a: '192.168.100.1', net: '192.168.100.4/30' }],
];

/** Every datagram the link dropped or refused, whatever the reason (control codec, replay guard, tunnel). */
function dropped(s: DaemonStatus): number {
  const st = s.links[0]!.stats!;
  const sum = (r: Record<string, number> | undefined): number => Object.values(r ?? {}).reduce((x, y) => x + y, 0);
  return sum(st.rejected) + sum(st.udp?.dropped);
}

async function nobodyCannotSteal(lab: LabHandle, c: Cluster, k: Setup): Promise<void> {
  await c.waitFor('b', (s) => s.links[0]!.alive, { what: 'the link alive' });
  const before = await c.status('b');
  const tries = await stealAsNobody(lab, 'b', { address: k.b, port: k.port, device: 'eth1', ms: 1500 });
  const after = await c.status('b');
  const detail = JSON.stringify(tries);
  assert.equal(tries.length, 3, detail);
  for (const r of tries) assert.equal(r.received, 0, `nobody received the daemon's datagrams (${r.how}): ${detail}`);
  // Not just "received nothing": the port could not be shared at all.
  for (const r of tries) assert.deepEqual([r.bound, r.error], [false, 'EADDRINUSE'], `${r.how}: ${detail}`);
  assert.equal(after.eventCounts['peer-down'] ?? 0, before.eventCounts['peer-down'] ?? 0, 'b never lost its peer during the attack');
  assert.ok(after.links[0]!.alive, 'the link is alive');
  // And the daemon still gets its peer's heartbeats (50 a second).
  await c.waitFor('b', (s) => s.links[0]!.stats!.received >= after.links[0]!.stats!.received + 25, { what: 'heartbeats after the attack' });

  // Datagrams the local user sends to the port from the node itself arrive on lo, not on the link's interface:
  // the kernel finds no socket for them.
  const snmp0 = await udpSnmp(lab, 'b');
  const st0 = await c.status('b');
  await sendAsNobody(lab, 'b', { address: k.b, port: k.port, count: 10 });
  const snmp1 = await waitFor(async () => { const s = await udpSnmp(lab, 'b'); return s.NoPorts! - snmp0.NoPorts! >= 10 ? s : undefined; }, { what: 'the local datagrams dropped by the kernel' });
  assert.equal(snmp1!.NoPorts! - snmp0.NoPorts!, 10);
  assert.equal(dropped(await c.status('b')), dropped(st0), 'the daemon saw none of them');
}

async function lanCannotReach(lab: LabHandle, c: Cluster, k: Setup): Promise<void> {
  // The LAN's router r (any LAN host can do the same) routes the private network via b's public address.
  await lab.exec('r', ['ip', 'route', 'replace', k.net, 'via', '10.0.0.12'], { check: true });
  await c.waitFor('b', (s) => s.links[0]!.alive, { what: 'the link alive' });
  const snmp0 = await udpSnmp(lab, 'b');
  const st0 = await c.status('b');
  // Garbage a listening daemon would count (control-typed and data-typed), from r's own address and spoofed as the
  // peer's address and port (which a connected socket alone would let through).
  const payloads = Array.from({ length: 10 }, (_, i) => Buffer.concat([Buffer.from([1 + (i % 2)]), Buffer.from('HNT\x02 from the LAN'), Buffer.alloc(40, i)]));
  await sendUdpIn(lab, 'r', { src: '10.0.0.1', sport: 40000, dst: k.b, dport: k.port, payloads });
  await sendUdpIn(lab, 'r', { src: k.a, sport: k.port, dst: k.b, dport: k.port, payloads });
  // They reach b's host; the kernel must drop them for want of a socket (NoPorts), never hand them to the daemon.
  const arrived = await waitFor(async () => {
    const s = await udpSnmp(lab, 'b');
    const st = await c.status('b');
    return s.NoPorts! - snmp0.NoPorts! >= 20 || dropped(st) > dropped(st0) ? { s, st } : undefined;
  }, { timeoutMs: 5000, what: "the LAN's datagrams to arrive at b" }) ?? assert.fail('unreachable');
  assert.equal(dropped(arrived.st), dropped(st0), `the daemon saw datagrams from the LAN: ${JSON.stringify(arrived.st.links[0]!.stats)}`);
  assert.equal(arrived.s.NoPorts! - snmp0.NoPorts!, 20, 'all 20 dropped by the kernel: no socket takes them');
  const st1 = await c.status('b');
  assert.equal(dropped(st1), dropped(st0), 'and later neither');
  assert.ok(st1.links[0]!.alive);
}

async function survivesFlaps(lab: LabHandle, c: Cluster): Promise<void> {
  const bothAlive = async (what: string): Promise<void> => {
    await c.waitFor('b', (s) => s.links[0]!.alive, { what });
    await c.waitFor('a', (s) => s.links.some((l) => l.alive), { what });
  };
  await bothAlive('the link alive');
  await lab.fail('b:eth1', 'admin');
  await c.waitFor('b', (s) => !s.links[0]!.alive, { what: 'the link down with its interface' });
  await lab.heal('b:eth1');
  await bothAlive('the link alive again after the interface came back');
  const rx = (await c.status('b')).links[0]!.stats!.received;
  await c.waitFor('b', (s) => s.links[0]!.stats!.received >= rx + 20, { what: 'heartbeats flowing again' });

  // A daemon started while the link's interface is down binds to it anyway and talks once it is up.
  await c.kill('b');
  await lab.fail('b:eth1', 'admin');
  await c.start('b');
  await lab.heal('b:eth1');
  await bothAlive('the link alive after starting with the interface down');
}

for (const [what, k] of KINDS) {
  test(`${what}: a local user, the public LAN, and interface flaps`, { timeout: 180_000 }, async (t: TestContext) => {
    await withCluster(t, { name: k.lab, topology: k.topology }, async (lab, c) => {
      await t.test('a local unprivileged user (nobody) cannot take the port; the daemon keeps its heartbeats', () => nobodyCannotSteal(lab, c, k));
      await t.test("datagrams from the public LAN to the private address never reach the daemon", () => lanCannotReach(lab, c, k));
      await t.test('the socket survives its interface going down and up, and a start with it down', () => survivesFlaps(lab, c));
    });
  });
}
