// Operating hanet on the lab (root): during a real takeover, `hanet status --json` conforms to its committed JSON
// Schema, the Prometheus endpoint counts the takeover (owner and helper side, bytes relayed), notify hooks record
// each step, and `hanet events` shows the steps with their times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../helpers.js';
import { withCluster } from './with-cluster.js';
import { statusSchemaErrors } from '../status-schema.js';
import { hanetArgv, type LabHandle } from '../../src/lab/lab.js';

const read = (path: string): string => { try { return readFileSync(path, 'utf8'); } catch { return ''; } };

/** Scrapes a node's metrics endpoint from inside its namespace (it listens on the namespace's loopback). */
async function scrape(lab: LabHandle, node: string): Promise<string> {
  const js = "fetch('http://127.0.0.1:9742/metrics').then((r) => r.text()).then((t) => process.stdout.write(t), (e) => { console.error(String(e)); process.exit(1); })";
  return (await lab.exec(node, [process.execPath, '-e', js], { check: true, timeoutMs: 10_000 })).stdout;
}

/** Sum of the samples of a metric whose labels contain every given `key="value"`. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum = (sum ?? 0) + Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

test('a takeover as an operator sees it: status --json against its schema, metrics counted, hooks run, events listed', async (t) => {
  // Outside the lab's working directory, which 'lab up --replace' empties.
  const dir = mkdtempSync(join(tmpdir(), 'hanet-hooks-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const hook = join(dir, 'notify.sh');
  writeFileSync(hook, '#!/bin/sh\necho "$HANET_TIME $HANET_EVENT role=$HANET_ROLE peer=$HANET_PEER lan=$HANET_LAN addresses=$HANET_ADDRESSES arg=$1" >> "' + dir + '/$HANET_NODE.log"\n', { mode: 0o755 });
  await withCluster(t, { name: 'oops', topology: 'pair', cluster: { common: { notify: { command: hook, timeout_ms: 5000 } } } }, async (lab, c) => {
    const hanet = (node: string, args: string[]) => lab.exec(node, [...hanetArgv(), ...args, '-s', c.socketPath(node)], { check: true });

    // At rest.
    const before = await scrape(lab, 'a');
    assert.equal(metric(before, 'hanet_ready'), 1);
    assert.equal(metric(before, 'hanet_interface_healthy', { interface: 'eth0' }), 1);
    assert.equal(metric(before, 'hanet_link_up', { peer: 'b' }), 1);
    assert.equal(metric(before, 'hanet_takeovers_total'), undefined, 'no takeover yet');
    await waitFor(async () => (metric(await scrape(lab, 'a'), 'hanet_heartbeat_rtt_seconds', { peer: 'b' }) ?? -1) >= 0, { what: 'a heartbeat RTT sample' });
    const rest = JSON.parse((await hanet('a', ['status', '--json'])).stdout);
    assert.deepEqual(statusSchemaErrors(rest), [], 'status --json at rest');
    assert.ok(rest.links[0].rtt.samples > 0, 'heartbeat RTT measured');
    await waitFor(() => read(join(dir, 'a.log')).includes(' ready '), { what: 'the ready hook on a' });

    // The takeover.
    await lab.fail('a:eth0', 'carrier');
    await c.waitFor('a', (s) => s.claims.some((x) => x.acked), { what: 'takeover acknowledged' });
    await c.waitFor('b', (s) => s.helping.some((h) => h.owner === 'a'), { what: 'b helping' });
    const ping = await lab.exec('c', ['ping', '-c', '10', '-i', '0.05', '-W', '1', '10.0.0.11'], { check: false });
    assert.equal(ping.code, 0, `a reachable through b: ${ping.stdout}`);
    const ma = await scrape(lab, 'a');
    const mb = await scrape(lab, 'b');
    t.diagnostic(`a during the takeover:\n${ma.split('\n').filter((l) => l.startsWith('hanet_') && !l.includes('_bucket')).join('\n')}`);
    assert.equal(metric(ma, 'hanet_takeovers_total', { helper: 'b' }), 1);
    assert.equal(metric(ma, 'hanet_takeover_ack_seconds_count', { helper: 'b' }), 1);
    const ack = metric(ma, 'hanet_takeover_ack_seconds_sum', { helper: 'b' })!;
    assert.ok(ack > 0 && ack < 1, `request -> ack ${ack} s`);
    assert.equal(metric(ma, 'hanet_interface_failures_total', { interface: 'eth0', reason: 'carrier-down' }), 1);
    assert.equal(metric(ma, 'hanet_interface_placement', { interface: 'eth0', placement: 'remote' }), 1);
    assert.equal(metric(mb, 'hanet_helps_total', { owner: 'a' }), 1);
    assert.equal(metric(mb, 'hanet_helping', { owner: 'a', lingering: 'false' }), 1);
    const relayed = metric(mb, 'hanet_relayed_bytes_total', { owner: 'a', direction: 'to_owner' }) ?? 0;
    assert.ok(relayed >= 10 * 84, `b relayed the pings to a: ${relayed} bytes`); // 10 echo requests, 84 bytes of IP each
    const sa = JSON.parse((await hanet('a', ['status', '--json'])).stdout);
    const sb = JSON.parse((await hanet('b', ['status', '--json'])).stdout);
    assert.deepEqual(statusSchemaErrors(sa), [], 'owner status --json during the takeover');
    assert.deepEqual(statusSchemaErrors(sb), [], 'helper status --json during the takeover');
    const text = (await hanet('a', ['status'])).stdout;
    t.diagnostic(`hanet status on a:\n${text}`);
    assert.match(text, /eth0\s+\S+\s+FAILED carrier-down/);
    assert.match(text, /owner\s+\S+\s+b carries ours\s+10\.0\.0\.11/);
    await waitFor(() => read(join(dir, 'a.log')).includes('takeover-acked role=owner peer=b'), { what: 'the takeover-acked hook on a' });
    await waitFor(() => read(join(dir, 'b.log')).includes('help-start role=helper peer=a'), { what: 'the help-start hook on b' });
    assert.match(read(join(dir, 'a.log')), /takeover-acked role=owner peer=b lan=\S+ addresses=10\.0\.0\.11 arg=takeover-acked/);

    // The failback.
    await lab.heal('a:eth0');
    await c.waitFor('a', (s) => s.claims.length === 0 && s.publics.every((p) => p.placement.kind === 'own'), { timeoutMs: 15_000, what: 'failback' });
    await waitFor(() => read(join(dir, 'a.log')).includes(' failback '), { what: 'the failback hook on a' });
    await waitFor(() => read(join(dir, 'b.log')).includes(' help-release '), { what: 'the help-release hook on b' });
    const after = await scrape(lab, 'a');
    assert.equal(metric(after, 'hanet_failbacks_total', { interface: 'eth0', from: 'remote' }), 1);
    assert.equal(metric(after, 'hanet_hook_runs_total', { event: 'takeover-acked', result: 'ok' }), 1);
    await waitFor(async () => metric(await scrape(lab, 'b'), 'hanet_help_duration_seconds_count', { owner: 'a' }) === 1, { what: 'the help duration observed on b' });

    // hanet events: every step, in order, with its time.
    const evs = (await hanet('a', ['events', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; time: string });
    const order = ['iface-failed', 'takeover-requested', 'takeover-acked', 'iface-recovered', 'failback', 'release-acked'];
    let i = 0;
    for (const e of evs) if (e.type === order[i]) i++;
    assert.equal(i, order.length, `steps in order: ${evs.map((e) => e.type).join(' ')}`);
    assert.ok(evs.every((e) => /^\d{4}-\d\d-\d\dT/.test(e.time)), 'every event has its time');
    const lines = (await hanet('b', ['events'])).stdout;
    assert.match(lines, /help-start\s+owner=a/);
    assert.match(lines, /announced\s+iface=eth0 addresses=10\.0\.0\.11/);
  });
});
