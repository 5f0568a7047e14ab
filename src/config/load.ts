// Loading the configuration (YAML file -> validated Config) and the cluster key file.
//
// Key file format (detected in this order, on the content with surrounding whitespace trimmed):
//   1. hex:    only [0-9a-fA-F], even length            -> decoded; `hanet key generate` writes this (64 hex digits)
//   2. base64: only [A-Za-z0-9+/] (or -_), '=' padding, length a multiple of 4 -> decoded
//   3. raw:    anything else                            -> the file's exact bytes (not trimmed)
// The decoded key must be at least 16 bytes (a hex or base64 text that decodes to fewer is an error, never
// silently reinterpreted as raw). Detection is deterministic, so the same file gives the same key on every node.
// Permissions: the file must be a regular file and must not be readable, writable or executable by "other"
// (mode & 0o007 == 0), or loadKey throws HANET_ERR_CONFIG — like ssh refusing a world-readable private key. A key
// anyone on the host can read lets any local user forge takeover requests. Group access is allowed (a `hanet` group).
import { readFileSync, statSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { HanetError } from '../errors.js';
import { ConfigError, validateConfig, type Config, type ConfigIssue } from './schema.js';

/** Parses and validates YAML text. `source` names the text in errors (a file path, or "<example>"). */
export function parseConfig(yamlText: string, opts: { source?: string } = {}): Config {
  const source = opts.source ?? '<config>';
  const doc = parseDocument(yamlText, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    const issues: ConfigIssue[] = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      return { path: pos ? `line ${pos.line}, column ${pos.col}` : '(yaml)', message: (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '') };
    });
    throw new ConfigError(source, issues);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new ConfigError(source, [{ path: '(yaml)', message: err instanceof Error ? err.message : String(err) }], { cause: err });
  }
  const r = validateConfig(value);
  if (!r.ok) throw new ConfigError(source, r.issues);
  return r.config;
}

/** Reads and validates a YAML configuration file. */
export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new HanetError('HANET_ERR_CONFIG', `cannot read configuration file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  return parseConfig(text, { source: path });
}

export const MIN_KEY_BYTES = 16;
const MAX_KEY_FILE_BYTES = 4096;

export type KeyFormat = 'hex' | 'base64' | 'raw';

/** Detects the key format of a key file's content and decodes it (see the module header). */
export function parseKey(content: Buffer, source = '<key>'): { key: Buffer; format: KeyFormat } {
  const text = content.toString('latin1').trim();
  let key: Buffer;
  let format: KeyFormat;
  if (text.length > 0 && /^[0-9a-fA-F]+$/.test(text) && text.length % 2 === 0) {
    key = Buffer.from(text, 'hex');
    format = 'hex';
  } else if (text.length > 0 && /^[A-Za-z0-9+/\-_]+={0,2}$/.test(text) && text.length % 4 === 0) {
    key = Buffer.from(text, 'base64');
    format = 'base64';
  } else {
    key = Buffer.from(content);
    format = 'raw';
  }
  if (key.length < MIN_KEY_BYTES) {
    throw new HanetError('HANET_ERR_CONFIG', `key file ${source}: the key is ${key.length} bytes (read as ${format}); at least ${MIN_KEY_BYTES} are needed (make one with: hanet key generate --out ${source})`);
  }
  return { key, format };
}

/** Reads the cluster key file: checks its permissions, detects hex/base64/raw, returns a key of at least 16 bytes. */
export function loadKey(path: string): Buffer {
  return loadKeyDetailed(path).key;
}

export function loadKeyDetailed(path: string): { key: Buffer; format: KeyFormat; mode: number } {
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    throw new HanetError('HANET_ERR_CONFIG', `cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  if (!st.isFile()) throw new HanetError('HANET_ERR_CONFIG', `key file ${path} is not a regular file`);
  const mode = st.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    // The same rule as src/config/file-safety.ts (which `hanet run` and `hanet doctor` also apply: owner root).
    throw new HanetError('HANET_ERR_CONFIG', `key file ${path} is accessible by group or other users (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${path}`);
  }
  if (st.size > MAX_KEY_FILE_BYTES) throw new HanetError('HANET_ERR_CONFIG', `key file ${path} is ${st.size} bytes; a key file is at most ${MAX_KEY_FILE_BYTES}`);
  let content: Buffer;
  try {
    content = readFileSync(path);
  } catch (err) {
    throw new HanetError('HANET_ERR_CONFIG', `cannot read key file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  return { ...parseKey(content, path), mode };
}
