// The configuration schema as the one place per field: every field carries its description and appears in the
// reference and in the annotated example, unknown-field hints know every field, the address validators follow the
// families a field accepts, and the lab's generated configurations are valid.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { camelKeys } from '../../src/config/camel.js';
import { allFields, configFields, knownKeys, type FieldDoc } from '../../src/config/describe.js';
import { COMMENTED_OUT, configExample, EXAMPLE } from '../../src/config/example.js';
import { ipAddress, ipHostCidr, ipMaybePrefix, parseHostPort, parseListen, type AddressField, type Families } from '../../src/config/fields.js';
import { lineBytesPerSecond, lineTimeMs, serialHeartbeatDefaults, serialMtuDefault } from '../../src/config/links/serial.js';
import { configReference } from '../../src/config/reference.js';
import { validateConfig } from '../../src/config/schema.js';
import { serverConfig } from '../../src/lab/cluster.js';
import { defaultTopology, embeddedTopologyNames } from '../../src/lab/topology.js';
import { LinePacer } from '../../src/links/serial.js';

const fields = allFields();
const issues = (doc: unknown): string[] => { const r = validateConfig(doc); return r.ok ? [] : r.issues.map((i) => `${i.path}: ${i.message}`); };

test('the schema has the fields and kinds the docs walk', () => {
  assert.deepEqual(configFields().map((f) => f.key),
    ['node', 'key_file', 'control_socket', 'log_level', 'port', 'public', 'private', 'heartbeat', 'takeover', 'metrics', 'notify']);
  assert.deepEqual(configFields().find((f) => f.key === 'private')?.kinds?.map((k) => k.kind), ['ethernet', 'serial', 'udp']);
  assert.ok(fields.length > 60, `${fields.length} fields`);
});

// ---------------------------------------------------------------------------------------------------------------
// Every field: documented, in the reference, in the example

const reference = configReference();
/** The reference's table for the mapping a field is in ("public[].probe.arp" -> "public[].probe"). */
const tableOf = (path: string): string => {
  const at = path.lastIndexOf('.');
  const title = at < 0 ? '## Top level' : `## \`${path.slice(0, at)}\``;
  const start = reference.indexOf(`${title}\n`);
  assert.ok(start >= 0, `no section ${title}`);
  const end = reference.indexOf('\n## ', start + 1);
  return reference.slice(start, end < 0 ? undefined : end);
};

const exampleText = configExample();
const exampleDoc: unknown = parseYaml(exampleText);
/** The values at a field path in a parsed document (list items: every item, of the given kind). */
function valuesAt(doc: unknown, path: string): unknown[] {
  let here: unknown[] = [doc];
  for (const part of path.split('.')) {
    const m = /^([a-z_]+)(\[(?:kind=([a-z]+))?\])?$/.exec(part)!;
    here = here.map((v) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[m[1]!] : undefined)).filter((v) => v !== undefined);
    if (m[2]) here = here.flatMap((v) => (Array.isArray(v) ? v : [])).filter((it) => m[3] === undefined || (it as { kind?: string }).kind === m[3]);
  }
  return here;
}
const commentedOut = (path: string): boolean => [...COMMENTED_OUT].some((c) => path === c || path.startsWith(`${c}.`));

for (const f of fields) {
  test(`field ${f.path}: described, in the reference and in the example`, () => {
    assert.ok(f.description.length >= 10, `no description: give it .meta({ description }) in its schema`);
    assert.match(f.description, /[.)]$/, 'a description is a sentence');
    assert.ok(tableOf(f.path).includes(`| \`${f.key}\` |`), 'row in the reference');
    assert.ok(tableOf(f.path).includes(f.description.replace(/\|/g, '\\|')), 'description in the reference');
    if (commentedOut(f.path)) assert.match(exampleText, new RegExp(`^ *# +(- )?${f.key}:`, 'm'), 'shown commented out');
    else assert.ok(valuesAt(exampleDoc, f.path).length > 0, 'set in the example (its value or its default)');
  });
}

test('every link kind has its own description (the section note in the reference, the comment in the example)', () => {
  for (const k of configFields().flatMap((f) => f.kinds ?? [])) {
    assert.ok(k.description.length > 20, k.kind);
    assert.ok(reference.includes(`## \`${k.path}\`\n\n${k.description}\n`), k.kind);
    assert.ok(exampleText.replace(/\n *# /g, ' ').includes(k.description), k.kind);
  }
});

test('the example document is valid with its commented-out fields too, and those fields exist', () => {
  assert.deepEqual(issues(EXAMPLE), []);
  for (const c of COMMENTED_OUT) assert.ok(fields.some((f) => f.path === c), c);
});

// ---------------------------------------------------------------------------------------------------------------
// "did you mean": every field is known at its mapping

/** A valid document with every mapping present: minimal, plus notify and one link of each kind. */
const full = (): Record<string, any> => {
  const d = structuredClone(EXAMPLE) as Record<string, any>;
  d.public[0].probe = {};
  Object.assign(d, { heartbeat: {}, takeover: {}, metrics: {} });
  return d;
};
/** Where the mapping that holds a field is in `full()`, as an object path. */
function holder(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  for (const part of path.split('.').slice(0, -1)) {
    const m = /^([a-z_]+)(\[(?:kind=([a-z]+))?\])?$/.exec(part)!;
    out.push(m[1]!);
    if (m[2]) out.push(m[3] === undefined ? 0 : ['ethernet', 'serial', 'udp'].indexOf(m[3]));
  }
  return out;
}
for (const f of fields) {
  test(`a typo of ${f.path} is an unknown field with a hint`, () => {
    const doc = full();
    let at: Record<string, any> = doc;
    for (const k of holder(f.path)) at = at[k];
    at[`${f.key}x`] = 1;
    const where = holder(f.path).map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('').replace(/^\./, '');
    assert.deepEqual(issues(doc), [`${where ? `${where}.` : ''}${f.key}x: unknown field (did you mean "${f.key}"?)`]);
  });
}

test('knownKeys: a list of kinds knows every kind\'s fields, in kind order', () => {
  const priv = knownKeys(['private', 0]);
  assert.deepEqual(priv.slice(0, 7), ['kind', 'name', 'interface', 'address', 'peer', 'peer_address', 'cost']);
  for (const k of ['device', 'baud', 'mtu', 'heartbeat_timeout_ms', 'local', 'remote']) assert.ok(priv.includes(k), k);
  assert.deepEqual(knownKeys(['public', 3, 'probe']), ['carrier_interval_ms', 'arp_interval_ms', 'arp_misses', 'arp']);
  assert.deepEqual(knownKeys(['node']), []);
});

// ---------------------------------------------------------------------------------------------------------------
// Family-aware address fields: IPv4 only today, IPv6 by adding 6 to a field's families

const V4: Families = [4];
const V46: Families = [4, 6];
// Per validator and families: value -> the problem after the quoted value ('' when accepted).
const addressCases: Array<[string, (fs: Families) => AddressField<unknown>, Families, Record<string, string>]> = [
  ['address', ipAddress, V4, { '10.0.0.1': '', '10.0.0.01': 'is not an IPv4 address', '::1': 'is not an IPv4 address', '10.0.0.1/24': 'is not an IPv4 address' }],
  ['address', ipAddress, V46, { '::1': '', x: 'is not an IPv4 or IPv6 address' }],
  ['maybePrefix', ipMaybePrefix, V4, { '192.168.100.1/30': '', '192.168.100.1': '', 'fd00::1/64': 'is not an IPv4 address (optionally with /prefix)' }],
  ['maybePrefix', ipMaybePrefix, V46, { 'fd00::1/64': '' }],
  ['cidr', ipHostCidr, V4, {
    '10.0.0.11/24': '', '10.0.0.11': 'is not an IPv4 CIDR (like 10.0.0.11/24)', '2001:db8::11/64': 'is not an IPv4 CIDR (like 10.0.0.11/24)',
    '10.0.0.255/24': 'is the broadcast address of its prefix, not a host address',
  }],
  ['cidr', ipHostCidr, V46, {
    '2001:db8::11/64': '', '2001:db8::/64': 'is the network address of its prefix, not a host address',
    '10.0.0.11': 'is not an IPv4 or IPv6 CIDR (like 10.0.0.11/24 or 2001:db8::11/64)',
  }],
];
for (const [name, make, fs, cases] of addressCases) {
  for (const [value, problem] of Object.entries(cases)) {
    test(`address field ${name}(${fs.join(',')}) ${JSON.stringify(value)}`, () => {
      const field = make(fs);
      const r = field.schema.safeParse(value);
      assert.equal(r.success ? '' : r.error.issues.map((i) => i.message).join('; '), problem && `${JSON.stringify(value)} ${problem}`);
      // `parse` (what cross-field checks use) accepts what the syntax accepts, whatever the host part.
      assert.equal(field.parse(value) !== undefined, problem === '' || /network|broadcast/.test(problem));
    });
  }
}

test('address fields give canonical text to cross-field checks', () => {
  assert.equal(ipAddress(V46).parse('2001:DB8:0::1'), '2001:db8::1');
  assert.deepEqual(ipHostCidr(V4).parse('10.0.0.11/24'), { family: 4, address: '10.0.0.11', prefixLen: 24 });
  assert.equal(ipAddress(V4).parse(5), undefined);
});

const hostPortCases: Array<[string, Families, { host: string; port: number } | undefined]> = [
  ['192.168.100.1', V4, { host: '192.168.100.1', port: 7432 }],
  ['b.example:9000', V4, { host: 'b.example', port: 9000 }],
  ['1.2.3', V4, undefined],
  ['1.2.3.4:99999', V4, undefined],
  ['a:b', V4, undefined],
  ['[::1]:9000', V4, undefined],
  ['[::1]:9000', V46, { host: '::1', port: 9000 }],
  ['[10.0.0.1]:9000', V46, undefined],
  ['2001:db8::1', V46, { host: '2001:db8::1', port: 7432 }],
  ['2001:db8::1', V4, undefined],
];
for (const [text, fs, want] of hostPortCases) {
  test(`parseHostPort(${JSON.stringify(text)}, families ${fs.join(',')})`, () => assert.deepEqual(parseHostPort(text, 7432, fs), want));
}

test('parseListen: IPv4, or any address in brackets', () => {
  assert.deepEqual(parseListen('[::]:9742'), { host: '::', port: 9742 });
  for (const bad of ['[:::]:1', '::1:9742', '[::1]9742', ':9742', '10.0.0.1:']) assert.equal(parseListen(bad), undefined, bad);
});

// ---------------------------------------------------------------------------------------------------------------
// Typed config, serial line maths, lab configurations

const camelCases: Array<[unknown, unknown]> = [
  [{ carrier_interval_ms: 1, arp: true }, { carrierIntervalMs: 1, arp: true }],
  [{ a_b: [{ c_d: 'x_y' }], e: undefined }, { aB: [{ cD: 'x_y' }] }],
  [['release_linger_ms'], ['release_linger_ms']],
  [null, null],
];
for (const [input, want] of camelCases) test(`camelKeys(${JSON.stringify(input)})`, () => assert.deepEqual(camelKeys(input), want));

const lineCases: Array<[number, number, { intervalMs: number; timeoutMs: number }]> = [
  // [baud, default MTU, default heartbeats]
  [9600, 296, { intervalMs: 2670, timeoutMs: 10680 }],
  [115200, 576, { intervalMs: 230, timeoutMs: 920 }],
  [921600, 1500, { intervalMs: 50, timeoutMs: 200 }], // never faster than the global heartbeat (50 ms by default)
  [4000000, 1500, { intervalMs: 50, timeoutMs: 200 }],
];
for (const [baud, mtu, hb] of lineCases) {
  test(`serial line at ${baud} baud: MTU ${mtu}, heartbeats ${hb.intervalMs}/${hb.timeoutMs} ms; the link paces with the same maths`, () => {
    assert.equal(serialMtuDefault(baud), mtu);
    assert.deepEqual(serialHeartbeatDefaults(baud), hb);
    assert.ok(serialHeartbeatDefaults(baud, 10).intervalMs <= hb.intervalMs, 'a faster global heartbeat lets a fast line go faster');
    assert.equal(lineBytesPerSecond(baud), baud / 10);
    const pacer = new LinePacer(baud, 0);
    pacer.sent(0, 1000);
    assert.equal(pacer.waitMs(0), lineTimeMs(1000, baud));
  });
}

for (const name of embeddedTopologyNames()) {
  test(`lab topology ${name}: every server's generated configuration is valid`, () => {
    const topo = defaultTopology(name);
    const servers = Object.entries(topo.nodes).filter(([, n]) => n.role === 'server').map(([n]) => n);
    assert.ok(servers.length >= 2);
    for (const s of servers) assert.deepEqual(issues(serverConfig(topo, s, `/run/hanet-lab/${name.slice(0, 8)}/cluster`, 'x')), [], s);
  });
}

test('FieldDoc paths name list items and kinds', () => {
  const paths = fields.map((f: FieldDoc) => f.path);
  for (const p of ['public[].probe.arp', 'private[kind=serial].baud', 'private[kind=udp].remote', 'notify.events']) assert.ok(paths.includes(p), p);
});
