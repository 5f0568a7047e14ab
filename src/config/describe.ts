// The configuration's fields as the docs see them (path, description, type, range, default, required), read from the
// schema's JSON Schema: the reference, the annotated example and the "did you mean" hints all walk this one tree.
import { z } from 'zod';
import { configSchema } from './document.js';

/** The part of a JSON Schema node the docs read. */
export interface JsonNode {
  type?: string | string[]; properties?: Record<string, JsonNode>; required?: string[]; items?: JsonNode; oneOf?: JsonNode[]; anyOf?: JsonNode[];
  enum?: unknown[]; const?: unknown; default?: unknown; minimum?: number; maximum?: number; minItems?: number; maxItems?: number;
  description?: string;
}

export interface FieldDoc {
  key: string;
  /** Where the field is: `public[].probe.arp`, list items `[]`, one kind of a list of kinds `private[kind=serial].baud`. */
  path: string;
  description: string;
  required: boolean;
  /** The field's JSON Schema (type, range, default). */
  schema: JsonNode;
  /** A mapping, or a list of mappings: their fields. */
  fields?: FieldDoc[];
  /** A list of mappings of several kinds (discriminated by `kind`): each kind's fields. */
  kinds?: KindDoc[];
}

export interface KindDoc { kind: string; path: string; description: string; fields: FieldDoc[] }

function fieldsOf(node: JsonNode, path: string): FieldDoc[] {
  return Object.entries(node.properties ?? {}).map(([key, schema]) => {
    const full = path ? `${path}.${key}` : key;
    const f: FieldDoc = { key, path: full, description: schema.description ?? '', required: node.required?.includes(key) ?? false, schema };
    const items = schema.items;
    if (schema.properties) f.fields = fieldsOf(schema, full);
    else if (items?.properties) f.fields = fieldsOf(items, `${full}[]`);
    else if (items?.oneOf) {
      f.kinds = items.oneOf.map((v) => {
        const kind = String(v.properties?.kind?.const);
        return { kind, path: `${full}[kind=${kind}]`, description: v.description ?? '', fields: fieldsOf(v, `${full}[kind=${kind}]`) };
      });
    }
    return f;
  });
}

let tree: FieldDoc[] | undefined;

/** The top-level fields of the configuration, with everything below them. */
export function configFields(): FieldDoc[] {
  tree ??= fieldsOf(z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonNode, '');
  return tree;
}

/** Every field, depth first (each kind's fields after its list). */
export function allFields(fields: FieldDoc[] = configFields()): FieldDoc[] {
  return fields.flatMap((f) => [f, ...allFields(f.fields ?? []), ...(f.kinds ?? []).flatMap((k) => allFields(k.fields))]);
}

/** The field names of the mapping at a document path (list indexes ignored; a list of kinds: every kind's names). */
export function knownKeys(path: readonly PropertyKey[]): string[] {
  let fields: FieldDoc[] | undefined = configFields();
  for (const k of path) {
    if (typeof k !== 'string') continue;
    const f: FieldDoc | undefined = fields?.find((x) => x.key === k);
    fields = f?.fields ?? f?.kinds?.flatMap((kd) => kd.fields);
  }
  return [...new Set((fields ?? []).map((f) => f.key))];
}
