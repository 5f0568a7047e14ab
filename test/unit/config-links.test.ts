// Configuration of serial and udp private links: defaults (MTU and heartbeats from the baud rate), field-path
// errors, TUN names, and the lease check against a slow line's heartbeat timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig, serialHeartbeatDefaults, serialMtuDefault, type SerialLinkConfig, type UdpLinkConfig } from '../../src/config/schema.js';
import { toCoreConfig } from '../../src/daemon/core-config.js';

const base = (priv: unknown[], extra: Record<string, unknown> = {}) => ({
  node: 'a',
  public: [{ interface: 'eth0', addresses: ['10.0.0.11/24'], gateway: '10.0.0.1' }],
  private: priv,
  ...extra,
});
const serial = { kind: 'serial', name: 'ser', device: '/dev/ttyS0', baud: 115200, address: '192.168.101.1/30', peer: 'b', peer_address: '192.168.101.2' };
const udp = { kind: 'udp', name: 'wan', local: '192.168.100.1', remote: 'b.example:9000', address: '192.168.102.1', peer: 'b', peer_address: '192.168.102.2' };

function issues(doc: unknown): string[] {
  const r = validateConfig(doc);
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
}

test('serial: defaults from the baud rate, TUN name hn<name>, core sees the TUN and the link heartbeat', () => {
  const r = validateConfig(base([serial]));
  assert.ok(r.ok, JSON.stringify(r));
  const l = r.config.private[0] as SerialLinkConfig;
  assert.deepEqual(
    { kind: l.kind, iface: l.interface, mtu: l.mtu, cost: l.cost, hb: l.heartbeat, addr: l.address, len: l.addressPrefixLen },
    { kind: 'serial', iface: 'hnser', mtu: 576, cost: 100, hb: { intervalMs: 230, timeoutMs: 920 }, addr: '192.168.101.1', len: 30 },
  );
  const core = toCoreConfig(r.config, {});
  assert.deepEqual(core.privates[0], { name: 'ser', kind: 'serial', iface: 'hnser', peer: 'b', localAddress: '192.168.101.1', peerAddress: '192.168.101.2', cost: 100, heartbeat: { intervalMs: 230, timeoutMs: 920 } });
  assert.equal(serialMtuDefault(9600), 296);
  assert.deepEqual(serialHeartbeatDefaults(921600, 20), { intervalMs: 30, timeoutMs: 120 });
  assert.deepEqual(serialHeartbeatDefaults(921600), { intervalMs: 50, timeoutMs: 200 }, 'never faster than the global interval');
});

test('udp: defaults (port 7432, MTU 1420, cost 20), host names allowed for remote', () => {
  const r = validateConfig(base([udp]));
  assert.ok(r.ok, JSON.stringify(r));
  const l = r.config.private[0] as UdpLinkConfig;
  assert.deepEqual({ local: l.local, remote: l.remote, mtu: l.mtu, cost: l.cost, iface: l.interface },
    { local: { address: '192.168.100.1', port: 7432 }, remote: { host: 'b.example', port: 9000 }, mtu: 1420, cost: 20, iface: 'hnwan' });
  assert.equal(toCoreConfig(r.config, {}).privates[0]!.heartbeat, undefined, 'global heartbeats');
});

test('field-path errors for serial and udp links', () => {
  const got = issues(base([{ ...serial, baud: 12345, device: 'ttyS0', mtu: 10, peer_address: '10.1.1.1', extra: 1 }]));
  for (const want of ['private[0].extra: unknown field', 'private[0].device: "ttyS0" is not an absolute path', 'private[0].baud: 12345 is not a standard baud rate', 'private[0].mtu: must be at least 68, got 10', 'private[0].peer_address: "10.1.1.1" is not in the same subnet']) {
    assert.ok(got.some((g) => g.startsWith(want)), `${want}\n in ${got.join('\n')}`);
  }
  const u = issues(base([{ ...udp, local: 'host.example:1', remote: '1.2.3:99999', name: 'averyverylongname' }]));
  for (const want of ['private[0].local: "host.example:1" is not ADDRESS[:PORT]', 'private[0].remote: "1.2.3:99999" is not HOST[:PORT]', 'private[0].interface: the default TUN name "hnaveryverylongname" is longer than 15']) {
    assert.ok(u.some((g) => g.startsWith(want)), `${want}\n in ${u.join('\n')}`);
  }
  assert.ok(issues(base([{ ...serial, name: undefined }])).some((g) => g.startsWith('private[0].name: is required')));
  assert.ok(issues(base([{ kind: 'carrier-pigeon' }])).some((g) => g.includes('"carrier-pigeon" is not a known private link kind (supported: ethernet, serial, udp)')));
});

test('a serial link whose heartbeat timeout reaches the lease is refused, with the fix in the message', () => {
  const got = issues(base([{ ...serial, baud: 9600 }]));
  assert.ok(got.some((g) => g.startsWith('private[0].baud: this link\'s heartbeat timeout (10680 ms, the default at 9600 baud) must be less than takeover.lease_ms (3000)')), got.join('\n'));
  assert.deepEqual(issues(base([{ ...serial, baud: 9600 }], { takeover: { lease_ms: 12000 } })), []);
  assert.ok(issues(base([{ ...serial, heartbeat_interval_ms: 500, heartbeat_timeout_ms: 900 }])).some((g) => g.startsWith('private[0].heartbeat_timeout_ms: must be more than 2 * heartbeat_interval_ms (1000)')));
});

test('TUN names count as interfaces: no clash with a public interface or another link', () => {
  const got = issues(base([serial, { ...udp, interface: 'hnser' }]));
  assert.ok(got.some((g) => g.startsWith('private[1].interface: interface "hnser" is already used by private[0]')), got.join('\n'));
});
