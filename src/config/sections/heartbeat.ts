// The `heartbeat` section: how often heartbeats go out on the private links and when a silent link is down.
// Its typed form is exactly the core's HeartbeatSettings (checked at compile time below).
import { z } from 'zod';
import type { HeartbeatSettings } from '../../core/types.js';
import type { CamelKeys, SameShape } from '../camel.js';
import { ms } from '../fields.js';

export const heartbeatSchema = z.strictObject({
  interval_ms: ms(1, 60_000).default(50).meta({
    description: 'Heartbeats are sent on every private link at this interval. They carry liveness, leases and what each node ' +
      'knows of its LANs; failures of public ports are found by the link monitor, not by heartbeats, and a takeover request ' +
      'goes out at once. An idle daemon\'s CPU is mostly heartbeats: measured in the lab, 5.7% of a core at 20 ms, 3.1% at ' +
      '50 ms, 2.0% at 100 ms (veth makes each send costlier than a NIC does).',
  }),
  timeout_ms: ms(1, 600_000).default(200).meta({
    description: 'A link is down after this long without a valid heartbeat; more than 2 * interval_ms.',
  }),
}).superRefine((h, ctx) => {
  if (typeof h.timeout_ms === 'number' && typeof h.interval_ms === 'number' && !(h.timeout_ms > 2 * h.interval_ms)) {
    ctx.addIssue({ code: 'custom', path: ['timeout_ms'], message: `must be more than 2 * interval_ms (${2 * h.interval_ms}), got ${h.timeout_ms}: one lost heartbeat must not declare the link down` });
  }
});

/** The section's defaults (what an omitted section means). */
export const HEARTBEAT_DEFAULTS = heartbeatSchema.parse({});

export type HeartbeatConfig = CamelKeys<z.output<typeof heartbeatSchema>>;
// A field on one side only does not compile: the core's settings type and this section change together.
const sameAsCore: SameShape<HeartbeatConfig, HeartbeatSettings> = true;
void sameAsCore;
