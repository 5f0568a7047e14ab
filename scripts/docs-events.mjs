// Writes the event names (src/core/types.ts EVENT_TYPES) into docs/status.schema.json, where they are listed twice
// (the eventType definition and eventCounts' keys): `npm run docs:events`. A unit test checks they agree.
import { readFileSync, writeFileSync } from 'node:fs';
import { EVENT_TYPES } from '../dist/src/core/types.js';

const path = 'docs/status.schema.json';
const schema = JSON.parse(readFileSync(path, 'utf8'));
let replaced = 0;
const walk = (node) => {
  if (Array.isArray(node)) { node.forEach(walk); return; }
  if (node === null || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    if (k === 'enum' && Array.isArray(v) && v.includes('iface-failed')) { node[k] = [...EVENT_TYPES]; replaced++; } else walk(v);
  }
};
walk(schema);
if (replaced === 0) throw new Error(`no event name list found in ${path}`);
writeFileSync(path, `${JSON.stringify(schema, null, 2)}\n`);
console.log(`${path}: ${replaced} event name list(s) written`);
