// Lab tests of the NDP socket (src/os/linux/ndp.ts) between two throwaway namespaces, and the kernel's proxy-NDP
// and DAD behaviour hanet's IPv6 takeover relies on (docs/troubleshooting.md, "IPv6 neighbour discovery").
// A (hn-tkn*) holds the socket under test; B (hn-tko*) is the neighbour, and the helper proxying X for the owner C
// (hn-tkp*), which B reaches over b1 (the private link's stand-in).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { isRoot, requireRoot, waitFor } from '../helpers.js';
import { Agent, addNs, delNs, ipn, nsExec, nsName, sh, type AgentEvent } from './ns-agent.js';

const A = nsName('n');
const B = nsName('o');
const C = nsName('p'); // the owner's side of the private link, where X lives
const A_IP = '2001:db8:1::11';
const B_IP = '2001:db8:1::12';
const X = '2001:db8:1::99'; // the owner's address B answers for
let agent: Agent | undefined;
let macA = '', macB = '', llA = '', llB = '';

const macOf = (ns: string, dev: string): string => /link\/ether (\S+)/.exec(ipn(ns, 'link', 'show', dev))![1]!;
const linkLocalOf = (ns: string, dev: string): string => /inet6 (fe80::\S+)\/64/.exec(ipn(ns, '-6', 'addr', 'show', 'dev', dev, 'scope', 'link'))![1]!;
const sysctl = (ns: string, kv: string): void => { nsExec(ns, 'sysctl', '-qw', kv); };
const neighB = (ip: string): string => ipn(B, '-6', 'neigh', 'show', ip, 'dev', 'b0').trim();

before(async () => {
  if (!isRoot()) return;
  addNs(A, B, C);
  // No DAD on the test addresses: link-locals are usable at once (the DAD test turns it on where it looks at it).
  for (const ns of [A, B, C]) for (const k of ['all', 'default']) sysctl(ns, `net.ipv6.conf.${k}.accept_dad=0`);
  ipn(A, 'link', 'add', 'a0', 'type', 'veth', 'peer', 'name', 'b0', 'netns', B);
  ipn(B, 'link', 'add', 'b1', 'type', 'veth', 'peer', 'name', 'c1', 'netns', C);
  ipn(A, 'addr', 'add', `${A_IP}/64`, 'dev', 'a0', 'nodad');
  ipn(B, 'addr', 'add', `${B_IP}/64`, 'dev', 'b0', 'nodad');
  ipn(A, 'link', 'set', 'a0', 'up');
  for (const l of ['b0', 'b1']) ipn(B, 'link', 'set', l, 'up');
  ipn(B, 'addr', 'add', 'fd00::1/64', 'dev', 'b1', 'nodad');
  ipn(C, 'addr', 'add', 'fd00::2/64', 'dev', 'c1', 'nodad');
  ipn(C, 'addr', 'add', `${X}/128`, 'dev', 'c1', 'nodad');
  ipn(C, 'link', 'set', 'c1', 'up');
  ipn(C, '-6', 'route', 'add', 'default', 'via', 'fd00::1', 'dev', 'c1');
  ipn(B, '-6', 'route', 'add', `${X}/128`, 'via', 'fd00::2', 'dev', 'b1');
  macA = macOf(A, 'a0'); macB = macOf(B, 'b0');
  llA = linkLocalOf(A, 'a0'); llB = linkLocalOf(B, 'b0');
  agent = new Agent(A);
  await agent.call('ndpOpen', { ifname: 'a0' });
});

after(async () => {
  try { await agent?.close(); } finally { delNs(A, B, C); }
});

type Reply = { senderIp: string; senderMac: string; sourceIp: string; router: boolean; solicited: boolean; override: boolean; atMs: number };
type ProbeResult = { beforeDrain: number; afterDrain: number; reply: Reply | null; rttMs: number | null };
const naEvents = (ag: Agent, from = 0): (AgentEvent & Reply)[] => ag.events.slice(from).filter((e): e is AgentEvent & Reply => e.event === 'na');

test('the socket reports the interface MAC and its link-local address', async (t) => {
  if (!requireRoot(t)) return;
  const r = await agent!.call<{ mac: string; linkLocal: string | null }>('ndpOpen', { ifname: 'a0' });
  assert.deepEqual(r, { mac: macA, linkLocal: llA });
});

test('a probe from the link-local address is answered by unicast, drained synchronously, and teaches the responder only that link-local', async (t) => {
  if (!requireRoot(t)) return;
  ipn(B, '-6', 'neigh', 'flush', 'dev', 'b0');
  const r = await agent!.call<ProbeResult>('ndpProbe', { ifname: 'a0', target: B_IP, blockMs: 50 });
  assert.ok(r.reply, 'no reply');
  assert.deepEqual({ ...r.reply, atMs: 0 }, { senderIp: B_IP, senderMac: macB, sourceIp: B_IP, router: false, solicited: true, override: true, atMs: 0 });
  assert.equal(r.beforeDrain, 0);
  assert.ok(r.afterDrain >= 1, 'drain() delivered the reply synchronously');
  assert.match(neighB(llA), new RegExp(`lladdr ${macA}`), 'the responder learnt the prober\'s link-local');
  assert.equal(neighB(A_IP), '', 'and nothing about the service address');
});

test('probe round trip through the event loop', async (t) => {
  if (!requireRoot(t)) return;
  const rtts: number[] = [];
  for (let i = 0; i < 50; i++) {
    const r = await agent!.call<ProbeResult>('ndpProbe', { ifname: 'a0', target: B_IP, waitMs: 1000 });
    assert.ok(r.reply && r.rttMs !== null, `probe ${i} unanswered`);
    rtts.push(r.rttMs);
  }
  rtts.sort((x, y) => x - y);
  t.diagnostic(`NDP probe round trip (link-local source, unicast answer): median ${rtts[25]!.toFixed(3)} ms, max ${rtts[49]!.toFixed(3)} ms`);
});

test('a probe from :: is answered to all-nodes (not solicited) and leaves no cache entry on the responder', async (t) => {
  if (!requireRoot(t)) return;
  const anon = new Agent(A);
  try {
    await anon.call('ndpOpen', { ifname: 'a0', probeSource: 'unspecified' });
    ipn(B, '-6', 'neigh', 'flush', 'dev', 'b0');
    const r = await anon.call<ProbeResult>('ndpProbe', { ifname: 'a0', target: B_IP });
    assert.ok(r.reply, 'no reply');
    assert.deepEqual([r.reply.senderMac, r.reply.solicited, r.reply.override], [macB, false, true]);
    // the multicast answer reached the other socket on the interface too
    await waitFor(() => naEvents(agent!).some((e) => e.senderIp === B_IP && !e.solicited), { timeoutMs: 2000, what: 'the all-nodes answer on the other socket' });
    assert.equal(ipn(B, '-6', 'neigh', 'show', 'dev', 'b0').trim(), '', 'the responder learnt nothing');
  } finally {
    await anon.close();
  }
});

test('announcements: another host\'s unsolicited NA is one; answers to probes and our own NAs are not', async (t) => {
  if (!requireRoot(t)) return;
  const other = new Agent(B);
  try {
    await other.call('ndpOpen', { ifname: 'b0' });
    const from = agent!.events.length;
    await agent!.call('ndpProbe', { ifname: 'a0', target: B_IP });   // solicited answer: not an announcement
    await agent!.call('ndpNa', { ifname: 'a0', address: A_IP });      // our own NA: not seen by our socket
    await other.call('ndpNa', { ifname: 'b0', address: X });          // B now answers for X
    await waitFor(() => agent!.events.slice(from).some((e) => e.event === 'ndp-announcement'), { timeoutMs: 2000, what: 'the announcement' });
    const got = agent!.events.slice(from).filter((e) => e.event === 'ndp-announcement').map((e) => [e.ip, e.mac]);
    assert.deepEqual(got, [[X, macB]]);
    await waitFor(() => other.events.some((e) => e.event === 'ndp-announcement' && e.ip === A_IP), { timeoutMs: 2000, what: 'B to see A\'s announcement' });
  } finally {
    await other.close();
  }
});

test('a probe for an absent address gets no reply', async (t) => {
  if (!requireRoot(t)) return;
  const r = await agent!.call<ProbeResult>('ndpProbe', { ifname: 'a0', target: '2001:db8:1::77', waitMs: 300 });
  assert.equal(r.reply, null);
});

test('an unsolicited NA replaces an existing entry; without one nothing is created unless accept_untracked_na=1 on a router', async (t) => {
  if (!requireRoot(t)) return;
  assert.equal(nsExec(B, 'sysctl', '-n', 'net.ipv6.conf.b0.accept_untracked_na').trim(), '0');
  ipn(B, '-6', 'neigh', 'replace', '2001:db8:1::50', 'lladdr', '02:00:00:00:00:99', 'dev', 'b0', 'nud', 'reachable');
  await agent!.call('ndpNa', { ifname: 'a0', address: '2001:db8:1::50' });
  const line = await waitFor(() => { const l = neighB('2001:db8:1::50'); return l.includes(macA) ? l : ''; }, { timeoutMs: 3000, what: 'B to learn ::50 at A' });
  assert.match(line, /STALE/, 'an unsolicited NA leaves the entry STALE (the next use confirms it)');
  assert.doesNotMatch(line, /router/, 'Router flag clear');
  // ::51 has no entry; ::52 (announced after it) has one and marks when B has processed both
  ipn(B, '-6', 'neigh', 'replace', '2001:db8:1::52', 'lladdr', '02:00:00:00:00:99', 'dev', 'b0', 'nud', 'stale');
  await agent!.call('ndpNa', { ifname: 'a0', address: '2001:db8:1::51' });
  await agent!.call('ndpNa', { ifname: 'a0', address: '2001:db8:1::52' });
  await waitFor(() => neighB('2001:db8:1::52').includes(macA), { timeoutMs: 3000, what: 'B to process the marker NA' });
  assert.equal(neighB('2001:db8:1::51'), '', 'accept_untracked_na=0: no entry created');
  // RFC 9131: a router (forwarding on the interface) with accept_untracked_na=1 creates a STALE entry
  sysctl(B, 'net.ipv6.conf.b0.forwarding=1');
  sysctl(B, 'net.ipv6.conf.b0.accept_untracked_na=1');
  try {
    await agent!.call('ndpNa', { ifname: 'a0', address: '2001:db8:1::53' });
    const created = await waitFor(() => neighB('2001:db8:1::53'), { timeoutMs: 3000, what: 'an entry for ::53' });
    assert.match(created, new RegExp(`lladdr ${macA} .*STALE`));
  } finally {
    sysctl(B, 'net.ipv6.conf.b0.accept_untracked_na=0');
    sysctl(B, 'net.ipv6.conf.b0.forwarding=0');
  }
});

/** Probes X and returns the answer (throws if none). */
async function probeX(): Promise<Reply> {
  const r = await agent!.call<ProbeResult>('ndpProbe', { ifname: 'a0', target: X, waitMs: 2000 });
  assert.ok(r.reply, 'the proxied address was not answered');
  return r.reply;
}

test('proxy NDP: multicast NS need forwarding on the port; unicast NS also the forwarding path and all.proxy_ndp=1', async (t) => {
  if (!requireRoot(t)) return;
  ipn(B, '-6', 'neigh', 'add', 'proxy', X, 'dev', 'b0');
  sysctl(B, 'net.ipv6.neigh.b0.proxy_delay=0');
  sysctl(B, 'net.ipv6.conf.b0.proxy_ndp=1');
  // force_forwarding (Linux >= 6.17) lets one interface forward without conf/all/forwarding; older kernels need that.
  const forcePath = 'net.ipv6.conf.b0.force_forwarding';
  const hasForce = nsExec(B, 'sh', '-c', `test -e /proc/sys/${forcePath.replaceAll('.', '/')} && echo yes || true`).trim() === 'yes';
  try {
    // no forwarding on b0: proxy entries are ignored
    assert.equal((await agent!.call<ProbeResult>('ndpProbe', { ifname: 'a0', target: X, waitMs: 300 })).reply, null);
    sysctl(B, 'net.ipv6.conf.b0.forwarding=1');
    const m = await probeX();
    // Solicited, Override clear (RFC 4861 7.2.8: a proxy must not override the owner), Router clear (no `router` flag
    // on the entry), from B's link-local, with B's MAC.
    assert.deepEqual([m.senderMac, m.solicited, m.override, m.router, m.sourceIp], [macB, true, false, false, llB]);

    // A unicast NS to B's MAC for X (a router whose entry for X is STALE/PROBE asks like this). Sent from A's global
    // address, so B answers from its global address: that tells its answer from the multicast marker's.
    const unicastAnswered = async (): Promise<boolean> => {
      const from = agent!.events.length;
      await agent!.call('ndpUnicastNs', { ifname: 'a0', source: A_IP, target: X, dstMac: macB });
      await probeX(); // marker: processed after the unicast NS
      await waitFor(() => naEvents(agent!, from).some((e) => e.senderIp === X && e.sourceIp === llB), { timeoutMs: 2000, what: 'the marker' });
      return naEvents(agent!, from).some((e) => e.senderIp === X && e.sourceIp === B_IP);
    };
    sysctl(B, 'net.ipv6.conf.all.proxy_ndp=1');
    assert.equal(await unicastAnswered(), false, 'per-interface forwarding alone: a unicast NS is never forwarded, so never proxied');
    sysctl(B, hasForce ? `${forcePath}=1` : 'net.ipv6.conf.all.forwarding=1');
    assert.equal(await unicastAnswered(), true, 'with the forwarding path open and all.proxy_ndp=1 it is answered');
    const u = naEvents(agent!).filter((e) => e.senderIp === X && e.sourceIp === B_IP).at(-1)!;
    assert.deepEqual([u.senderMac, u.solicited, u.override, u.router], [macB, true, false, false], 'no target link-layer option: senderMac is the Ethernet source');
    sysctl(B, 'net.ipv6.conf.all.proxy_ndp=0');
    assert.equal(await unicastAnswered(), false, 'the per-interface proxy_ndp does not count for unicast NS (ip6_forward reads conf/all)');

    // a `router` proxy entry sets the Router flag (wrong for a host address: hanet's entries never carry it)
    ipn(B, '-6', 'neigh', 'replace', 'proxy', X, 'dev', 'b0', 'router');
    assert.equal((await probeX()).router, true);
  } finally {
    ipn(B, '-6', 'neigh', 'del', 'proxy', X, 'dev', 'b0');
    sysctl(B, 'net.ipv6.conf.all.proxy_ndp=0');
    sysctl(B, 'net.ipv6.conf.b0.forwarding=0');
    if (hasForce) sysctl(B, `${forcePath}=0`);
    sysctl(B, 'net.ipv6.conf.all.forwarding=0');
  }
});

test('IPv6 forwarding: per-interface forwarding=1 does not forward; force_forwarding on the incoming interfaces or conf/all does', async (t) => {
  if (!requireRoot(t)) return;
  // Unlike IPv4 (conf/<if>/forwarding of the incoming interface decides), ip6_forward reads conf/all/forwarding, or
  // (Linux >= 6.17) the incoming interface's force_forwarding. B forwards A -> X over b1 and X -> A over b0.
  ipn(B, '-6', 'neigh', 'add', 'proxy', X, 'dev', 'b0');
  sysctl(B, 'net.ipv6.neigh.b0.proxy_delay=0');
  sysctl(B, 'net.ipv6.conf.b0.proxy_ndp=1');
  sysctl(B, 'net.ipv6.conf.b0.forwarding=1');
  sysctl(B, 'net.ipv6.conf.b1.forwarding=1');
  const hasForce = nsExec(B, 'sh', '-c', 'test -e /proc/sys/net/ipv6/conf/b0/force_forwarding && echo yes || true').trim() === 'yes';
  const reaches = (): boolean => sh(['ip', 'netns', 'exec', A, 'ping', '-6', '-c', '1', '-W', '1', X], { check: false }).includes(' 0% packet loss');
  try {
    assert.equal(reaches(), false, 'per-interface forwarding on both interfaces, conf/all/forwarding=0');
    if (hasForce) {
      sysctl(B, 'net.ipv6.conf.b0.force_forwarding=1');
      sysctl(B, 'net.ipv6.conf.b1.force_forwarding=1');
      assert.equal(reaches(), true, 'force_forwarding on both incoming interfaces');
      sysctl(B, 'net.ipv6.conf.b0.force_forwarding=0');
      sysctl(B, 'net.ipv6.conf.b1.force_forwarding=0');
    } else t.diagnostic('no force_forwarding on this kernel (< 6.17)');
    sysctl(B, 'net.ipv6.conf.all.forwarding=1');
    assert.equal(reaches(), true, 'conf/all/forwarding=1');
  } finally {
    ipn(B, '-6', 'neigh', 'del', 'proxy', X, 'dev', 'b0');
    for (const k of ['all', 'b0', 'b1']) sysctl(B, `net.ipv6.conf.${k}.forwarding=0`);
  }
});

test('proxy NDP: answers to multicast NS wait up to proxy_delay (default 80 = 0.8 s); 0 answers at once', async (t) => {
  if (!requireRoot(t)) return;
  ipn(B, '-6', 'neigh', 'add', 'proxy', X, 'dev', 'b0');
  sysctl(B, 'net.ipv6.conf.b0.forwarding=1');
  sysctl(B, 'net.ipv6.conf.b0.proxy_ndp=1');
  try {
    const series = async (): Promise<number[]> => {
      const xs: number[] = [];
      for (let i = 0; i < 6; i++) {
        const r = await agent!.call<ProbeResult>('ndpProbe', { ifname: 'a0', target: X, waitMs: 2000 });
        assert.ok(r.reply && r.rttMs !== null, 'unanswered');
        xs.push(r.rttMs);
      }
      return xs.sort((a, b) => a - b);
    };
    sysctl(B, 'net.ipv6.neigh.b0.proxy_delay=80');
    const slow = await series();
    sysctl(B, 'net.ipv6.neigh.b0.proxy_delay=0');
    const fast = await series();
    const f = (xs: number[]): string => xs.map((x) => x.toFixed(2)).join(', ');
    t.diagnostic(`proxied answer delay, proxy_delay 80: ${f(slow)} ms; proxy_delay 0: ${f(fast)} ms`);
  } finally {
    ipn(B, '-6', 'neigh', 'del', 'proxy', X, 'dev', 'b0');
    sysctl(B, 'net.ipv6.conf.b0.forwarding=0');
  }
});

test('the NA filter keeps the rest of the IPv6 traffic out of user space', async (t) => {
  if (!requireRoot(t)) return;
  nsExec(B, 'ping', '-6', '-c', '1', '-W', '1', A_IP); // resolve neighbours first
  await agent!.call<number>('ndpPacketCount', { ifname: 'a0' });
  nsExec(B, 'ping', '-6', '-c', '100', '-i', '0.002', '-W', '1', '-q', A_IP);
  const n = await agent!.call<number>('ndpPacketCount', { ifname: 'a0' });
  t.diagnostic(`packets that reached the socket during 100 echo requests: ${n}`);
  assert.ok(n < 10, `${n} packets passed the filter`);
});

test('right after an admin up (link-local still tentative) the socket still announces and probes', async (t) => {
  if (!requireRoot(t)) return;
  // The owner's failback moment: the kernel itself can send nothing from the tentative link-local (a raw ICMPv6
  // socket gets EADDRNOTAVAIL); the packet socket does not need the kernel's addresses.
  sysctl(A, 'net.ipv6.conf.a0.keep_addr_on_down=1');
  sysctl(A, 'net.ipv6.conf.a0.accept_dad=1');
  sysctl(A, 'net.ipv6.conf.a0.dad_transmits=3'); // ~3 s of tentative link-local: room for the checks below
  try {
    ipn(A, 'link', 'set', 'a0', 'down');
    ipn(A, 'link', 'set', 'a0', 'up');
    // Until the link watch turns the carrier on (up to ~1 s) a device drops what is sent; B's side evicts its
    // neighbour entries while its carrier is off (ndisc_evict_nocarrier): wait for both ends before going on.
    await waitFor(() => /state UP/.test(ipn(A, 'link', 'show', 'a0')) && /state UP/.test(ipn(B, 'link', 'show', 'b0')),
      { timeoutMs: 3000, what: 'both ends operationally up' });
    ipn(B, '-6', 'neigh', 'replace', A_IP, 'lladdr', '02:00:00:00:00:99', 'dev', 'b0', 'nud', 'reachable');
    assert.match(ipn(A, '-6', 'addr', 'show', 'dev', 'a0', 'tentative'), /fe80::/, 'the link-local is tentative');
    await agent!.call('ndpNa', { ifname: 'a0', address: A_IP });
    await waitFor(() => neighB(A_IP).includes(macA), { timeoutMs: 3000, what: 'B to learn the owner\'s address at A again' });
    const r = await agent!.call<ProbeResult>('ndpProbe', { ifname: 'a0', target: B_IP });
    assert.ok(r.reply, 'the answer to a probe from the tentative link-local arrives');
    assert.equal(r.reply.senderMac, macB);
    assert.match(ipn(A, '-6', 'addr', 'show', 'dev', 'a0', 'tentative'), /fe80::/, 'and all that while it was still tentative');
  } finally {
    sysctl(A, 'net.ipv6.conf.a0.accept_dad=0');
    sysctl(A, 'net.ipv6.conf.a0.dad_transmits=1');
  }
});

test('DAD: the helper\'s proxy entry makes a DAD-checked owner address fail; a nodad one is never checked', async (t) => {
  if (!requireRoot(t)) return;
  ipn(B, '-6', 'neigh', 'add', 'proxy', '2001:db8:1::61', 'dev', 'b0');
  ipn(B, '-6', 'neigh', 'add', 'proxy', '2001:db8:1::62', 'dev', 'b0');
  sysctl(B, 'net.ipv6.conf.b0.forwarding=1');
  sysctl(B, 'net.ipv6.conf.b0.proxy_ndp=1');
  sysctl(B, 'net.ipv6.neigh.b0.proxy_delay=0');
  sysctl(A, 'net.ipv6.conf.a0.accept_dad=1');
  try {
    ipn(A, 'addr', 'add', '2001:db8:1::61/64', 'dev', 'a0');
    ipn(A, 'addr', 'add', '2001:db8:1::62/64', 'dev', 'a0', 'nodad');
    const failed = await waitFor(() => { const s = ipn(A, '-6', 'addr', 'show', 'dev', 'a0', 'dadfailed'); return s.includes('::61') ? s : ''; },
      { timeoutMs: 5000, what: 'DAD to fail for ::61' });
    assert.doesNotMatch(failed, /::62/);
    assert.doesNotMatch(ipn(A, '-6', 'addr', 'show', 'dev', 'a0', 'tentative'), /::62/);
  } finally {
    ipn(A, 'addr', 'del', '2001:db8:1::61/64', 'dev', 'a0');
    ipn(A, 'addr', 'del', '2001:db8:1::62/64', 'dev', 'a0');
    sysctl(A, 'net.ipv6.conf.a0.accept_dad=0');
    for (const p of ['::61', '::62']) ipn(B, '-6', 'neigh', 'del', 'proxy', `2001:db8:1${p}`, 'dev', 'b0');
    sysctl(B, 'net.ipv6.conf.b0.forwarding=0');
  }
});
