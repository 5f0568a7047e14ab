// Operating a daemon without root: status against its JSON Schema, heartbeat RTT from echoes, rate-limited
// rejection events, metrics during a takeover, and the status table — two daemons with fake kernels, fake ARP and
// in-memory links (with a one-way delay) on mocked timers.
import { test, mock, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Daemon, type Logger } from '../../src/daemon/daemon.js';
import { MemLink } from '../fakes/mem-link.js';
import { DaemonMetrics } from '../../src/daemon/metrics.js';
import { formatStatus } from '../../src/cli/format-status.js';
import { FakeKernel } from '../fakes/fake-kernel.js';
import type { ArpSocket } from '../../src/os/linux/arp.js';
import { EVENT_TYPES, type CoreConfig } from '../../src/core/types.js';
import { parseProcNetDev } from '../../src/os/linux/ifstats.js';
import { defaults, priv, pub } from './core-sim.js';
import { loadStatusSchema, statusSchemaErrors } from '../status-schema.js';

const quiet: Logger = { info() {}, warn() {}, error() {}, debug() {} };
const WALL0 = 1_700_000_000_000;
const ONE_WAY_MS = 3;

interface World { now: number }

function fakeArp(world: World, rttMs: number): ArpSocket {
  let cb: ((r: { senderIp: string; senderMac: string; atMs: number }) => void) | undefined;
  const pending: number[] = [];
  return {
    sendGratuitous() {},
    sendProbe() { pending.push(world.now); },
    onReply(f: typeof cb) { cb = f; return () => { cb = undefined; }; },
    onAnnouncement() { return () => {}; },
    drain() { while (pending.length) { const sentAt = pending.shift()!; cb?.({ senderIp: '10.0.0.1', senderMac: '02:00:00:00:00:01', atMs: sentAt + rttMs }); } },
    close() {},
  } as unknown as ArpSocket;
}

async function setup(t: TestContext) {
  mock.timers.enable({ apis: ['setInterval', 'setTimeout'] });
  t.after(() => mock.timers.reset());
  const world: World = { now: 0 };
  const cfgs: Record<string, CoreConfig> = {
    a: defaults('a', [pub('eth0', '10.0.0.11')], [priv('ab', 'eth1', 'b', '192.168.100.1', '192.168.100.2')]),
    b: defaults('b', [pub('eth0', '10.0.0.12')], [priv('ab', 'eth1', 'a', '192.168.100.2', '192.168.100.1')]),
  };
  const [la, lb] = MemLink.pair('ab', 'a', 'b', () => WALL0 + world.now, ONE_WAY_MS);
  const links = { a: la, b: lb };
  const kernels = { a: new FakeKernel({ links: [{ name: 'eth0' }, { name: 'eth1' }] }), b: new FakeKernel({ links: [{ name: 'eth0' }, { name: 'eth1' }] }) };
  const daemons = Object.fromEntries((['a', 'b'] as const).map((n) => [n, new Daemon(cfgs[n]!, {
    now: () => world.now,
    wallNow: () => WALL0 + world.now,
    kernel: kernels[n],
    openArp: () => fakeArp(world, 0.25),
    openLink: async () => links[n],
    log: quiet,
  }, { carrierIntervalMs: 10 })])) as Record<'a' | 'b', Daemon>;
  const flush = async () => { for (let i = 0; i < 20; i++) await Promise.resolve(); };
  const advance = async (ms: number) => {
    for (let i = 0; i < ms; i++) { world.now += 1; mock.timers.tick(1); await flush(); }
  };
  const metrics = {
    a: new DaemonMetrics(daemons.a, { node: 'a', privates: cfgs.a!.privates, processMetrics: false }),
    b: new DaemonMetrics(daemons.b, { node: 'b', privates: cfgs.b!.privates, processMetrics: false, readIface: () => ifaceB }),
  };
  const ifaceB = { rxBytes: 0, txBytes: 0, rxPackets: 0, txPackets: 0 };
  await Promise.all([daemons.a.start(), daemons.b.start()]);
  t.after(async () => {
    metrics.a.close(); metrics.b.close();
    await daemons.a.stop({ cleanup: false }); await daemons.b.stop({ cleanup: false });
  });
  return { world, kernels, daemons, links, advance, metrics, ifaceB };
}

/** The value of one sample line of the exposition text, e.g. metric('hanet_ready', '') or with labels '{lan="lan0"}'. */
function sample(text: string, name: string, labels = ''): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

test('status: conforms to docs/status.schema.json before, during and after a takeover; the schema lists every event type', async (t) => {
  const { daemons, kernels, advance } = await setup(t);
  const schema = loadStatusSchema() as { $defs: { eventType: { enum: string[] } }; properties: { version: { const: number } } };
  assert.deepEqual(schema.$defs.eventType.enum, [...EVENT_TYPES], 'event types in the schema = EVENT_TYPES');
  await advance(300);
  for (const n of ['a', 'b'] as const) assert.deepEqual(statusSchemaErrors(JSON.parse(JSON.stringify(daemons[n].status()))), [], `${n} at rest`);
  assert.equal(daemons.a.status().version, schema.properties.version.const);
  kernels.a.setLink('eth0', { lowerUp: false, carrier: false });
  await advance(200);
  const a = JSON.parse(JSON.stringify(daemons.a.status()));
  const b = JSON.parse(JSON.stringify(daemons.b.status()));
  assert.equal(a.claims[0]?.acked, true);
  assert.equal(b.helping[0]?.owner, 'a');
  assert.deepEqual(statusSchemaErrors(a), [], 'owner during takeover');
  assert.deepEqual(statusSchemaErrors(b), [], 'helper during takeover');
  // The schema is strict about undocumented fields: an extra field is caught.
  assert.notDeepEqual(statusSchemaErrors({ ...a, surprise: 1 }), []);
  assert.notDeepEqual(statusSchemaErrors({ ...a, links: [{ ...a.links[0], extra: true }] }), []);
});

test('heartbeat RTT: measured from the echo in the peer\'s heartbeats (2 x one-way delay)', async (t) => {
  const { daemons, links, advance } = await setup(t);
  await advance(300);
  const echoed = links.a.sent.filter((m) => m.type === 'heartbeat' && m.echo);
  assert.ok(echoed.length > 5, 'heartbeats carry echoes');
  for (const n of ['a', 'b'] as const) {
    const rtt = daemons[n].status().links[0]!.rtt;
    assert.ok(rtt.samples > 5, `${n}: samples ${rtt.samples}`);
    assert.equal(rtt.lastMs, 2 * ONE_WAY_MS, `${n}: rtt`);
    assert.ok(Math.abs(rtt.avgMs! - 2 * ONE_WAY_MS) < 0.01);
  }
});

test('rejected control messages: counted exactly per link and reason, recorded as message-rejected events at most every 10 s', async (t) => {
  const { daemons, links, advance } = await setup(t);
  await advance(50);
  for (let i = 0; i < 100; i++) links.b.reject('bad-mac');
  links.b.reject('replay');
  let st = daemons.b.status();
  assert.deepEqual(st.rejected, { 'bad-mac': 100, replay: 1 });
  assert.deepEqual(st.links[0]!.rejected, { 'bad-mac': 100, replay: 1 });
  let evs = daemons.b.recentEvents().filter((e) => e.type === 'message-rejected');
  assert.deepEqual(evs.map((e) => [e.reason, e.count]), [['bad-mac', 1], ['replay', 1]]);
  await advance(10_000);
  links.b.reject('bad-mac');
  st = daemons.b.status();
  evs = daemons.b.recentEvents().filter((e) => e.type === 'message-rejected');
  assert.deepEqual(evs.map((e) => [e.reason, e.count]), [['bad-mac', 1], ['replay', 1], ['bad-mac', 100]], 'the next event says how many since the last one');
  assert.equal(st.eventCounts['message-rejected'], 3);
});

test('events and metrics: a takeover is counted (owner: request and ack time; helper: help, relayed bytes), then the failback', async (t) => {
  const { daemons, kernels, advance, metrics, ifaceB } = await setup(t);
  await advance(300);
  let ma = await metrics.a.metrics();
  assert.equal(sample(ma, 'hanet_ready'), 1);
  assert.equal(sample(ma, 'hanet_interface_healthy', '{interface="eth0",lan="lan0"}'), 1);
  assert.equal(sample(ma, 'hanet_link_up', '{link="ab",peer="b"}'), 1);
  assert.equal(sample(ma, 'hanet_heartbeat_rtt_seconds', '{link="ab",peer="b"}'), 0.006);
  assert.equal(sample(ma, 'hanet_probe_rtt_seconds', '{interface="eth0",lan="lan0"}'), 0.00025);
  assert.equal(sample(ma, 'hanet_takeovers_total', '{lan="lan0",helper="b"}'), undefined);
  await metrics.b.metrics(); // a scrape before the takeover: nothing relayed yet

  kernels.a.setLink('eth0', { lowerUp: false, carrier: false });
  await advance(100);
  await new Promise((r) => setImmediate(r)); // the help-start sample of the relay counters runs on the next turn
  // the helper's private link carries the owner's traffic: 1000 bytes to a, 400 from a
  ifaceB.txBytes += 1000;
  ifaceB.rxBytes += 400;
  ma = await metrics.a.metrics();
  const mb = await metrics.b.metrics();
  assert.equal(sample(ma, 'hanet_takeovers_total', '{lan="lan0",helper="b"}'), 1);
  assert.equal(sample(ma, 'hanet_takeover_ack_seconds_count', '{lan="lan0",helper="b"}'), 1);
  const ackSum = sample(ma, 'hanet_takeover_ack_seconds_sum', '{lan="lan0",helper="b"}')!;
  assert.ok(ackSum >= 0.006 && ackSum < 0.05, `request -> ack ${ackSum} s (at least one round trip)`);
  assert.equal(sample(ma, 'hanet_interface_healthy', '{interface="eth0",lan="lan0"}'), 0);
  assert.equal(sample(ma, 'hanet_interface_failures_total', '{interface="eth0",lan="lan0",reason="carrier-down"}'), 1);
  assert.equal(sample(ma, 'hanet_interface_placement', '{interface="eth0",lan="lan0",placement="remote"}'), 1);
  assert.equal(sample(ma, 'hanet_takeover_active', '{lan="lan0",helper="b",acked="true"}'), 1);
  assert.equal(sample(ma, 'hanet_events_total', '{type="takeover-acked"}'), 1);
  assert.equal(sample(mb, 'hanet_helps_total', '{owner="a",lan="lan0"}'), 1);
  assert.equal(sample(mb, 'hanet_helping', '{owner="a",lan="lan0",lingering="false"}'), 1);
  assert.equal(sample(mb, 'hanet_relayed_bytes_total', '{owner="a",link="ab",direction="to_owner"}'), 1000);
  assert.equal(sample(mb, 'hanet_relayed_bytes_total', '{owner="a",link="ab",direction="from_owner"}'), 400);

  const types = daemons.a.recentEvents().map((e) => e.type);
  for (const ty of ['iface-failed', 'takeover-requested', 'takeover-acked', 'kernel-changed'] as const) assert.ok(types.includes(ty), `a recorded ${ty}: ${types.join(' ')}`);
  const btypes = daemons.b.recentEvents().map((e) => e.type);
  for (const ty of ['help-start', 'kernel-changed', 'announced'] as const) assert.ok(btypes.includes(ty), `b recorded ${ty}: ${btypes.join(' ')}`);
  const kc = daemons.b.recentEvents().filter((e) => e.type === 'kernel-changed');
  assert.ok(kc.some((e) => (e.ops as string[]).some((o) => o.includes('proxy 10.0.0.11'))), JSON.stringify(kc));

  const text = formatStatus(daemons.a.status());
  assert.match(text, /PUBLIC INTERFACES\n\s+INTERFACE\s+LAN\s+HEALTH/);
  assert.match(text, /eth0\s+lan0\s+FAILED carrier-down/);
  assert.match(text, /by b over ab/);
  assert.match(text, /ab\s+ethernet\s+b\s+alive\s+up\s+.* ago\s+6 ms/);
  assert.match(text, /owner\s+lan0\s+b carries ours\s+10\.0\.0\.11/);
  assert.match(formatStatus(daemons.b.status()), /helper\s+lan0\s+we carry a's\s+10\.0\.0\.11/);

  kernels.a.setLink('eth0', { lowerUp: true, carrier: true });
  await advance(1500);
  ifaceB.txBytes += 50; // during the release linger the route still carries packets to a
  await advance(2500); // past the linger
  await new Promise((r) => setImmediate(r));
  ifaceB.txBytes += 7777; // no longer helping: not counted
  ma = await metrics.a.metrics();
  const mb2 = await metrics.b.metrics();
  assert.equal(sample(ma, 'hanet_failbacks_total', '{interface="eth0",lan="lan0",from="remote"}'), 1);
  assert.equal(sample(mb2, 'hanet_help_duration_seconds_count', '{owner="a",lan="lan0",end="help-release"}'), 1);
  assert.equal(sample(mb2, 'hanet_relayed_bytes_total', '{owner="a",link="ab",direction="to_owner"}'), 1050);
  assert.equal(sample(mb2, 'hanet_helping', '{owner="a",lan="lan0",lingering="false"}'), undefined);
  assert.deepEqual(statusSchemaErrors(JSON.parse(JSON.stringify(daemons.a.status()))), []);
});

test('/proc/net/dev parsing', () => {
  const text = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1234      10    0    0    0     0          0         0     1234      10    0    0    0     0       0          0
  eth1: 987654321  12345    0    0    0     0          0         0 123456789   2345    0    0    0     0       0          0
`;
  const m = parseProcNetDev(text);
  assert.deepEqual(m.get('eth1'), { rxBytes: 987654321, rxPackets: 12345, txBytes: 123456789, txPackets: 2345 });
  assert.equal(m.get('lo')?.txBytes, 1234);
});

test('docs: every metric is in docs/metrics.md, every event type in docs/events.md', async () => {
  const { readFileSync } = await import('node:fs');
  const doc = (p: string) => readFileSync(new URL(`../../../docs/${p}`, import.meta.url), 'utf8');
  const metricsDoc = doc('metrics.md');
  const src = { status: () => { throw new Error('not scraped'); }, onEvent: () => () => undefined };
  const m = new DaemonMetrics(src as never, { node: 'a', privates: [], processMetrics: false });
  const names = m.registry.getMetricsAsArray().map((x) => (x as unknown as { name: string }).name);
  m.close();
  assert.ok(names.length > 20);
  for (const n of names) assert.ok(metricsDoc.includes(`\`${n}\``), `docs/metrics.md documents ${n}`);
  const eventsDoc = doc('events.md');
  for (const e of EVENT_TYPES) assert.ok(eventsDoc.includes(`\`${e}\``), `docs/events.md documents ${e}`);
});
