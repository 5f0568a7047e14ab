// Validates `hanet status --json` objects against the committed JSON Schema (docs/status.schema.json) with ajv.
// Strict: every object the schema does not explicitly leave open must have no undocumented field, so a field
// added to the daemon's status without documenting it fails the tests.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';

export const STATUS_SCHEMA_PATH = fileURLToPath(new URL('../../docs/status.schema.json', import.meta.url));

export function loadStatusSchema(): Record<string, unknown> {
  return JSON.parse(readFileSync(STATUS_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
}

/** A copy of the schema in which objects without an explicit additionalProperties get additionalProperties: false. */
function strict(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strict);
  if (node === null || typeof node !== 'object') return node;
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) o[k] = k === 'const' || k === 'enum' ? v : strict(v);
  if (o.type === 'object' && o.properties && !('additionalProperties' in o)) o.additionalProperties = false;
  return o;
}

let validator: ((v: unknown) => boolean) & { errors?: unknown } | undefined;

/** Problems of a status object against the schema; [] when it conforms. */
export function statusSchemaErrors(status: unknown): string[] {
  if (!validator) {
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    validator = ajv.compile(strict(loadStatusSchema()) as object);
  }
  if (validator(status)) return [];
  return ((validator.errors ?? []) as Array<{ instancePath: string; message?: string; params?: unknown }>)
    .map((e) => `${e.instancePath || '(root)'}: ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}
