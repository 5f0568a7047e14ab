// `hanet config example`: the example's values below as YAML in the schema's field order, each field's description
// (from the schema) as its comment, defaults for what the example leaves out. A unit test checks it parses cleanly.
import { stringify } from 'yaml';
import { configFields, type FieldDoc } from './describe.js';
import type { ConfigInput } from './document.js';
import { serialHeartbeatDefaults, serialMtuDefault } from './links/serial.js';

const serial115200 = serialHeartbeatDefaults(115200);

/** The example's values: node `a` of the two-node lab topology `pair`, with one link of each kind. */
export const EXAMPLE: ConfigInput = {
  node: 'a',
  public: [{ interface: 'eth0', addresses: ['10.0.0.11/24'], gateway: '10.0.0.1', default_route: true, bgp: { local_as: 65011, peer_as: 65001, neighbor: ['10.0.0.1'], sessions: ['hanet_eth0_v4'] } }],
  private: [
    { kind: 'ethernet', name: 'ab', interface: 'eth1', address: '192.168.100.1/30', peer: 'b', peer_address: '192.168.100.2' },
    {
      kind: 'serial', name: 'ab-serial', interface: 'hnab-serial', device: '/dev/ttyS0', baud: 115200, address: '192.168.101.1/30', peer: 'b',
      peer_address: '192.168.101.2', mtu: serialMtuDefault(115200), heartbeat_interval_ms: serial115200.intervalMs, heartbeat_timeout_ms: serial115200.timeoutMs,
    },
    { kind: 'udp', name: 'ac-wan', interface: 'hnac-wan', local: '192.168.200.1:7432', remote: '192.168.201.1:7432', address: '192.168.102.1/30', peer: 'c', peer_address: '192.168.102.2' },
  ],
  notify: { command: '/etc/hanet/notify.sh', events: ['takeover-acked', 'failback', 'help-start', 'help-release'] },
};

/** Fields of EXAMPLE shown commented out: optional ones an operator usually leaves unset (their defaults are best). */
export const COMMENTED_OUT: ReadonlySet<string> = new Set(['public[].bgp', 'private[kind=serial].interface', 'private[kind=udp].interface', 'notify']);

const HEADER = [
  '# hanet configuration (YAML). Every field except node, public and private has a default; the',
  '# defaults are shown. Unknown fields are errors. Check a file with: hanet check -c FILE',
];
const WIDTH = 116;

/** A description as comment lines at `indent`, wrapped at WIDTH columns. */
function comment(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + 2 + line.length + 1 + word.length > WIDTH) { lines.push(line); line = word; } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.map((l) => `${indent}# ${l}`);
}

const scalar = (v: unknown): string =>
  stringify(v, { collectionStyle: 'flow', flowCollectionPadding: false, lineWidth: 0 }).trimEnd();
const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The YAML lines of one mapping: each field (with its description above it) that has a value or a default. */
function mapping(fields: FieldDoc[], value: Record<string, unknown>, indent: string, topLevel = false): string[] {
  const out: string[] = [];
  for (const f of fields) {
    const v = value[f.key] ?? f.schema.default;
    if (v === undefined) continue;
    const body = entry(f, v, indent);
    if (topLevel && out.length > 0) out.push('');
    // A field shown commented out: its own lines become comments, its description stays above it.
    out.push(...comment(f.description, indent), ...(COMMENTED_OUT.has(f.path) ? body.map((l) => `${indent}# ${l.slice(indent.length)}`) : body));
  }
  return out;
}

function entry(f: FieldDoc, v: unknown, indent: string): string[] {
  if (f.fields && isMapping(v)) return [`${indent}${f.key}:`, ...mapping(f.fields, v, `${indent}  `)];
  if ((f.fields || f.kinds) && Array.isArray(v)) {
    return [`${indent}${f.key}:`, ...v.filter(isMapping).flatMap((item) => listItem(f, item, `${indent}  `))];
  }
  return [`${indent}${f.key}: ${scalar(v)}`];
}

/** One item of a list of mappings: `- ` before its first line; a kind's description above it. */
function listItem(f: FieldDoc, item: Record<string, unknown>, indent: string): string[] {
  const kind = f.kinds?.find((k) => k.kind === (item.kind ?? 'ethernet'));
  const lines = mapping(kind?.fields ?? f.fields ?? [], item, `${indent}  `);
  if (lines[0] !== undefined) lines[0] = `${indent}- ${lines[0].slice(indent.length + 2)}`;
  return [...(kind ? comment(kind.description, indent) : []), ...lines];
}

/** An annotated example configuration (YAML) for node `a` of the two-node lab topology `pair`. */
export function configExample(): string {
  return [...HEADER, '', ...mapping(configFields(), EXAMPLE, '', true), ''].join('\n');
}
