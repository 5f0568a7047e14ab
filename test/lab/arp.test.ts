// Lab tests of the AF_PACKET ARP socket between two throwaway namespaces (hn-tka*, hn-tkb*):
// gratuitous ARP updates an existing neighbour entry; probes get replies without polluting caches.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot, requireRoot, waitFor } from '../helpers.js';
import { Agent, addNs, delNs, ipn, nsExec, nsName } from './ns-agent.js';

const A = nsName('a');
const B = nsName('b');
let agent: Agent | undefined;
let macA = '';
let macB = '';

before(async () => {
  if (!isRoot()) return;
  addNs(A, B);
  ipn(A, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0', 'netns', B);
  ipn(A, 'addr', 'add', '10.0.0.1/24', 'dev', 'a0');
  ipn(B, 'addr', 'add', '10.0.0.2/24', 'dev', 'b0');
  ipn(A, 'link', 'set', 'a0', 'up');
  ipn(B, 'link', 'set', 'b0', 'up');
  macB = /link\/ether (\S+)/.exec(ipn(B, 'link', 'show', 'b0'))![1]!;
  agent = new Agent(A);
  macA = await agent.call<string>('arpOpen', { ifname: 'a0' });
});

after(async () => {
  try { await agent?.close(); } finally { delNs(A, B); }
});

const neighOf = (ns: string, ip: string): string => ipn(ns, 'neigh', 'show', ip, 'dev', ns === A ? 'a0' : 'b0').trim();

test('the socket reports the interface MAC', (t) => {
  if (!requireRoot(t)) return;
  assert.equal(macA, /link\/ether (\S+)/.exec(ipn(A, 'link', 'show', 'a0'))![1]);
});

test('gratuitous ARP updates an existing neighbour entry on the other side (arp_accept=0)', async (t) => {
  if (!requireRoot(t)) return;
  assert.equal(nsExec(B, 'cat', '/proc/sys/net/ipv4/conf/b0/arp_accept').trim(), '0');
  // B believes 10.0.0.50 is at some other MAC (entry just updated: inside the 1 s locktime, only is_garp overrides it)
  ipn(B, 'neigh', 'replace', '10.0.0.50', 'lladdr', '02:00:00:00:00:99', 'dev', 'b0', 'nud', 'reachable');
  assert.match(neighOf(B, '10.0.0.50'), /lladdr 02:00:00:00:00:99/);
  await agent!.call('arpGarp', { ifname: 'a0', ip: '10.0.0.50' });
  const line = await waitFor(() => { const l = neighOf(B, '10.0.0.50'); return l.includes(macA) ? l : ''; }, { timeoutMs: 3000, what: 'B to learn 10.0.0.50 at A' });
  t.diagnostic(`B after GARP: ${line}`);
  // no entry for an address nobody announced
  assert.equal(neighOf(B, '10.0.0.51'), '');
});

test('a probe to a neighbour gets its MAC back and leaves no cache entry on the responder', async (t) => {
  if (!requireRoot(t)) return;
  ipn(B, 'neigh', 'flush', 'dev', 'b0');
  const r = await agent!.call<{ beforeDrain: number; afterDrain: number; reply: { senderIp: string; senderMac: string; atMs: number } | null; rttMs: number }>(
    'arpProbe', { ifname: 'a0', target: '10.0.0.2', blockMs: 50 });
  assert.ok(r.reply, 'no reply');
  assert.equal(r.reply.senderIp, '10.0.0.2');
  assert.equal(r.reply.senderMac, macB);
  // The event loop was blocked for 50 ms after sending: the reply was delivered by drain(), not by uv_poll.
  assert.equal(r.beforeDrain, 0);
  assert.ok(r.afterDrain >= 1, 'drain() delivered the reply synchronously');
  assert.equal(neighOf(B, '10.0.0.1'), '', 'responder must not learn the prober from a 0.0.0.0 probe');
  const bench = await agent!.call<{ medianMs: number; p99Ms: number }>('arpProbeBench', { ifname: 'a0', target: '10.0.0.2', n: 200 });
  t.diagnostic(`ARP probe round trip through the event loop: median ${bench.medianMs.toFixed(3)} ms, p99 ${bench.p99Ms.toFixed(3)} ms`);
  assert.equal(neighOf(B, '10.0.0.1'), '');
});

test('a probe for an absent address gets no reply', async (t) => {
  if (!requireRoot(t)) return;
  const r = await agent!.call<{ reply: unknown }>('arpProbe', { ifname: 'a0', target: '10.0.0.77', blockMs: 0 });
  assert.equal(r.reply, null);
});

test('an announcements-only socket gets only other hosts\' gratuitous ARPs: probes, replies and our own frames stay in the kernel', async (t) => {
  if (!requireRoot(t)) return;
  const b = new Agent(B);
  try {
    await b.call('arpWatchAnnouncements', { ifname: 'b0' });
    // 20 probes from A (requests with sender 0.0.0.0, answered by B's kernel), then one gratuitous ARP.
    for (let i = 0; i < 20; i++) await agent!.call('arpProbe', { ifname: 'a0', target: '10.0.0.2', blockMs: 0 });
    await agent!.call('arpGarp', { ifname: 'a0', ip: '10.0.0.60' });
    const r = await waitFor(async () => { const x = await b.call<{ seen: string[]; frames: number }>('arpAnnouncementsSeen', { ifname: 'b0' }); return x.seen.length ? x : undefined; }, { timeoutMs: 3000, what: 'the announcement' });
    assert.deepEqual(r!.seen, ['10.0.0.60']);
    assert.equal(r!.frames, 1, 'one frame passed the filter: the gratuitous ARP');
  } finally {
    await b.close();
  }
});
