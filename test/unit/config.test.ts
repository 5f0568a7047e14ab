// Tests of the configuration: defaults, table-driven invalid configs with their error paths, the annotated
// example, key files, and the config CLI commands.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, statSync, readFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { parse as parseYaml, stringify } from 'yaml';
import { parseConfig, loadConfig, loadKey, parseKey } from '../../src/config/load.js';
import { ConfigError, validateConfig, type Config } from '../../src/config/schema.js';
import { configExample } from '../../src/config/example.js';
import { checkConfigFile, registerConfigCommands } from '../../src/cli/config.js';
import { isHanetError } from '../../src/errors.js';

const minimal = `
node: a
public:
  - interface: eth0
    addresses: [10.0.0.11/24]
    gateway: 10.0.0.1
private:
  - interface: eth1
    peer: b
    peer_address: 192.168.100.2
`;

/** Issues of a document given as an object (merged over the minimal config); [] when valid. */
function issuesOf(doc: unknown): string[] {
  const r = validateConfig(doc);
  return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`);
}
const base = (): Record<string, any> => parseYaml(minimal);
const withBase = (edit: (d: Record<string, any>) => void): Record<string, any> => { const d = base(); edit(d); return d; };

test('minimal config: every default filled', () => {
  const c = parseConfig(minimal);
  const expected: Config = {
    node: 'a',
    keyFile: '/etc/hanet/cluster.key',
    controlSocket: '/run/hanet/hanet.sock',
    logLevel: 'info',
    port: 7431,
    public: [{
      interface: 'eth0', mode: 'l2', lan: 'lan0', addresses: [{ family: 4, address: '10.0.0.11', prefixLen: 24 }], gateways: ['10.0.0.1'],
      defaultRoute: true, probe: { carrierIntervalMs: 10, arpIntervalMs: 10, arpMisses: 2, arp: true },
    }],
    private: [{ kind: 'ethernet', name: 'eth1', interface: 'eth1', peer: 'b', peerAddress: '192.168.100.2', cost: 10 }],
    heartbeat: { intervalMs: 50, timeoutMs: 200 },
    takeover: { leaseMs: 3000, failbackHoldMs: 1000, garpCount: 3, garpIntervalMs: 50, releaseLingerMs: 2000, canHelp: true },
    metrics: { enabled: true, host: '127.0.0.1', port: 9742 },
  };
  assert.deepEqual(c, expected);
});

test('default_route: first public interface only, unless another sets it', () => {
  const two = (second: Record<string, unknown>) => withBase((d) => {
    d.public.push({ interface: 'eth2', lan: 'lan1', addresses: ['10.1.0.11/24'], gateway: '10.1.0.1', ...second });
  });
  const routes = (doc: unknown) => { const r = validateConfig(doc); assert.ok(r.ok, JSON.stringify(r)); return r.config.public.map((p) => p.defaultRoute); };
  assert.deepEqual(routes(two({})), [true, false]);
  assert.deepEqual(routes(two({ default_route: true })), [false, true]);
  assert.deepEqual(routes(withBase((d) => { d.public[0].default_route = false; })), [false]);
});

test('address with prefix on a private link', () => {
  const r = validateConfig(withBase((d) => { d.private[0].address = '192.168.100.1/30'; d.private[0].name = 'ab'; }));
  assert.ok(r.ok);
  assert.deepEqual(r.config.private[0], { kind: 'ethernet', name: 'ab', interface: 'eth1', address: '192.168.100.1', addressPrefixLen: 30, peer: 'b', peerAddress: '192.168.100.2', cost: 10 });
  const plain = validateConfig(withBase((d) => { d.private[0].address = '192.168.100.1'; d.private[0].peer_address = '172.16.0.1'; }));
  assert.ok(plain.ok, 'no prefix given: the subnet check is skipped');
  assert.equal(plain.config.private[0]!.addressPrefixLen, undefined);
});

const valid: Array<[string, (d: Record<string, any>) => void]> = [
  ['arp off, no gateway', (d) => { delete d.public[0].gateway; d.public[0].probe = { arp: false }; d.public[0].default_route = false; }],
  ['kind given explicitly', (d) => { d.private[0].kind = 'ethernet'; }],
  ['several addresses and links', (d) => {
    d.public[0].addresses.push('10.0.0.12/24', '10.0.1.5/24');
    d.private.push({ interface: 'eth2', peer: 'c', peer_address: '192.168.101.2', cost: 5 });
  }],
  ['/32 service address with gateway in another prefix of the interface', (d) => { d.public[0].addresses = ['10.0.0.11/24', '203.0.113.5/32']; }],
  ['dual-stack: an IPv6 service address and a link-local IPv6 gateway', (d) => { d.public[0].addresses.push('2001:db8::11/64'); d.public[0].gateway = ['10.0.0.1', 'fe80::1']; }],
  ['IPv6-only interface', (d) => { d.public[0].addresses = ['2001:db8::11/64']; d.public[0].gateway = '2001:db8::1'; }],
  ['every tunable set', (d) => {
    Object.assign(d, { key_file: '/k', control_socket: '/s', log_level: 'debug', port: 9000,
      heartbeat: { interval_ms: 10, timeout_ms: 50 },
      takeover: { lease_ms: 500, failback_hold_ms: 0, garp_count: 0, garp_interval_ms: 1, release_linger_ms: 0, can_help: false } });
  }],
];
for (const [name, edit] of valid) {
  test(`valid: ${name}`, () => assert.deepEqual(issuesOf(withBase(edit)), []));
}

// Each case: an edit of the minimal config and the exact issues expected (path: message).
const invalid: Array<[string, (d: Record<string, any>) => void, string[]]> = [
  ['bad CIDR', (d) => { d.public[0].addresses = ['10.0.0.11/24', '10.0.0.300/24']; },
    ['public[0].addresses[1]: "10.0.0.300/24" is not an IPv4 or IPv6 CIDR (like 10.0.0.11/24 or 2001:db8::11/64)']],
  ['address without prefix', (d) => { d.public[0].addresses = ['10.0.0.11']; },
    ['public[0].addresses[0]: "10.0.0.11" is not an IPv4 or IPv6 CIDR (like 10.0.0.11/24 or 2001:db8::11/64)']],
  ['leading zero (octal ambiguity)', (d) => { d.public[0].gateway = '10.0.0.01'; }, ['public[0].gateway: "10.0.0.01" is not an IPv4 or IPv6 address']],
  ['network address as service address', (d) => { d.public[0].addresses = ['10.0.0.0/24']; },
    ['public[0].addresses[0]: "10.0.0.0/24" is the network address of its prefix, not a host address']],
  ['no addresses', (d) => { d.public[0].addresses = []; }, ['public[0].addresses: must have at least 1 entry']],
  ['no public', (d) => { d.public = []; }, ['public: must have at least 1 entry']],
  ['no private', (d) => { delete d.private; }, ['private: is required']],
  ['missing node', (d) => { delete d.node; }, ['node: is required']],
  ['bad node name', (d) => { d.node = 'A_1'; },
    ['node: "A_1" is not a valid node name (lowercase letters, digits and \'-\', starting with a letter or digit, at most 63)']],
  ['gateway outside the prefixes', (d) => { d.public[0].gateway = '10.0.1.1'; },
    ['public[0].gateway: "10.0.1.1" is not inside the prefix of any of the interface\'s IPv4 addresses (10.0.0.11/24)']],
  ['IPv6: a link-local service address', (d) => { d.public[0].addresses = ['10.0.0.11/24', 'fe80::11/64']; },
    ['public[0].addresses[1]: "fe80::11/64" is a link-local address: a service address must be a unicast address reachable beyond the link']],
  ['IPv6: a prefix where a host address is needed', (d) => { d.public[0].addresses = ['10.0.0.11/24', '2001:db8::/64']; },
    ['public[0].addresses[1]: "2001:db8::/64" is the network address of its prefix, not a host address']],
  ['IPv6: a gateway outside every IPv6 prefix', (d) => { d.public[0].addresses = ['10.0.0.11/24', '2001:db8::11/64']; d.public[0].gateway = ['10.0.0.1', '2001:db9::1']; },
    ['public[0].gateway[1]: "2001:db9::1" is not inside the prefix of any of the interface\'s IPv6 addresses (2001:db8::11/64)']],
  ['IPv6: an IPv6 gateway on an IPv4-only interface', (d) => { d.public[0].gateway = ['10.0.0.1', '2001:db8::1']; },
    ['public[0].gateway[1]: "2001:db8::1" is not inside the prefix of any of the interface\'s IPv6 addresses (it has none)']],
  ['two gateways of one family', (d) => { d.public[0].gateway = ['10.0.0.1', '10.0.0.2']; },
    ['public[0].gateway[1]: "10.0.0.2": only one IPv4 gateway per interface (also gateway[0])']],
  ['gateway required with arp', (d) => { delete d.public[0].gateway; },
    ['public[0].gateway: is required when probe.arp is true (the gateway is the ARP probe target); set it, or set probe.arp: false']],
  ['duplicate interface across public and private', (d) => { d.private[0].interface = 'eth0'; },
    ['private[0].interface: interface "eth0" is already used by public[0]']],
  ['duplicate service address across interfaces', (d) => {
    d.public.push({ interface: 'eth2', addresses: ['10.0.0.11/24'], gateway: '10.0.0.1' });
  }, ['public[1].addresses[0]: "10.0.0.11" is already a service address of public[0].addresses[0]']],
  ['two default routes', (d) => {
    d.public[0].default_route = true;
    d.public.push({ interface: 'eth2', lan: 'lan1', addresses: ['10.1.0.11/24'], gateway: '10.1.0.1', default_route: true });
  }, ['public[1].default_route: only one public interface may carry the default route (public[0] already does)']],
  ['heartbeat timeout too short', (d) => { d.heartbeat = { interval_ms: 100 }; },
    ['heartbeat.timeout_ms: must be more than 2 * interval_ms (200), got 200: one lost heartbeat must not declare the link down']],
  ['lease not longer than timeout', (d) => { d.takeover = { lease_ms: 200 }; },
    ['takeover.lease_ms: must be more than heartbeat.timeout_ms (200), got 200']],
  ['private link to itself', (d) => { d.private[0].peer = 'a'; },
    ['private[0].peer: "a" is this node itself; a private link must lead to another node']],
  ['peer address in another subnet', (d) => { d.private[0].address = '192.168.100.1/30'; d.private[0].peer_address = '192.168.100.5'; },
    ['private[0].peer_address: "192.168.100.5" is not in the same subnet as address "192.168.100.1/30"']],
  ['duplicate link name', (d) => { d.private.push({ name: 'eth1', interface: 'eth2', peer: 'c', peer_address: '192.168.101.2' }); },
    ['private[1].name: link name "eth1" is already used by private[0]']],
  ['serial link without its required fields', (d) => { d.private[0] = { kind: 'serial', device: '/dev/ttyS0', peer: 'b' }; },
    ['private[0].name: is required', 'private[0].baud: is required', 'private[0].address: is required', 'private[0].peer_address: is required']],
  ['unknown kind', (d) => { d.private[0].kind = 'carrier-pigeon'; },
    ['private[0].kind: "carrier-pigeon" is not a known private link kind (supported: ethernet, serial, udp)']],
  ['typo with suggestion', (d) => { d.public[0].probe = { arp_intervall_ms: 5 }; },
    ['public[0].probe.arp_intervall_ms: unknown field (did you mean "arp_interval_ms"?)']],
  ['unknown top-level field', (d) => { d.colour = 'blue'; }, ['colour: unknown field']],
  ['wrong types', (d) => { d.port = '7431'; d.public[0].probe = { arp: 'yes' }; d.takeover = { can_help: 1 }; }, [
    'port: must be a number, got string "7431"',
    'public[0].probe.arp: must be true or false, got string "yes"',
    'takeover.can_help: must be true or false, got number 1',
  ]],
  ['out of range', (d) => { d.port = 70000; d.heartbeat = { interval_ms: 0 }; }, [
    'port: must be at most 65535, got 70000',
    'heartbeat.interval_ms: must be at least 1, got 0',
  ]],
  ['non-integer', (d) => { d.takeover = { garp_count: 2.5 }; }, ['takeover.garp_count: must be an integer, got number 2.5']],
  ['bad log level', (d) => { d.log_level = 'loud'; },
    ['log_level: "loud" is not one of "trace", "debug", "info", "warn", "error", "fatal", "silent"']],
  ['relative key path', (d) => { d.key_file = 'cluster.key'; }, ['key_file: "cluster.key" is not an absolute path']],
  ['public entry is not a mapping', (d) => { d.public = ['eth0']; }, ['public[0]: must be a mapping, got string "eth0"']],
  ['many problems at once', (d) => {
    d.node = 'b';
    d.public[0].addresses = ['x'];
    d.private[0].interface = 'eth0';
    d.takeover = { lease_ms: 10 };
  }, [
    'public[0].addresses[0]: "x" is not an IPv4 or IPv6 CIDR (like 10.0.0.11/24 or 2001:db8::11/64)',
    'private[0].interface: interface "eth0" is already used by public[0]',
    'private[0].peer: "b" is this node itself; a private link must lead to another node',
    'takeover.lease_ms: must be more than heartbeat.timeout_ms (200), got 10',
  ]],
];
for (const [name, edit, expected] of invalid) {
  test(`invalid: ${name}`, () => assert.deepEqual(issuesOf(withBase(edit)), expected));
}

test('parseConfig throws one HANET_ERR_CONFIG naming the source and every issue', () => {
  const doc = withBase((d) => { d.port = 0; d.node = 'X'; });
  assert.throws(() => parseConfig(stringify(doc), { source: 'test.yaml' }), (e: unknown) => {
    assert.ok(e instanceof ConfigError && isHanetError(e, 'HANET_ERR_CONFIG'));
    assert.match(e.message, /^test\.yaml: 2 configuration errors:\n {2}node: .*\n {2}port: must be at least 1, got 0$/);
    assert.deepEqual(e.issues.map((i) => i.path), ['node', 'port']);
    return true;
  });
});

test('YAML problems: syntax, duplicate keys, empty, not a mapping', () => {
  const issues = (text: string) => { try { parseConfig(text); return []; } catch (e) { return (e as ConfigError).issues; } };
  assert.match(issues('node: [a\n')[0]!.path, /^line \d+, column \d+$/);
  assert.match(issues('node: a\nnode: b\n')[0]!.message, /unique/i);
  assert.deepEqual(issues(''), [{ path: '(root)', message: 'the configuration is empty' }]);
  assert.deepEqual(issues('- a\n'), [{ path: '(root)', message: 'must be a mapping, got a list' }]);
});

test('the annotated example parses and explains every field', () => {
  const text = configExample();
  const c = parseConfig(text, { source: '<example>' });
  assert.equal(c.node, 'a');
  assert.equal(c.private[0]!.name, 'ab');
  // every field of the schema appears in the example, each with a comment block somewhere above
  for (const field of ['node', 'key_file', 'control_socket', 'log_level', 'port', 'public', 'interface', 'lan', 'addresses', 'gateway',
    'default_route', 'probe', 'carrier_interval_ms', 'arp_interval_ms', 'arp_misses', 'arp', 'private', 'name', 'kind', 'address',
    'peer', 'peer_address', 'cost', 'heartbeat', 'interval_ms', 'timeout_ms', 'takeover', 'lease_ms', 'failback_hold_ms',
    'garp_count', 'garp_interval_ms', 'release_linger_ms', 'can_help']) {
    assert.match(text, new RegExp(`^[ -]*${field}:`, 'm'), field);
  }
  assert.ok(text.split('\n').filter((l) => l.trim().startsWith('#')).length > 30);
});

// ---------------------------------------------------------------------------------------------------------------
// Key files and the CLI

const dir = mkdtempSync(join(tmpdir(), 'hanet-config-test-'));
const keyFile = (name: string, content: string | Buffer, mode = 0o600): string => {
  const p = join(dir, name);
  writeFileSync(p, content, { mode });
  chmodSync(p, mode);
  return p;
};

test('key formats: hex, base64, raw; too short is an error', () => {
  const bytes = Buffer.from(Array.from({ length: 32 }, (_, i) => i * 7));
  assert.deepEqual(loadKey(keyFile('hex', `${bytes.toString('hex')}\n`)), bytes);
  assert.deepEqual(loadKey(keyFile('b64', `  ${bytes.toString('base64')}\n`)), bytes);
  assert.deepEqual(parseKey(Buffer.from(bytes.toString('hex').toUpperCase())).format, 'hex');
  const raw = Buffer.from('a passphrase, not hex or base64\n');
  assert.deepEqual(parseKey(raw), { key: raw, format: 'raw' });
  assert.throws(() => loadKey(keyFile('short', '00112233445566778899aabbccddee')), /15 bytes \(read as hex\)/);
  assert.throws(() => parseKey(Buffer.from('short')), /at least 16/);
});

test('key file must not be accessible by group or others (the key authenticates takeovers)', () => {
  const p = keyFile('open', 'ab'.repeat(32), 0o644);
  assert.throws(() => loadKey(p), (e) => isHanetError(e, 'HANET_ERR_CONFIG') && /mode 0644.*chmod 600/.test((e as Error).message));
  assert.throws(() => loadKey(keyFile('group', 'ab'.repeat(32), 0o640)), /mode 0640.*chmod 600/, 'group access is refused');
  assert.ok(loadKey(keyFile('own', 'ab'.repeat(32), 0o400)).length === 32, 'owner-only read is fine');
  assert.throws(() => loadKey(join(dir, 'missing')), /cannot read key file .*ENOENT/);
  assert.throws(() => loadKey(dir), /not a regular file/);
});

test('loadConfig: missing file is a HANET_ERR_CONFIG', () => {
  assert.throws(() => loadConfig(join(dir, 'nope.yaml')), (e) => isHanetError(e, 'HANET_ERR_CONFIG') && /ENOENT/.test((e as Error).message));
});

test('hanet check: summary on success, errors on failure', () => {
  const key = keyFile('cluster.key', 'cd'.repeat(32));
  const good = join(dir, 'good.yaml');
  writeFileSync(good, minimal + `key_file: ${key}\n`);
  const r = checkConfigFile(good);
  assert.equal(r.ok, true);
  assert.match(r.out[0]!, /^ok: node a, 1 public interface, 1 service address, 1 private link, 1 peer, .*key 32 bytes \(hex, mode 0600\)$/);

  const noKey = join(dir, 'nokey.yaml');
  writeFileSync(noKey, minimal + `key_file: ${join(dir, 'absent.key')}\n`);
  const r2 = checkConfigFile(noKey);
  assert.equal(r2.ok, false);
  assert.match(r2.err[0]!, /key_file: cannot read key file/);

  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, minimal.replace('10.0.0.11/24', '10.0.0.300/24'));
  const r3 = checkConfigFile(bad);
  assert.equal(r3.ok, false);
  assert.match(r3.err[0]!, /public\[0\]\.addresses\[0\]: "10\.0\.0\.300\/24" is not an IPv4 or IPv6 CIDR/);
});

test('hanet key generate --out writes 32 random bytes as hex, mode 0600, and refuses to overwrite', async () => {
  const out = join(dir, 'gen.key');
  const run = async (...args: string[]) => {
    const program = new Command().exitOverride();
    registerConfigCommands(program);
    await program.parseAsync(['node', 'hanet', ...args]);
  };
  const origErr = process.stderr.write.bind(process.stderr);
  process.stderr.write = (() => true) as typeof process.stderr.write;
  try {
    await run('key', 'generate', '--out', out);
  } finally {
    process.stderr.write = origErr;
  }
  assert.match(readFileSync(out, 'utf8'), /^[0-9a-f]{64}\n$/);
  assert.equal(statSync(out).mode & 0o777, 0o600);
  assert.equal(loadKey(out).length, 32);
  await assert.rejects(run('key', 'generate', '--out', out), /exists; use --force/);
});
