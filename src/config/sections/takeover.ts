// The `takeover` section: lease, failback and gratuitous-ARP timing, and whether this node helps its peers.
// Its typed form is exactly the core's TakeoverSettings (checked at compile time below).
import { z } from 'zod';
import type { TakeoverSettings } from '../../core/types.js';
import type { CamelKeys, SameShape } from '../camel.js';
import { ms } from '../fields.js';

export const takeoverSchema = z.strictObject({
  lease_ms: ms(1, 3_600_000).default(3000).meta({
    description: "A helper stops answering for this node's addresses when this node has not renewed the lease (in its heartbeats) " +
      'for this long; more than heartbeat.timeout_ms.',
  }),
  failback_hold_ms: ms(0, 3_600_000).default(1000).meta({
    description: 'A public interface must be healthy this long before this node takes its addresses back (anti-flap).',
  }),
  garp_count: z.number().int().min(0).max(100).default(3).meta({
    description: 'Gratuitous ARPs sent after a takeover or failback so that neighbours update their caches at once; repeated ' +
      'because a single one can be lost.',
  }),
  garp_interval_ms: ms(1, 60_000).default(50).meta({ description: 'Interval between the gratuitous ARPs of one announcement.' }),
  release_linger_ms: ms(0, 3_600_000).default(2000).meta({
    description: 'After a release, the helper keeps its route to this node this long, for packets still in flight.',
  }),
  can_help: z.boolean().default(true).meta({ description: 'Whether this node may act as a helper for its peers.' }),
});

/** The section's defaults (what an omitted section means). */
export const TAKEOVER_DEFAULTS = takeoverSchema.parse({});

export type TakeoverConfig = CamelKeys<z.output<typeof takeoverSchema>>;
// A field on one side only does not compile: the core's settings type and this section change together.
const sameAsCore: SameShape<TakeoverConfig, TakeoverSettings> = true;
void sameAsCore;
