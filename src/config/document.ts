// The whole configuration document (YAML, snake_case): the sections' schemas put together, and the checks that
// span sections (interfaces and addresses used once, one default route, links to other nodes, lease vs heartbeats).
import { z } from 'zod';
import { arr, num, rec, show, str, type IssueSink } from './fields.js';
import { pathString } from './issues.js';
import { kindRules, privateSchema, PRIVATE_KINDS } from './links/index.js';
import { heartbeatSchema } from './sections/heartbeat.js';
import { metricsSchema } from './sections/metrics.js';
import { notifySchema } from './sections/notify.js';
import { publicSchema, serviceAddress } from './sections/public.js';
import { rootFields } from './sections/root.js';
import { takeoverSchema } from './sections/takeover.js';

export const configSchema = z.strictObject({
  ...rootFields,
  public: z.array(publicSchema).min(1).meta({ description: 'Public interfaces: where clients reach this server. At least one.' }),
  private: z.array(privateSchema).min(1).meta({
    description: "Private links to other nodes: the control messages travel on them and, during a takeover, the packets of this node's " +
      `service addresses. At least one. Kinds: ${PRIVATE_KINDS.join(', ')}.`,
  }),
  heartbeat: heartbeatSchema.default(() => heartbeatSchema.parse({})).meta({ description: 'Heartbeats on the private links.' }),
  takeover: takeoverSchema.default(() => takeoverSchema.parse({})).meta({ description: 'Takeover, lease and failback timing.' }),
  metrics: metricsSchema.default(() => metricsSchema.parse({})).meta({ description: 'The Prometheus metrics endpoint (docs/metrics.md).' }),
  notify: notifySchema.optional().meta({
    description: "A notify hook (like keepalived's notify scripts): an executable run on state changes, with the event as its last " +
      'argument and HANET_EVENT, HANET_NODE, HANET_ROLE, HANET_LAN, HANET_PEER, HANET_ADDRESSES, HANET_TIME ... in its environment ' +
      '(docs/hooks.md). It runs after the change was made, never delays it, and is killed (with its process group) after timeout_ms. ' +
      'Omit the section for no hook.',
  }),
}).superRefine((c, ctx) => documentChecks(c, ctx), { when: () => true });

/** The validated document, snake_case as in YAML. */
export type RawConfig = z.output<typeof configSchema>;
/** A document as written (defaults optional): what generated configurations (the lab's) are typed with. */
export type ConfigInput = z.input<typeof configSchema>;

// Checks over the whole document. They run even when parts of the document failed to parse (so all problems are
// reported at once), hence they read the partially parsed value defensively.
function documentChecks(input: unknown, ctx: IssueSink): void {
  const c = rec(input);
  if (!c) return;
  const node = str(c.node);
  const pubs = arr(c.public).map(rec);
  const privs = arr(c.private).map(rec);

  // Interface names are unique across public interfaces and private links (one role per interface).
  const ifSeen = new Map<string, string>();
  const claimIf = (name: string | undefined, path: PropertyKey[]): void => {
    if (name === undefined) return;
    const prev = ifSeen.get(name);
    if (prev !== undefined) ctx.addIssue({ code: 'custom', path, message: `interface ${show(name)} is already used by ${prev}` });
    else ifSeen.set(name, pathString(path.slice(0, 2)));
  };
  pubs.forEach((p, i) => claimIf(str(p?.interface), ['public', i, 'interface']));
  privs.forEach((l, i) => {
    // A link without `interface` may still occupy one: the TUN its kind names after the link.
    const own = str(l?.interface);
    const byName = l && l.interface === undefined ? kindRules(l)?.defaultInterface?.(l) : undefined;
    claimIf(own ?? byName, ['private', i, own === undefined && byName !== undefined ? 'name' : 'interface']);
  });

  // A service address belongs to one public interface.
  const addrSeen = new Map<string, string>();
  pubs.forEach((p, i) => arr(p?.addresses).forEach((a, j) => {
    const ip = serviceAddress(a)?.address;
    if (ip === undefined) return;
    const prev = addrSeen.get(ip);
    if (prev !== undefined && !prev.startsWith(`public[${i}]`)) ctx.addIssue({ code: 'custom', path: ['public', i, 'addresses', j], message: `${show(ip)} is already a service address of ${prev}` });
    else if (prev === undefined) addrSeen.set(ip, `public[${i}].addresses[${j}]`);
  }));

  // The interfaces of one LAN reach a helper the same way: one mode per LAN name.
  const modeOf = new Map<string, { mode: string; i: number }>();
  pubs.forEach((p, i) => {
    const lan = str(p?.lan) ?? 'lan0';
    const mode = str(p?.mode) ?? 'l2';
    const prev = modeOf.get(lan);
    if (prev && prev.mode !== mode) ctx.addIssue({ code: 'custom', path: ['public', i, 'mode'], message: `${show(mode)}: LAN ${show(lan)} is mode ${prev.mode} on public[${prev.i}]; one mode per LAN` });
    else if (!prev) modeOf.set(lan, { mode, i });
  });

  // At most one default route.
  const explicitDefault = pubs.map((p) => p?.default_route === true);
  const firstExplicit = explicitDefault.indexOf(true);
  explicitDefault.forEach((d, i) => {
    if (d && i !== firstExplicit) ctx.addIssue({ code: 'custom', path: ['public', i, 'default_route'], message: `only one public interface may carry the default route (public[${firstExplicit}] already does)` });
  });

  // Private links: not to ourselves, unique names.
  const nameSeen = new Map<string, number>();
  privs.forEach((l, i) => {
    if (!l) return;
    const peer = str(l.peer);
    if (node !== undefined && peer === node) ctx.addIssue({ code: 'custom', path: ['private', i, 'peer'], message: `${show(peer)} is this node itself; a private link must lead to another node` });
    const name = str(l.name) ?? str(l.interface);
    if (name === undefined) return;
    const prev = nameSeen.get(name);
    if (prev !== undefined) ctx.addIssue({ code: 'custom', path: ['private', i, l.name !== undefined ? 'name' : 'interface'], message: `link name ${show(name)} is already used by private[${prev}]${l.name === undefined ? ' (the name defaults to the interface; set name)' : ''}` });
    else nameSeen.set(name, i);
  });

  // The lease must survive a missed heartbeat window, else a helper drops the owner's addresses while the owner
  // is merely waiting to notice the link is down.
  const timeout = num(rec(c.heartbeat)?.timeout_ms);
  const lease = num(rec(c.takeover)?.lease_ms);
  if (timeout !== undefined && lease !== undefined && !(lease > timeout)) {
    ctx.addIssue({ code: 'custom', path: ['takeover', 'lease_ms'], message: `must be more than heartbeat.timeout_ms (${timeout}), got ${lease}` });
  }
  // The links' own rules against the document (a serial line's slower heartbeats against the lease).
  privs.forEach((l, i) => { if (l) kindRules(l)?.documentChecks?.(l, c, ['private', i], ctx); });
}
