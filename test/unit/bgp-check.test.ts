// L3 mode's BGP check (public[].bgp.check): a helper carries the fabric for its peers only while BIRD has one of its
// interface's BGP sessions Established — else the host route it installs is announced nowhere and the owner's address
// is a black hole. The core (heartbeat health, refusal, the owner moving on), the `show protocols` parser, and the
// watcher against a BIRD-speaking unix socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sim, defaults, priv, pub } from './core-sim.js';
import { parseProtocols, startBirdWatch } from '../../src/os/linux/bird-control.js';
import { birdSessionNames } from '../../src/config/bird.js';
import { validateConfig } from '../../src/config/schema.js';

/** a in rack 1; b and d in rack 2 and 3, both able to help a; b and d check their BGP sessions. */
function racks(): Sim {
  const sim = new Sim();
  const l3 = (gw: string) => ({ lan: 'fabric', mode: 'l3' as const, gateways: [gw], bgpCheck: true });
  sim.add(defaults('a', [pub('eth0', '10.1.0.10', { lan: 'fabric', mode: 'l3', gateways: ['10.1.0.1'] })], [priv('ab', 'eth1', 'b', '192.168.100.1', '192.168.100.2', 10), priv('ad', 'eth2', 'd', '192.168.100.5', '192.168.100.6', 20)]));
  sim.add(defaults('b', [pub('eth0', '10.2.0.10', l3('10.2.0.1'))], [priv('ab', 'eth1', 'a', '192.168.100.2', '192.168.100.1')]));
  sim.add(defaults('d', [pub('eth0', '10.3.0.10', l3('10.3.0.1'))], [priv('ad', 'eth1', 'a', '192.168.100.6', '192.168.100.5')]));
  sim.wire('a', 'ab', 'b', 'ab');
  sim.wire('a', 'ad', 'd', 'ad');
  return sim;
}
const bgp = (sim: Sim, node: string, established: boolean): void => sim.deliver(node, { type: 'bgp', at: sim.now, iface: 'eth0', established });
const helperOf = (sim: Sim): string | undefined => sim.node('a').core.status(sim.now).publics[0]?.placement.kind === 'remote'
  ? (sim.node('a').core.status(sim.now).publics[0]!.placement as { peer: string }).peer : undefined;

test('bgp check: a helper whose BIRD has no Established session is not chosen; the one that announces is', () => {
  const sim = racks();
  bgp(sim, 'd', true); // b's BIRD not (yet) answering: b unknown = not announcing
  sim.advance(300);
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(200);
  assert.equal(helperOf(sim), 'd', 'b is cheaper but cannot announce');
  assert.ok(sim.node('d').events.some((e) => e.type === 'help-start'));
});

test('bgp check: the helper\'s session going down moves the owner to another helper; a claim sent to it is refused', () => {
  const sim = racks();
  bgp(sim, 'b', true);
  bgp(sim, 'd', true);
  sim.advance(300);
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(200);
  assert.equal(helperOf(sim), 'b');
  bgp(sim, 'b', false);
  assert.ok(sim.node('b').events.some((e) => e.type === 'bgp-down' && e.iface === 'eth0'), 'an event for the operator');
  sim.advance(300);
  assert.equal(helperOf(sim), 'd', 'moved on');
  assert.ok(sim.node('a').events.some((e) => e.type === 'helper-switch'));
  // A claim arriving at b meanwhile (e.g. the owner's retransmit) is refused with the reason.
  sim.deliver('b', { type: 'message', at: sim.now, link: 'ab', from: 'a', msg: { type: 'takeover', claimId: 'a-x-9', lan: 'fabric', addresses: ['10.1.0.10'], ownerLinkAddress: '192.168.100.1', leaseMs: 3000 } });
  assert.ok(sim.node('b').events.some((e) => e.type === 'help-refused' && e.reason === 'bgp-down'), JSON.stringify(sim.node('b').events.slice(-3)));
  bgp(sim, 'b', true);
  assert.ok(sim.node('b').events.some((e) => e.type === 'bgp-up'));
});

test('bgp check off (or an L2 LAN): no BGP reading needed to help', () => {
  const sim = new Sim();
  sim.add(defaults('a', [pub('eth0', '10.1.0.10', { lan: 'fabric', mode: 'l3', gateways: ['10.1.0.1'] })], [priv('ab', 'eth1', 'b', '192.168.100.1', '192.168.100.2')]));
  sim.add(defaults('b', [pub('eth0', '10.2.0.10', { lan: 'fabric', mode: 'l3', gateways: ['10.2.0.1'] })], [priv('ab', 'eth1', 'a', '192.168.100.2', '192.168.100.1')]));
  sim.wire('a', 'ab', 'b', 'ab');
  sim.advance(300);
  sim.port('a', 'eth0', { lowerUp: false });
  sim.advance(200);
  assert.equal(helperOf(sim), 'b');
});

const REPLY = [
  '2002-Name       Proto      Table      State  Since         Info',
  '1002-device1    Device     ---        up     21:00:00.000  ',
  ' hanet_kernel4 Kernel     master4    up     21:00:00.000  ',
  ' hanet_eth0_v4 BGP        ---        up     21:00:01.000  Established   ',
  ' hanet_eth0_v6 BGP        ---        start  21:00:00.000  Active        Socket: Connection refused',
  '0000 ',
  '',
].join('\n');

test('show protocols: BGP sessions and whether each is Established', () => {
  assert.deepEqual([...parseProtocols(REPLY)], [['hanet_eth0_v4', true], ['hanet_eth0_v6', false]]);
  assert.deepEqual([...parseProtocols('0000 \n')], []);
});

test('config: the sessions checked are the snippet\'s names by default, per family, or the configured ones', () => {
  const cfg = (bgp: Record<string, unknown>) => {
    const r = validateConfig({ node: 'a', key_file: '/etc/hanet/k', public: [{ interface: 'eth0', mode: 'l3', lan: 'fabric', addresses: ['10.1.0.10/24', '2001:db8:1::10/64'], gateway: ['10.1.0.1', 'fe80::1'], bgp: { local_as: 65011, peer_as: 65001, neighbor: ['10.1.0.1', '2001:db8:1::1'], ...bgp } }], private: [{ name: 'ab', kind: 'ethernet', interface: 'eth1', address: '192.168.100.1/30', peer: 'b', peer_address: '192.168.100.2' }] });
    assert.ok(r.ok, JSON.stringify(r.ok ? '' : r.issues));
    return r.config.public[0]!;
  };
  const p = cfg({});
  assert.deepEqual(birdSessionNames(p), ['hanet_eth0_v4', 'hanet_eth0_v6']);
  assert.equal(p.bgp?.check, true);
  assert.equal(p.bgp?.birdSocket, '/run/bird/bird.ctl');
  assert.deepEqual(birdSessionNames(cfg({ sessions: ['tor1'] })), ['tor1']);
  assert.ok(!validateConfig({ node: 'a', key_file: '/k', public: [{ interface: 'eth0', mode: 'l3', lan: 'f', addresses: ['10.1.0.10/24'], gateway: '10.1.0.1', bgp: { local_as: 1, peer_as: 2, sessions: ['bad name'] } }], private: [] }).ok);
});

/** A unix socket speaking BIRD's control protocol: greets, answers `show protocols` with `state()`. */
function fakeBird(path: string, state: () => string | undefined): Promise<Server> {
  const srv = createServer((s: Socket) => {
    s.write('0001 BIRD 2.0.12 ready.\n');
    s.on('data', (d) => {
      for (const line of d.toString().split('\n')) {
        if (line !== 'show protocols') continue;
        const r = state();
        if (r === undefined) { s.destroy(); return; }
        s.write(r);
      }
    });
  });
  return new Promise((resolve) => srv.listen(path, () => resolve(srv)));
}

test('bird watch: reports the interface up while a session is Established, down when it is not, and when BIRD is gone', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'hanet-bird-')), 'bird.ctl');
  let reply: string | undefined = REPLY;
  const srv = await fakeBird(path, () => reply);
  const seen: Array<[string, boolean, string | undefined]> = [];
  let wake: (() => void) | undefined;
  const next = (n: number) => new Promise<void>((resolve) => { wake = () => { if (seen.length >= n) resolve(); }; wake(); });
  const w = startBirdWatch([{ iface: 'eth0', socket: path, sessions: ['hanet_eth0_v4', 'hanet_eth0_v6'] }, { iface: 'eth9', socket: path, sessions: ['hanet_eth0_v6'] }], (iface, up, error) => { seen.push([iface, up, error]); wake?.(); }, { intervalMs: 30 });
  try {
    await next(2);
    assert.deepEqual(seen.map(([i, u]) => [i, u]).sort(), [['eth0', true], ['eth9', false]], 'one Established session is enough');
    reply = REPLY.replace('Established', 'Connect');
    await next(3);
    assert.deepEqual(seen[2]!.slice(0, 2), ['eth0', false]);
    reply = REPLY;
    await next(4);
    assert.deepEqual(seen[3]!.slice(0, 2), ['eth0', true]);
    reply = undefined; // BIRD drops the connection (and every later one): down after two failed questions
    await next(5);
    assert.deepEqual(seen[4]!.slice(0, 2), ['eth0', false]);
    assert.match(seen[4]![2] ?? '', /bird\.ctl/);
  } finally {
    w.close();
    srv.close();
  }
});
