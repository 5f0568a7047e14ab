// Lab tests of issue #12 (root): the failover suite (failover-suite.ts: carrier, silent and admin failures under
// load, 10 cycles on the same connections, kill -9 of owner and helper during a takeover, local backup, three
// servers) over IPv6-only (pair6, trio6, dual6) and dual-stack labs (pair46, trio46, dual46: a workload on each
// family at once, each must lose nothing); and an IPv6 gateway given by its global address instead of the router's
// link-local one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { parse } from 'yaml';
import { defaultTopology, type Topology } from '../../src/lab/topology.js';
import { DUAL_STACK, failedBack, failoverSuite, IPV6_ONLY, startLoad, tookOver, withCluster, assertNothingLost } from './failover-suite.js';

failoverSuite(IPV6_ONLY);
failoverSuite(DUAL_STACK);

/** pair6 whose router lists no link-local address: the servers' default route and hanet's gateway are 2001:db8::1. */
function pair6GlobalGateway(): Topology {
  const t = structuredClone(defaultTopology('pair6'));
  const r = t.nodes.r!.ports.find((p) => p.name === 'eth1')!;
  r.addresses = r.addresses.filter((a) => !a.startsWith('fe80:'));
  for (const n of ['a', 'b']) t.nodes[n]!.routes = t.nodes[n]!.routes.map((x) => (x.to === 'default' ? { to: 'default', via: '2001:db8::1', dev: 'eth0' } : x));
  return t;
}

test('IPv6-only, the gateway given by its global address: a silent failure is found by probing it, nothing lost', async (t) => {
  await withCluster(t, 'l6glob', pair6GlobalGateway(), async (lab, c) => {
    const cfg = parse(readFileSync(c.configPath('a'), 'utf8')) as { public: Array<{ gateway?: unknown }> };
    assert.equal(cfg.public[0]?.gateway, '2001:db8::1', 'the generated configuration names the global gateway');
    const load = await startLoad(lab, IPV6_ONLY);
    await delay(1000);
    await lab.fail('a:eth0', 'silent');
    const s = await tookOver(c);
    assert.equal(s.publics[0]?.health.reason, 'arp-timeout', 'the probes of the gateway found the silent failure');
    await delay(1500);
    await lab.heal('a:eth0');
    await failedBack(c);
    await delay(500);
    for (const { what, report } of await load.stop()) assertNothingLost(report, `global gateway over ${what}`);
  });
});
