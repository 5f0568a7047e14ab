// Configuration problems as operators read them: the ConfigError every loader throws, field paths, zod's issues
// in operator language, and "did you mean" hints for unknown fields.
import type { z } from 'zod';
import { HanetError } from '../errors.js';
import { show } from './fields.js';

export interface ConfigIssue {
  /** Field path like `public[0].addresses[1]`; `(root)` for the document itself; `source:line:col` for YAML syntax. */
  path: string;
  message: string;
}

/** Thrown when a configuration file is missing, unparsable or invalid; `issues` lists every problem found. */
export class ConfigError extends HanetError {
  readonly issues: ConfigIssue[];
  constructor(source: string, issues: ConfigIssue[], options?: { cause?: unknown }) {
    const n = issues.length;
    super('HANET_ERR_CONFIG',
      `${source}: ${n} configuration error${n === 1 ? '' : 's'}:\n` + issues.map((i) => `  ${i.path}: ${i.message}`).join('\n'),
      options);
    this.issues = issues;
  }
}

/** `['public', 0, 'addresses', 1]` -> `public[0].addresses[1]`; `[]` -> `(root)`. */
export function pathString(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) {
    if (typeof p === 'number') s += `[${p}]`;
    else s += (s === '' ? '' : '.') + String(p);
  }
  return s === '' ? '(root)' : s;
}

const typeName = (v: unknown): string => {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return `${typeof v} ${show(v)}`;
};

const EXPECTED: Record<string, string> = {
  string: 'a string', number: 'a number', int: 'an integer', boolean: 'true or false', array: 'a list', object: 'a mapping',
};

/** Per-parse zod error map: standard zod issues in operator language. Custom issues keep their message. */
export function errorMessage(iss: z.core.$ZodRawIssue): string | undefined {
  switch (iss.code) {
    case 'invalid_type':
      if (iss.input === undefined) return 'is required';
      return `must be ${EXPECTED[iss.expected] ?? iss.expected}, got ${typeName(iss.input)}`;
    case 'too_small':
      if (iss.origin === 'array') return `must have at least ${String(iss.minimum)} entr${iss.minimum === 1 ? 'y' : 'ies'}`;
      if (iss.origin === 'string') return 'must not be empty';
      return `must be at least ${String(iss.minimum)}, got ${show(iss.input)}`;
    case 'too_big':
      if (iss.origin === 'array') return `must have at most ${String(iss.maximum)} entries`;
      return `must be at most ${String(iss.maximum)}, got ${show(iss.input)}`;
    case 'invalid_value':
      return `${show(iss.input)} is not one of ${iss.values.map((v) => show(v)).join(', ')}`;
    default:
      return undefined;
  }
}

function levenshtein(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0] as number;
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j] as number;
      d[j] = Math.min((d[j] as number) + 1, (d[j - 1] as number) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length] as number;
}

/** The closest known field name to an unknown one, if close enough to be a typo. */
export function didYouMean(unknown: string, known: readonly string[]): string | undefined {
  return known
    .map((c) => ({ c, d: levenshtein(unknown, c) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(unknown.length / 3)))
    .sort((x, y) => x.d - y.d)[0]?.c;
}

/** zod's issues as ConfigIssues; `knownKeys(path)` names the fields of the mapping at a path (for hints). */
export function toIssues(err: z.ZodError, knownKeys: (path: readonly PropertyKey[]) => readonly string[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const iss of err.issues) {
    if (iss.code === 'unrecognized_keys') {
      for (const k of iss.keys) {
        const hint = didYouMean(k, knownKeys(iss.path));
        out.push({ path: pathString([...iss.path, k]), message: `unknown field${hint ? ` (did you mean ${show(hint)}?)` : ''}` });
      }
    } else {
      out.push({ path: pathString(iss.path), message: iss.message });
    }
  }
  return out;
}
