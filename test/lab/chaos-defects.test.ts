// Defects the chaos run (bench/chaos.ts, issue #10) found in the product, each reproduced on its own in a lab with
// a running cluster: every test failed before its fix. Root needed (namespaces).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { requireRoot } from '../helpers.js';
import { logTail } from './with-cluster.js';
import { labUp, type LabHandle } from '../../src/lab/lab.js';
import { defaultTopology } from '../../src/lab/topology.js';
import { runCluster, type LiveCluster } from '../../src/lab/live-cluster.js';
import type { ClusterOptions } from '../../src/lab/cluster.js';
import { privateLinks } from '../../src/lab/faults.js';

async function withLive(t: TestContext, name: string, topology: string, opts: ClusterOptions, fn: (lab: LabHandle, c: LiveCluster) => Promise<void>): Promise<void> {
  if (!requireRoot(t)) return;
  const lab = await labUp(defaultTopology(topology), { name, replace: true });
  let c: LiveCluster | undefined;
  try {
    c = await runCluster(lab, opts);
    await fn(lab, c);
  } catch (err) {
    if (c) for (const n of c.servers) t.diagnostic(`${n} log:\n${logTail(c.logPath(n))}`);
    throw err;
  } finally {
    await c?.stop();
    await lab.down();
  }
}

const proxies = async (lab: LabHandle, node: string): Promise<string> => (await lab.exec(node, ['ip', 'neigh', 'show', 'proxy'], { check: true })).stdout;

/** The private link between two servers, and which of its ends is a given server's (for one-way faults). */
function linkBetween(lab: LabHandle, x: string, y: string): { id: string; endOf: (node: string) => 0 | 1 } {
  const link = privateLinks(lab.topology).find((l) => l.ends.some((e) => e.node === x) && l.ends.some((e) => e.node === y));
  assert.ok(link, `a private link between ${x} and ${y}`);
  return { id: link.id, endOf: (node) => (link.ends[0].node === node ? 0 : 1) };
}

/** Holds `cond` true at every poll for `ms` (a negative property: the defect let go within ~100 ms). */
async function holds(ms: number, what: string, cond: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    assert.ok(await cond(), what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('a helper with two public ports on the LAN keeps helping: its own gratuitous ARP heard on its other port is not another host announcing', async (t) => {
  // Found by the chaos run (quad, seed 1): a silent failure of b, helped by a (eth0 and eth1 on the LAN); a heard its
  // gratuitous ARP for b's address on its second port, took it for another host's and let go (help-superseded):
  // b's address had no answer on the LAN while b still routed through a.
  await withLive(t, 'cdual', 'dual', {}, async (lab, c) => {
    await lab.fail('b:eth0', 'silent');
    await c.waitFor('b', (s) => s.claims.some((x) => x.acked && x.helper === 'a'), { what: 'b helped by a' });
    await c.waitFor('a', (s) => (s.eventCounts.announced ?? 0) > 0, { what: 'a announced' });
    await holds(1000, 'a keeps its proxy entry for b', async () => (await proxies(lab, 'a')).includes('10.0.0.12'));
    const s = await c.status('a');
    assert.equal(s.eventCounts['help-superseded'] ?? 0, 0, JSON.stringify(s.helping));
    await lab.heal('b:eth0');
  });
});

test('a clean stop puts back the sysctls hanet changed, also when a kill -9 and a restart came between', async (t) => {
  // Found by the chaos run's leftover check: ip_forward (and with it every interface's forwarding and
  // accept_redirects), proxy_delay and rp_filter stayed at hanet's values after every clean stop.
  await withLive(t, 'csys', 'pair', {}, async (lab, c) => {
    const read = async (node: string, port = 'eth1'): Promise<string> => (await lab.exec(node, ['sysctl', '-n', 'net.ipv4.ip_forward', 'net.ipv4.neigh.eth0.proxy_delay', `net.ipv4.conf.${port}.rp_filter`], { check: true })).stdout.trim().split('\n').join(' ');
    // A fresh namespace's values (the client's: the lab sets none there), which a's were before hanet ran.
    const before = await read('c', 'eth0');
    await c.stop();
    assert.equal(await read('a'), before, 'a clean stop');
    await c.start('a');
    assert.notEqual(await read('a'), before, 'hanet changed them (the test means something)');
    await c.kill('a', 'SIGKILL');
    await c.start('a');
    await c.kill('a', 'SIGTERM');
    assert.equal(await read('a'), before);
  });
});

test('a helper that let go sends no more gratuitous ARPs for the address: its repeats do not unseat the next helper', async (t) => {
  // Found by the chaos run (seed 1, #3 link-cut during a takeover): the helper's gratuitous-ARP repeats went out
  // after its claim had ended (help-link-down), and the next helper took them for another host answering and let go.
  // Repeats 1 s apart (garp_interval_ms) make the window wide enough to hit every time.
  // Whichever of b and d helps first (the owner picks among the helpers it hears), the other one is the next helper.
  const { failLink } = await import('../../src/lab/faults.js');
  await withLive(t, 'cgarp', 'trio', { common: { takeover: { garp_interval_ms: 1000 } } }, async (lab, c) => {
    await c.waitFor('a', (s) => s.links.every((l) => l.alive && Object.values(l.peerLans).some((x) => x.healthy)), { what: 'a hears both helpers' });
    await lab.fail('a:eth0', 'carrier');
    const first = (await c.waitFor('a', (s) => s.claims.some((x) => x.acked), { what: 'a helped' })).claims.find((x) => x.acked)!.helper;
    const next = first === 'b' ? 'd' : 'b';
    await failLink(lab, linkBetween(lab, 'a', first).id, 'cut');
    await c.waitFor('a', (s) => s.claims.some((x) => x.acked && x.helper === next), { what: `a helped by ${next}` });
    // The first helper's last repeat is due 2 s after its first announcement.
    await holds(2500, `${next} keeps helping a`, async () => (await c.status(next)).helping.some((h) => h.owner === 'a' && !h.lingering));
    assert.equal((await c.status(next)).eventCounts['help-superseded'] ?? 0, 0);
  });
});

test('a helper stopped with SIGTERM hands its claims back before it removes them: the owner moves on at once', async (t) => {
  // Found by the chaos run (daemon-term of a helper during a takeover): the core hands claims back on `stopping`,
  // but the daemon never told it it was stopping; the helper removed its proxy entry and route at once and the owner
  // only moved on after a heartbeat timeout, its address answered by nobody meanwhile.
  await withLive(t, 'cterm', 'trio', {}, async (lab, c) => {
    // Both peers can help once a has heard them say so (a port failed before that goes to whoever it heard first).
    await c.waitFor('a', (s) => s.links.every((l) => l.alive && Object.values(l.peerLans).some((x) => x.healthy)), { what: 'a hears both helpers' });
    await lab.fail('a:eth0', 'carrier');
    const first = (await c.waitFor('a', (s) => s.claims.some((x) => x.acked), { what: 'a helped' })).claims.find((x) => x.acked)!.helper;
    const other = first === 'b' ? 'd' : 'b';
    await c.kill(first, 'SIGTERM');
    const s = await c.waitFor('a', (x) => x.claims.some((y) => y.acked && y.helper === other), { what: `a helped by ${other}` });
    assert.ok(s.events.some((e) => e.type === 'takeover-refused' && e.reason === 'stopping'), JSON.stringify(s.events.slice(-8)));
    assert.ok(!s.events.some((e) => e.type === 'peer-down' && e.peer === first && s.events.findIndex((x) => x === e) < s.events.findIndex((x) => x.type === 'helper-switch')), `moved before ${first} went silent`);
  });
});

test('a daemon starts while a public port is down (admin): it reports the port failed instead of crashing', async (t) => {
  // Found by the chaos run (seed 1, #33: SIGTERM and restart of d during a takeover after an admin failure of its
  // port): the ARP socket's first read on a down interface threw ENETDOWN and `hanet run` exited.
  await withLive(t, 'cdown', 'pair', {}, async (lab, c) => {
    await c.kill('a', 'SIGTERM');
    await lab.fail('a:eth0', 'admin');
    await c.start('a');
    const s = await c.waitFor('a', (x) => x.publics.some((p) => !p.health.healthy), { what: 'a reports eth0 failed' });
    assert.equal(s.publics[0]?.placement.kind, 'remote', JSON.stringify(s.publics));
    await lab.heal('a:eth0');
    await c.waitFor('a', (x) => x.publics.every((p) => p.health.healthy && p.placement.kind === 'own'), { timeoutMs: 15_000, what: 'failback' });
  });
});

test('a helped owner restarted with SIGTERM keeps its traffic on the helper meanwhile: nothing lost', async (t) => {
  // Found by the chaos run (seed 1, #33: SIGTERM and restart of d during its takeover by b): the clean stop removed
  // the owner's routes through its helper while its own port was down, so its replies had no way out until the
  // restarted daemon took over again: a 7.1 s stall and a lost request. A restart is not a reason for an outage.
  const { startWorkload } = await import('../../src/lab/workload/index.js');
  await withLive(t, 'cown', 'trio', {}, async (lab, c) => {
    const wl = await startWorkload(lab, { server: 'a', address: '10.0.0.11', persistent: { connections: 2, intervalMs: 10 }, perRequest: { intervalMs: 50 }, requestTimeoutMs: 5000 });
    try {
      await lab.fail('a:eth0', 'carrier');
      await c.waitFor('a', (s) => s.claims.some((x) => x.acked), { what: 'a helped' });
      await c.kill('a', 'SIGTERM');
      const routes = (await lab.exec('a', ['ip', 'route', 'show', 'proto', '78'], { check: true })).stdout;
      await c.start('a');
      await c.waitFor('a', (s) => s.claims.some((x) => x.acked), { what: 'a helped again' });
      await lab.heal('a:eth0');
      await c.waitFor('a', (s) => s.claims.length === 0 && s.publics.every((p) => p.placement.kind === 'own'), { timeoutMs: 15_000, what: 'failback' });
      const r = await wl.stop();
      assert.match(routes, /^0\.0\.0\.0\/1 via 192\.168\.10[01]\.\d+ /m, 'the routes through the helper outlived the daemon');
      assert.deepEqual({ failed: r.failed, broken: r.broken_connections, lost: r.inflight_lost }, { failed: 0, broken: 0, lost: 0 }, `gap ${r.max_gap_ms} ms`);
    } finally {
      await wl.stop().catch(() => undefined);
    }
  });
});

test('a server with two public ports on one LAN answers ARP for an address only on the port that holds it', async (t) => {
  // Found by the chaos run (seed 1, #94 and #108: a carrier failure of a's second port stalled a's first address for
  // 2-3.4 s): Linux answers ARP for any local address on every interface by default, so the router could learn a's
  // first address at its second port's MAC; when that port failed nothing re-announced the first address.
  const { fileURLToPath } = await import('node:url');
  const arpModule = fileURLToPath(new URL('../../src/os/linux/arp.js', import.meta.url));
  // A probe from the router for a's first address; every reply's MAC, once 300 ms have passed.
  const script = `import(${JSON.stringify(arpModule)}).then(({ openArp }) => {
    const s = openArp('eth1'); const macs = new Set();
    s.onReply((r) => { if (r.senderIp === '10.0.0.11') macs.add(r.senderMac); });
    s.sendProbe('10.0.0.11');
    setTimeout(() => { s.close(); console.log(JSON.stringify([...macs])); }, 300);
  });`;
  await withLive(t, 'cflux', 'dual', {}, async (lab, c) => {
    await c.waitFor('a', (s) => s.ready, { what: 'a ready' });
    const eth0 = JSON.parse((await lab.exec('a', ['ip', '-j', 'link', 'show', 'eth0'], { check: true })).stdout)[0].address as string;
    const r = await lab.exec('r', [process.execPath, '--input-type=module', '-e', script], { check: true });
    assert.deepEqual(JSON.parse(r.stdout.trim()), [eth0], 'only eth0 answers for 10.0.0.11');
  });
});

test('one-way loss from an owner to its helper: the owner moves to another helper instead of sending into the void', async (t) => {
  // Found by the chaos run (seed 1, #181 and #167): a's packets towards its helper b were lost, b's towards a passed.
  // a heard b's heartbeats, so b looked alive and a kept routing through it; b heard nothing, let go when the lease
  // ended, and a still sent its replies to b: a's traffic was black-holed until the link healed.
  const { failLink } = await import('../../src/lab/faults.js');
  await withLive(t, 'coneway', 'trio', {}, async (lab, c) => {
    await c.waitFor('a', (s) => s.links.every((l) => l.alive && Object.values(l.peerLans).some((x) => x.healthy)), { what: 'a hears both helpers' });
    await lab.fail('a:eth0', 'carrier');
    const first = (await c.waitFor('a', (s) => s.claims.some((x) => x.acked), { what: 'a helped' })).claims.find((x) => x.acked)!.helper;
    const next = first === 'b' ? 'd' : 'b';
    const link = linkBetween(lab, 'a', first);
    await failLink(lab, link.id, 'oneway', link.endOf(first)); // packets towards the helper are lost
    const t0 = Date.now();
    // Before the helper's 3 s lease could end (the defect: 8 s here, a's traffic lost all along).
    const s = await c.waitFor('a', (x) => x.claims.some((y) => y.acked && y.helper === next), { timeoutMs: 2500, what: `a helped by ${next}` });
    t.diagnostic(`a moved from ${first} to ${next} after ${Date.now() - t0} ms: ${s.events.slice(-6).map((e) => `${e.type}${e.reason ? `(${String(e.reason)})` : ''}`).join(' ')}`);
    await c.waitFor(first, (s) => !s.helping.some((h) => h.owner === 'a' && !h.lingering), { what: `${first} let go` });
  });
});

test('a helped owner whose wall clock steps by 40 s stays helped: nothing lost', async (t) => {
  // The chaos run's clock step aimed at an owner during its takeover: every control message is stamped with the wall
  // clock and a receiver refuses those more than 30 s off its own (replay protection).
  const { startWorkload } = await import('../../src/lab/workload/index.js');
  await withLive(t, 'cclock', 'trio', {}, async (lab, c) => {
    const wl = await startWorkload(lab, { server: 'a', address: '10.0.0.11', persistent: { connections: 2, intervalMs: 10 }, perRequest: { intervalMs: 50 }, requestTimeoutMs: 5000 });
    try {
      await lab.fail('a:eth0', 'carrier');
      await c.waitFor('a', (s) => s.claims.some((x) => x.acked), { what: 'a helped' });
      c.setClockOffset('a', 40_000);
      // Longer than the lease (3 s): a's renewals must keep counting.
      await holds(5000, 'a stays helped', async () => (await c.status('a')).claims.some((x) => x.acked));
      c.setClockOffset('a', 0);
      await lab.heal('a:eth0');
      await c.waitFor('a', (s) => s.claims.length === 0 && s.publics.every((p) => p.placement.kind === 'own'), { timeoutMs: 15_000, what: 'failback' });
      const r = await wl.stop();
      assert.deepEqual({ failed: r.failed, broken: r.broken_connections, lost: r.inflight_lost }, { failed: 0, broken: 0, lost: 0 }, `gap ${r.max_gap_ms} ms`);
      t.diagnostic(`largest gap ${r.max_gap_ms} ms`);
    } finally {
      await wl.stop().catch(() => undefined);
    }
  });
});

test('a packet for an address a server no longer carries is dropped silently, not refused: the client retries instead of failing', async (t) => {
  // Found by the chaos run (seed 295, #7, on a base with forwarding rules): a LAN host's stale ARP entry still named
  // the helper that had just let go; the helper's "prohibit" rule answered the connection attempt with an ICMP error
  // and the client's connect failed at once (EHOSTUNREACH) instead of retrying and reaching the new helper.
  const { failLink } = await import('../../src/lab/faults.js');
  // Connection attempts answered within 500 ms (before TCP's first SYN retransmission, 1 s): refused, or 'timeout'.
  const connectScript = `const s = require('node:net').connect({ host: '10.0.0.11', port: 9 });
    const t = setTimeout(() => { console.log('timeout'); process.exit(0); }, 500);
    s.on('connect', () => { console.log('connected'); process.exit(0); });
    s.on('error', (e) => { console.log(e.code); process.exit(0); });`;
  await withLive(t, 'cdrop', 'trio', {}, async (lab, c) => {
    await lab.fail('a:eth0', 'carrier');
    const first = (await c.waitFor('a', (s) => s.claims.some((x) => x.acked), { what: 'a helped' })).claims[0]!.helper;
    const [other, link] = first === 'b' ? ['d', 'a:eth1'] : ['b', 'a:eth2'];
    await failLink(lab, link, 'cut');
    await c.waitFor('a', (s) => s.claims.some((x) => x.acked && x.helper === other), { what: `a helped by ${other}` });
    await c.waitFor(first, (s) => !s.helping.some((h) => h.owner === 'a'), { timeoutMs: 15_000, what: `${first} forgot a (linger over)` });
    // The router still believes the first helper answers for a (a stale entry, as neighbours have until the new
    // helper's announcement reaches them).
    const mac = JSON.parse((await lab.exec(first, ['ip', '-j', 'link', 'show', 'eth0'], { check: true })).stdout)[0].address as string;
    const attempt = async () => {
      await lab.exec('r', ['ip', 'neigh', 'replace', '10.0.0.11', 'lladdr', mac, 'dev', 'eth1', 'nud', 'reachable'], { check: true });
      return lab.exec('c', [process.execPath, '-e', connectScript], { check: true });
    };
    // The kernel rate-limits its ICMP errors per sender with a token bucket that starts empty (ip_rt_error_cost 1 s):
    // a first attempt makes the client known, the second, more than a second later, would get the error.
    await attempt();
    await new Promise((res) => setTimeout(res, 1200));
    const r = await attempt();
    t.diagnostic(`connect through ${first}: ${r.stdout.trim()}`);
    assert.notEqual(r.stdout.trim(), 'EHOSTUNREACH', `${first} refused the packet with an ICMP error`);
  });
});

test('after a slow start (peers coming up one by one) a silent failure of the port is a port failure, not a gateway outage', async (t) => {
  // Found by the chaos run (seed 1, #111 slow start of c, then #113 a silent failure of c): while c's peers came up
  // one by one its probe list changed within milliseconds, and the first reply of a peer probed only for those
  // milliseconds reached the core after the list had dropped it; the port's health kept it as a peer that answers,
  // so when c's port went silent, c took it for the gateway's outage ('gateway-unreachable': healthy) and asked no
  // helper: 10.0.0.13 was unreachable until the port healed (7.3 s, 3896 requests lost).
  const { nodeLinks } = await import('../../src/lab/faults.js');
  await withLive(t, 'cslow', 'quad', {}, async (lab, c) => {
    await c.kill('c', 'SIGTERM');
    await nodeLinks(lab, 'c', false);
    await c.start('c'); // ready without peers, once the heartbeat timeout has passed
    await nodeLinks(lab, 'c', true);
    await c.waitFor('c', (s) => s.links.every((l) => l.alive), { what: 'c hears every peer' });
    await lab.fail('c:eth0', 'silent');
    const s = await c.waitFor('c', (x) => x.claims.some((y) => y.acked), { what: 'c helped' });
    assert.ok(!s.events.some((e) => e.type === 'gateway-unreachable'), JSON.stringify(s.events.slice(-8)));
    await lab.heal('c:eth0');
  });
});
