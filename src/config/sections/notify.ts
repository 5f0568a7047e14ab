// The `notify` section: an executable run on state changes (like keepalived's notify scripts), with the event in its
// environment (src/daemon/hooks.ts runs it).
import { z } from 'zod';
import { EVENT_TYPES, type CoreEventType } from '../../core/types.js';
import { absPath, ms } from '../fields.js';

/** State changes an operator acts on; not the protocol chatter (release-acked, message-rejected, kernel-changed ...). */
const DEFAULT_EVENTS: CoreEventType[] = ['ready', 'iface-failed', 'iface-recovered', 'local-backup', 'takeover-requested', 'takeover-acked',
  'takeover-refused', 'helper-switch', 'unserved', 'failback', 'help-start', 'help-release', 'lease-expired', 'help-link-down', 'peer-up', 'peer-down'];

export const notifySchema = z.strictObject({
  command: absPath.meta({
    description: 'Absolute path of the executable; it gets the event name as its last argument and the event in HANET_* environment ' +
      'variables (docs/hooks.md).',
  }),
  args: z.array(z.string()).max(32).default([]).meta({ description: 'Arguments before the event name.' }),
  timeout_ms: ms(1, 3_600_000).default(10_000).meta({
    description: 'The hook (its process group) is killed after this long: SIGTERM, SIGKILL 1 s later.',
  }),
  events: z.array(z.enum(EVENT_TYPES)).min(1).default([...DEFAULT_EVENTS]).meta({
    description: `Events that run the hook (names: docs/events.md). Default: the state changes (${DEFAULT_EVENTS.join(', ')}).`,
  }),
  // One at a time by default: a script sees the events in the order they happened (takeover before failback).
  max_concurrent: z.number().int().min(1).max(64).default(1).meta({
    description: 'Hooks running at once (1: a script sees the events in order).',
  }),
  max_queue: z.number().int().min(0).max(10_000).default(32).meta({
    description: 'Events waiting for a hook beyond that; when full, the oldest waiting is dropped (counted in ' +
      'hanet_hook_runs_total{result="dropped"}).',
  }),
});
