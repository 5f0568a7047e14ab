// Per private-link kind, what the demo and the lab tests use: the embedded topology, a workload the link can
// carry during a takeover, and the largest reply gap that still counts as "served through the takeover".
import type { WorkloadOptions } from './workload/index.js';

export type DemoLinkKind = 'ethernet' | 'serial' | 'udp';
export const DEMO_LINK_KINDS: readonly DemoLinkKind[] = ['ethernet', 'serial', 'udp'];

export interface LinkProfile {
  topology: string;
  /** Stream settings merged into the demo's workload (none: the workload's defaults, all four streams). */
  workload: Pick<WorkloadOptions, 'persistent' | 'perRequest' | 'slow' | 'bulk'>;
  maxGapBudgetMs: number;
  /** Why these numbers (printed by the demo). */
  note: string;
}

export function linkProfile(kind: DemoLinkKind = 'ethernet'): LinkProfile {
  switch (kind) {
    case 'ethernet':
      return { topology: 'pair', workload: {}, maxGapBudgetMs: 1000, note: 'default streams over the kernel-forwarded veth link' };
    case 'udp':
      return { topology: 'pair-udp', workload: {}, maxGapBudgetMs: 1000, note: 'default streams through the authenticated UDP tunnel over a routed network (a - r2 - b)' };
    case 'serial':
      // 115200 baud = 11.5 KB/s each way (8N1). During the takeover every packet of a's clients crosses the line
      // both ways (the bulk stream is echoed): B 1.5 KB/s, P 2 connections x 10 req/s, N 2 connections/s,
      // S 4 held requests; with TCP/IP headers (MSS 536 on the 576-byte MTU), ACKs and the link's heartbeats
      // (~1 KB/s) about 60 % of the line, so queues stay short and latency low. A frame of 576 bytes takes 50 ms on
      // the line: replies wait behind at most a few of them, so the gap budget is 2 s, not 1 s.
      return {
        topology: 'pair-serial',
        workload: {
          persistent: { connections: 2, intervalMs: 100 },
          perRequest: { intervalMs: 500 },
          slow: { concurrency: 4, holdMs: 2000 },
          bulk: { rateBytesPerSec: 1500 },
        },
        maxGapBudgetMs: 2000,
        note: 'streams sized to a 115200-baud line (~11.5 KB/s each way): P 2x10/s, N 2/s, S 4 held, B 1.5 KB/s echoed',
      };
  }
}
