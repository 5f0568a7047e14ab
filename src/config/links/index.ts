// The `private` section: a list of links to peers, one schema per link kind (a discriminated union on `kind`, which
// may be omitted for ethernet). Adding a kind: its module in this folder, and one entry in each list below.
import { z } from 'zod';
import { show, type IssueSink } from '../fields.js';
import { defaultTunInterface } from './common.js';
import { ethernetSchema, toEthernetLink, type EthernetLinkConfig } from './ethernet.js';
import { serialDocumentChecks, serialSchema, toSerialLink, type SerialLinkConfig } from './serial.js';
import { toUdpLink, udpSchema, type UdpLinkConfig } from './udp.js';

export type { EthernetLinkConfig, SerialLinkConfig, UdpLinkConfig };

const KIND_SCHEMAS = [ethernetSchema, serialSchema, udpSchema] as const;
export const PRIVATE_KINDS = KIND_SCHEMAS.map((s) => s.shape.kind.value);

interface KindRules {
  /** The interface a (partially parsed) link of this kind occupies when it leaves `interface` out. */
  defaultInterface?(l: Record<string, unknown>): string | undefined;
  /** Checks of one link against the rest of the (partially parsed) document. */
  documentChecks?(l: Record<string, unknown>, doc: Record<string, unknown>, path: PropertyKey[], ctx: IssueSink): void;
}
const RULES: Record<PrivateLinkKind, KindRules> = {
  ethernet: {},
  serial: { defaultInterface: defaultTunInterface, documentChecks: serialDocumentChecks },
  udp: { defaultInterface: defaultTunInterface },
};
/** The rules of a partially parsed link's kind (undefined for an unknown kind). */
export function kindRules(l: Record<string, unknown> | undefined): KindRules | undefined {
  const kind = PRIVATE_KINDS.find((k) => k === l?.kind);
  return kind === undefined ? undefined : RULES[kind];
}

const union = z.discriminatedUnion('kind', [...KIND_SCHEMAS], {
  error: (iss) => {
    const kind = (iss.input as { kind?: unknown } | undefined)?.kind;
    if (iss.input === null || typeof iss.input !== 'object' || Array.isArray(iss.input)) return `must be a mapping, got ${show(iss.input)}`;
    return `${show(kind)} is not a known private link kind (supported: ${PRIVATE_KINDS.join(', ')})`;
  },
});

type UnionInput = z.input<typeof union>;
/** A private link as written in YAML: `kind` may be left out for ethernet. */
export type PrivateLinkInput = Exclude<UnionInput, { kind: 'ethernet' }> | (Omit<Extract<UnionInput, { kind: 'ethernet' }>, 'kind'> & { kind?: 'ethernet' });

export const privateSchema = z.preprocess<unknown, typeof union, PrivateLinkInput>(
  // `kind` may be omitted: it means ethernet.
  (v) => (v !== null && typeof v === 'object' && !Array.isArray(v) && !('kind' in v) ? { kind: 'ethernet', ...v } : v),
  union,
);

/** One private link to a peer, typed: a discriminated union on `kind`. */
export type PrivateLinkConfig = EthernetLinkConfig | SerialLinkConfig | UdpLinkConfig;
export type PrivateLinkKind = PrivateLinkConfig['kind'];

export function toPrivateLink(l: z.output<typeof union>, globalHeartbeat: { intervalMs: number }): PrivateLinkConfig {
  switch (l.kind) {
    case 'ethernet': return toEthernetLink(l);
    case 'serial': return toSerialLink(l, globalHeartbeat);
    case 'udp': return toUdpLink(l);
  }
}
