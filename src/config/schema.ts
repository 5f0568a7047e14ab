// Validation of a parsed YAML document against the configuration schema, and the typed camelCase `Config` the daemon
// uses, derived from the schema's output. Every problem is reported with its field path, all at once.
//
// Layout: fields.ts (field validators), sections/ (one module per section), links/ (one per private link kind: its
// schema, defaults, checks), document.ts (the whole document and cross-section checks), issues.ts (messages, hints).
// Each field's default and description are on its schema; describe.ts reads them for the reference and the example.
//  - Unknown fields are errors (with a "did you mean" hint): a typo in an HA config must not silently become a default.
//  - `private[]` is a discriminated union on `kind`; `kind` may be omitted for ethernet.
import { camelKeys, type Simplify } from './camel.js';
import { knownKeys } from './describe.js';
import { configSchema, type RawConfig } from './document.js';
import { errorMessage, toIssues, type ConfigIssue } from './issues.js';
import { toPrivateLink, type PrivateLinkConfig } from './links/index.js';
import type { HeartbeatConfig } from './sections/heartbeat.js';
import { toMetrics } from './sections/metrics.js';
import { toPublic } from './sections/public.js';

export { configSchema, type ConfigInput, type RawConfig } from './document.js';
export { ConfigError, pathString, type ConfigIssue } from './issues.js';
export { parseHostPort, parseListen } from './fields.js';
export { serialHeartbeatDefaults, serialLinkHeartbeat, serialMtuDefault } from './links/serial.js';
export type { EthernetLinkConfig, PrivateLinkConfig, PrivateLinkKind, SerialLinkConfig, UdpLinkConfig } from './links/index.js';
export type { HeartbeatConfig } from './sections/heartbeat.js';
export type { MetricsConfig } from './sections/metrics.js';
export type { ProbeConfig, PublicInterfaceConfig } from './sections/public.js';
export type { LogLevel } from './sections/root.js';
export type { TakeoverConfig } from './sections/takeover.js';

/** The validated document, typed: keys camelCased, and the fields whose typed value differs resolved by their section. */
function toConfig(r: RawConfig) {
  const { public: pubs, private: privs, metrics, heartbeat, ...rest } = r;
  const hb: HeartbeatConfig = camelKeys(heartbeat);
  return {
    ...camelKeys(rest),
    public: pubs.map((p, i) => toPublic(p, i, pubs)),
    private: privs.map((l): PrivateLinkConfig => toPrivateLink(l, hb)),
    heartbeat: hb,
    metrics: toMetrics(metrics),
  };
}

export type Config = Simplify<ReturnType<typeof toConfig>>;
/** An executable run on state changes, with the event in its environment (src/daemon/hooks.ts). */
export type NotifyConfig = NonNullable<Config['notify']>;

/** Validates an already-parsed document (e.g. from YAML). Returns the Config or every issue found. */
export function validateConfig(doc: unknown): { ok: true; config: Config } | { ok: false; issues: ConfigIssue[] } {
  if (doc === null || doc === undefined) return { ok: false, issues: [{ path: '(root)', message: 'the configuration is empty' }] };
  const r = configSchema.safeParse(doc, { error: errorMessage });
  if (!r.success) return { ok: false, issues: toIssues(r.error, knownKeys) };
  return { ok: true, config: toConfig(r.data) };
}
