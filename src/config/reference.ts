// Generates docs/configuration.md, the configuration reference: field names, types, constraints, defaults and
// required fields come from the zod schema (z.toJSONSchema), the explanations from the comments of the annotated
// example (src/config/example.ts), so neither is written twice. `npm run docs:config` writes the file; a unit test
// checks that the committed file is what this generates.
import { z } from 'zod';
import { parseDocument, isMap, isSeq, isScalar, type Node as YamlNode } from 'yaml';
import { configSchema } from './schema.js';
import { configExample } from './example.js';

type Js = {
  type?: string | string[]; properties?: Record<string, Js>; required?: string[]; items?: Js; oneOf?: Js[]; anyOf?: Js[];
  enum?: unknown[]; const?: unknown; default?: unknown; minimum?: number; maximum?: number; minItems?: number; maxItems?: number;
  minLength?: number; additionalProperties?: unknown; description?: string;
};

/** Explanations for fields the example does not comment (it comments a group of fields once). */
const FIELD_NOTES: Record<string, string> = {
  'public[].interface': 'The public interface (a switch port of this server).',
  'public[].probe.carrier_interval_ms': 'How often the carrier is read directly from the kernel. Measured: carrier-down notifications can arrive up to ~1 s late, so hanet reads the link state itself instead of waiting for them.',
  'public[].probe.arp_interval_ms': 'Interval between ARP probes of the gateway.',
  'private[kind=ethernet].name': 'Name of the link in logs and status. Default: the interface name.',
  'private[kind=ethernet].interface': 'The interface of the link (veth, Ethernet port, USB-net).',
  'private[].peer_address': "The peer's address on the link (in the same subnet as address).",
  'private[].kind': 'Link kind: ethernet, serial or udp.',
  'private[].name': 'Name of the link in logs, status and metrics.',
  'private[].peer': 'The node at the other end.',
  'private[].cost': 'Lower is preferred when choosing a helper among the peers that can help.',
  'private[].interface': 'Name of the TUN interface hanet creates for the link.',
  'private[].device': 'The serial device (e.g. /dev/ttyS0, /dev/ttyUSB0).',
  'private[].remote': "The peer's underlay address and port.",
  'private[].heartbeat_timeout_ms': "This link is down after this long without a valid heartbeat.",
  'heartbeat': 'Heartbeats on the private links.',
  'takeover': 'Takeover, lease and failback timing.',
  'metrics': 'The Prometheus metrics endpoint (docs/metrics.md).',
  'notify': 'A notify hook run on state changes (docs/hooks.md); none when omitted.',
  'public[].probe': 'How failures of the interface are detected.',
  'heartbeat.interval_ms': 'Heartbeats are sent on every private link at this interval.',
  'takeover.lease_ms': "A helper stops answering for this node's addresses when this node has not renewed the lease (in its heartbeats) for this long; more than heartbeat.timeout_ms.",
  'takeover.garp_interval_ms': 'Interval between the gratuitous ARPs of one announcement.',
  'notify.command': 'Absolute path of the executable; it gets the event name as its last argument and the event in HANET_* environment variables (docs/hooks.md).',
  'notify.args': 'Arguments before the event name.',
  'notify.timeout_ms': 'The hook (its process group) is killed after this long: SIGTERM, SIGKILL 1 s later.',
  'notify.events': 'Events that run the hook (names: docs/events.md). Default: the state changes.',
  'notify.max_concurrent': 'Hooks running at once (1: a script sees the events in order).',
  'notify.max_queue': 'Events waiting for a hook beyond that; when full, the oldest waiting is dropped (counted in hanet_hook_runs_total{result="dropped"}).',
};

/** Section notes that replace the example's comment in front of a list item (there it explains the first field). */
const SECTION_NOTES: Record<string, string> = {
  'private[kind=ethernet]': 'A direct Ethernet, veth or USB-net link: the kernel forwards the packets; control messages in UDP (port).',
};

const clean = (c: string | null | undefined): string | undefined => {
  if (!c) return undefined;
  // A comment may hold a commented-out example field ("# interface: hnab-serial"): not an explanation.
  const lines = c.split('\n').map((l) => l.trim()).filter((l) => !/^[a-z_]+: \S+$/.test(l));
  const text = lines.join(' ').replace(/\s+/g, ' ').trim();
  return text || undefined;
};

/** Comments of the annotated example by field path ("public[].probe.arp"), list items by kind ("private[kind=serial].baud"). */
function exampleComments(): { fields: Map<string, string>; sections: Map<string, string> } {
  const doc = parseDocument(configExample());
  const fields = new Map<string, string>();
  const sections = new Map<string, string>();
  const walk = (node: YamlNode | null | undefined, path: string, itemKind?: string): void => {
    if (isMap(node)) {
      node.items.forEach((p, i) => {
        const key = isScalar(p.key) ? String(p.key.value) : '';
        const full = path ? `${path}.${key}` : key;
        let c = clean(isScalar(p.key) ? p.key.commentBefore : undefined);
        // The first key of a nested map: its comment sits on the map.
        if (i === 0 && !c && !itemKind && path) c = clean(node.commentBefore);
        if (i === 0 && path === '' ) {
          // The document's header comment and the first field's comment are one block: the last paragraph is the field's.
          const raw = isScalar(p.key) ? p.key.commentBefore : undefined;
          c = clean(raw?.split('\n\n').at(-1));
        }
        if (c && !fields.has(full)) fields.set(full, c);
        walk(p.value as YamlNode, full);
      });
    } else if (isSeq(node)) {
      for (const it of node.items) {
        if (!isMap(it)) continue;
        const kind = it.get('kind');
        const base = typeof kind === 'string' ? `${path}[kind=${kind}]` : `${path}[]`;
        const note = clean(it.commentBefore);
        if (note && !sections.has(base)) sections.set(base, note);
        it.items.forEach((p) => {
          const key = isScalar(p.key) ? String(p.key.value) : '';
          const c = clean(isScalar(p.key) ? p.key.commentBefore : undefined);
          if (c && !fields.has(`${base}.${key}`)) fields.set(`${base}.${key}`, c);
          walk(p.value as YamlNode, `${base}.${key}`);
        });
      }
    }
  };
  walk(doc.contents as YamlNode, '');
  return { fields, sections };
}

const code = (v: unknown): string => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;

function typeOf(s: Js): string {
  if (s.const !== undefined) return code(s.const);
  if (s.enum && s.enum.length > 10) return 'event name (docs/events.md)';
  if (s.enum) return s.enum.map(code).join(', ');
  const t = Array.isArray(s.type) ? s.type.join(' or ') : s.type;
  if (t === 'array' && s.items?.oneOf) return 'list of mappings (one kind per item, sections below)';
  if (t === 'array') return `list of ${s.items ? typeOf(s.items) : 'values'}`;
  if (t === 'object') return 'mapping';
  if (!t && (s.oneOf || s.anyOf)) return (s.oneOf ?? s.anyOf)!.map(typeOf).join(' or ');
  return t ?? 'any';
}

function constraints(s: Js): string {
  const c: string[] = [];
  // zod's int() bounds to the safe integers: not a constraint worth showing.
  if (s.minimum !== undefined && s.minimum <= Number.MIN_SAFE_INTEGER) delete s.minimum;
  if (s.maximum !== undefined && s.maximum >= Number.MAX_SAFE_INTEGER) delete s.maximum;
  if (s.minimum !== undefined && s.maximum !== undefined) c.push(`${s.minimum}..${s.maximum}`);
  else if (s.minimum !== undefined) c.push(`>= ${s.minimum}`);
  else if (s.maximum !== undefined) c.push(`<= ${s.maximum}`);
  if (s.minItems !== undefined) c.push(`at least ${s.minItems}`);
  if (s.maxItems !== undefined) c.push(`at most ${s.maxItems}`);
  return c.join(', ');
}

interface Section { path: string; note?: string; rows: string[][] }

function kindOf(v: Js): string | undefined {
  const k = v.properties?.kind;
  return k?.const !== undefined ? String(k.const) : undefined;
}

function collect(s: Js, path: string, out: Section[], notes: { fields: Map<string, string>; sections: Map<string, string> }, sectionNote?: string): void {
  const sec: Section = { path: path || '(top level)', rows: [], ...(sectionNote ? { note: sectionNote } : {}) };
  out.push(sec);
  const nested: Array<() => void> = [];
  for (const [key, f] of Object.entries(s.properties ?? {})) {
    const full = path ? `${path}.${key}` : key;
    const generic = full.replace(/\[kind=[a-z]+\]/, '[]');
    const desc = notes.fields.get(full) ?? FIELD_NOTES[full] ?? notes.fields.get(generic) ?? FIELD_NOTES[generic] ?? '';
    const required = s.required?.includes(key) ? 'yes' : '';
    const def = f.default === undefined ? '' : Array.isArray(f.default) && f.default.length > 4 ? 'see description' : typeof f.default === 'object' && f.default !== null && !Array.isArray(f.default) ? '(see below)' : code(f.default);
    sec.rows.push([`\`${key}\``, typeOf(f), constraints(f), def, required, desc]);
    if (f.type === 'object' && f.properties) nested.push(() => collect(f, full, out, notes));
    const items = f.items;
    if (f.type === 'array' && items?.properties) nested.push(() => collect(items, `${full}[]`, out, notes));
    if (f.type === 'array' && items?.oneOf) {
      for (const v of items.oneOf) {
        const k = kindOf(v);
        const p = k ? `${full}[kind=${k}]` : `${full}[]`;
        nested.push(() => collect(v, p, out, notes, SECTION_NOTES[p] ?? notes.sections.get(p)));
      }
    }
  }
  for (const n of nested) n();
}

/** The Markdown text of docs/configuration.md. */
export function configReference(): string {
  const js = z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Js;
  const notes = exampleComments();
  const sections: Section[] = [];
  collect(js, '', sections, notes);
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated by `npm run docs:config` from src/config/schema.ts (types, ranges, defaults) and the comments of',
    '     src/config/example.ts (explanations). Do not edit by hand: a unit test checks this file is up to date. -->',
    '',
    'The configuration is one YAML file (`hanet run -c /etc/hanet/hanet.yaml`); `hanet config example` prints an annotated',
    'example and `hanet check -c FILE` validates one, reporting every problem with its field path. Unknown fields are',
    'errors. Durations are in milliseconds. List items are written `list[]`; private links are a list of kinds, one',
    'section per kind (`private[kind=serial]`).',
    '',
  ];
  for (const s of sections) {
    out.push(`## ${s.path === '(top level)' ? 'Top level' : `\`${s.path}\``}`, '');
    if (s.note) out.push(s.note, '');
    out.push('| field | type | range | default | required | description |', '| --- | --- | --- | --- | --- | --- |');
    for (const r of s.rows) out.push(`| ${r.map(cell).join(' | ')} |`);
    out.push('');
  }
  return out.join('\n');
}
