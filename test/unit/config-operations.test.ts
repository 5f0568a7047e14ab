// Configuration of the operator-facing parts (metrics endpoint, notify hook), the generated configuration
// reference (docs/configuration.md must be what `npm run docs:config` writes), and the shipped example files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { validateConfig, parseListen } from '../../src/config/schema.js';
import { configReference } from '../../src/config/reference.js';

const repo = (p: string): URL => new URL(`../../../${p}`, import.meta.url);

const minimal = {
  node: 'a',
  public: [{ interface: 'eth0', addresses: ['10.0.0.11/24'], gateway: '10.0.0.1' }],
  private: [{ interface: 'eth1', peer: 'b', peer_address: '192.168.100.2' }],
};
const issues = (extra: Record<string, unknown>): string[] => {
  const r = validateConfig({ ...minimal, ...extra });
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
};

test('metrics: enabled on 127.0.0.1:9742 by default; listen is ADDRESS:PORT', () => {
  const r = validateConfig(minimal);
  assert.ok(r.ok);
  assert.deepEqual(r.config.metrics, { enabled: true, host: '127.0.0.1', port: 9742 });
  assert.equal(r.config.notify, undefined, 'no hook unless configured');
  assert.deepEqual(parseListen('[::1]:9100'), { host: '::1', port: 9100 });
  assert.deepEqual(parseListen('0.0.0.0:1'), { host: '0.0.0.0', port: 1 });
  for (const bad of ['9742', 'localhost:9742', '10.0.0.300:1', '127.0.0.1:0', '127.0.0.1:70000']) assert.equal(parseListen(bad), undefined, bad);
  assert.deepEqual(issues({ metrics: { listen: 'localhost:9742' } }), ['metrics.listen: "localhost:9742" is not ADDRESS:PORT (like 127.0.0.1:9742 or [::1]:9742)']);
  assert.deepEqual(issues({ metrics: { enable: false } }), ['metrics.enable: unknown field (did you mean "enabled"?)']);
});

test('notify: command required and absolute; events are event names; defaults filled', () => {
  const r = validateConfig({ ...minimal, notify: { command: '/etc/hanet/notify.sh' } });
  assert.ok(r.ok);
  assert.equal(r.config.notify?.timeoutMs, 10_000);
  assert.equal(r.config.notify?.maxConcurrent, 1);
  assert.ok(r.config.notify?.events.includes('takeover-acked'));
  assert.ok(!r.config.notify?.events.includes('message-rejected'), 'protocol chatter is not a default hook event');
  assert.deepEqual(issues({ notify: { command: 'notify.sh' } }), ['notify.command: "notify.sh" is not an absolute path']);
  assert.deepEqual(issues({ notify: {} }), ['notify.command: is required']);
  assert.equal(issues({ notify: { command: '/x', events: ['takeover-done'] } }).length, 1);
  assert.deepEqual(issues({ notify: { command: '/x', timout_ms: 5 } }), ['notify.timout_ms: unknown field (did you mean "timeout_ms"?)']);
});

test('docs/configuration.md is up to date (regenerate with: npm run docs:config)', () => {
  const committed = readFileSync(repo('docs/configuration.md'), 'utf8');
  assert.equal(committed, configReference(), 'docs/configuration.md differs from the schema and example: run npm run docs:config');
  for (const s of ['## `metrics`', '## `notify`', '## `public[].probe`', '| `arp_misses` | integer | 1..1000 | `2` |']) assert.ok(committed.includes(s), s);
});

test('examples/hanet.yaml is a valid configuration; examples/hanet.service runs hanet as documented', () => {
  const r = validateConfig(parseYaml(readFileSync(repo('examples/hanet.yaml'), 'utf8')));
  assert.ok(r.ok, JSON.stringify(r));
  const unit = readFileSync(repo('examples/hanet.service'), 'utf8');
  assert.match(unit, /^Type=simple$/m);
  assert.match(unit, /^Restart=on-failure$/m);
  assert.match(unit, /^ExecStart=\/usr\/bin\/env hanet run -c \/etc\/hanet\/hanet\.yaml$/m);
  assert.doesNotMatch(unit, /^ProtectKernelTunables=yes/m, "hanet writes net sysctls");
  assert.match(unit, /^CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW$/m);
  assert.match(unit, /^RestrictAddressFamilies=.*AF_NETLINK.*AF_PACKET/m, 'netlink and raw ARP sockets allowed');
  assert.doesNotMatch(unit, /^PrivateNetwork=yes/m, 'hanet needs the host network namespace');
});
