// The `serial` private link kind: its fields, defaults and checks, and the line-timing maths they come from (also
// used by the link itself, src/links/serial.ts): a serial line is slow, so its MTU and heartbeats follow its baud rate.
import { z } from 'zod';
import type { HeartbeatSettings } from '../../core/types.js';
import { absPath, cost, ms, num, rec, type IssueSink } from '../fields.js';
import { HEARTBEAT_DEFAULTS } from '../sections/heartbeat.js';
import { TAKEOVER_DEFAULTS } from '../sections/takeover.js';
import { camelKeys } from '../camel.js';
import { kindField, tunAddresses, tunLinkChecks, tunNaming, typedTun } from './common.js';

// ---------------------------------------------------------------------------------------------------------------
// Line timing

/** Bits on the line per byte: 8N1 = start + 8 data + stop. */
export const BITS_PER_BYTE = 10;
/** Bytes the line carries per second (each way). */
export const lineBytesPerSecond = (baud: number): number => baud / BITS_PER_BYTE;
/** How long the line takes to send `bytes`, ms. */
export const lineTimeMs = (bytes: number, baud: number): number => (bytes * BITS_PER_BYTE * 1000) / baud;

// A heartbeat frame is at most HEARTBEAT_BYTES on the line, and heartbeats take at most LINE_SHARE of it; a link is
// down after TIMEOUT_INTERVALS heartbeat intervals without one.
const HEARTBEAT_BYTES = 256;
const LINE_SHARE = 0.1;
const TIMEOUT_INTERVALS = 4;

/** The default serial MTU: a full frame is at most ~50 ms of line time, within 296..1500 (115200 baud: 576). */
export function serialMtuDefault(baud: number): number {
  return Math.max(296, Math.min(1500, Math.floor(lineBytesPerSecond(baud) * 0.05)));
}

/**
 * Heartbeats on a serial link: at most LINE_SHARE of the line for a heartbeat of HEARTBEAT_BYTES (115200 baud: every
 * 230 ms, timeout 920 ms), never faster than the global interval.
 */
export function serialHeartbeatDefaults(baud: number, globalIntervalMs: number = HEARTBEAT_DEFAULTS.interval_ms): HeartbeatSettings {
  const ms = lineTimeMs(HEARTBEAT_BYTES, baud) / LINE_SHARE;
  const intervalMs = Math.max(globalIntervalMs, Math.ceil(ms / 10) * 10);
  return { intervalMs, timeoutMs: intervalMs * TIMEOUT_INTERVALS };
}

/** A serial link's heartbeat settings: explicit values, else the defaults for its baud rate. */
export function serialLinkHeartbeat(baud: number, intervalMs: number | undefined, timeoutMs: number | undefined, globalIntervalMs?: number): HeartbeatSettings {
  const d = serialHeartbeatDefaults(baud, globalIntervalMs);
  const interval = intervalMs ?? d.intervalMs;
  return { intervalMs: interval, timeoutMs: timeoutMs ?? (intervalMs !== undefined ? interval * TIMEOUT_INTERVALS : d.timeoutMs) };
}

// ---------------------------------------------------------------------------------------------------------------
// Schema

const SERIAL_BAUDS = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000];
const at115200 = serialHeartbeatDefaults(115200);

export const serialSchema = z.strictObject({
  kind: kindField('serial'),
  ...tunNaming,
  device: absPath.meta({ description: 'The serial device (e.g. /dev/ttyS0, /dev/ttyUSB0).' }),
  baud: z.number().int().superRefine((v, ctx) => {
    if (!SERIAL_BAUDS.includes(v)) ctx.addIssue({ code: 'custom', message: `${v} is not a standard baud rate (${SERIAL_BAUDS.join(', ')})` });
  }).meta({
    description: 'A standard rate. 115200 baud carries ~11.5 KB/s each way: enough for control traffic and a few ' +
      'interactive connections, not for bulk.',
  }),
  ...tunAddresses,
  mtu: z.number().int().min(68).max(9000).optional().meta({
    description: `MTU of the TUN interface. Default: what the line sends in ~50 ms, within 296..1500 (${serialMtuDefault(115200)} at 115200 baud), ` +
      'so a heartbeat never waits long behind a full packet.',
  }),
  cost: cost(100),
  heartbeat_interval_ms: ms(1, 60_000).optional().meta({
    description: `This link's heartbeat interval. Default: heartbeats take at most ${LINE_SHARE * 100} % of the line (at 115200 baud every ` +
      `${at115200.intervalMs} ms), and never come faster than heartbeat.interval_ms.`,
  }),
  heartbeat_timeout_ms: ms(1, 600_000).optional().meta({
    description: `This link is down after this long without a valid heartbeat. Default: ${TIMEOUT_INTERVALS} intervals (${at115200.timeoutMs} ms ` +
      'at 115200 baud). More than 2 * heartbeat_interval_ms, and less than takeover.lease_ms.',
  }),
}).superRefine((l, ctx) => {
  tunLinkChecks(l, ctx);
  if (typeof l.baud !== 'number') return;
  const interval = serialLinkHeartbeat(l.baud, l.heartbeat_interval_ms, undefined).intervalMs;
  const timeout = serialLinkHeartbeat(l.baud, l.heartbeat_interval_ms, l.heartbeat_timeout_ms).timeoutMs;
  if (!(timeout > 2 * interval)) ctx.addIssue({ code: 'custom', path: ['heartbeat_timeout_ms'], message: `must be more than 2 * heartbeat_interval_ms (${2 * interval}), got ${timeout}` });
}).meta({
  description: 'A serial line (RS232 null-modem cable, or USB serial adapters): the last resort when every network interface of a server ' +
    'has failed. hanet creates a TUN interface (default name hn<name>, at most 15 characters) and carries IP packets and control ' +
    'messages over the line in COBS frames with a CRC-32; frames damaged by line noise are dropped and counted, and the device is ' +
    'reopened by itself after it disappears (USB adapter unplugged). 8N1, no flow control.',
});

/**
 * The lease must outlive this link's (slower) heartbeat timeout, as it must the global one: else a helper drops the
 * owner's addresses while the owner is merely waiting to notice the link is down. Reads the partially parsed document.
 */
export function serialDocumentChecks(l: Record<string, unknown>, doc: Record<string, unknown>, path: PropertyKey[], ctx: IssueSink): void {
  const baud = num(l.baud);
  if (baud === undefined || baud <= 0) return;
  const lease = num(rec(doc.takeover)?.lease_ms) ?? TAKEOVER_DEFAULTS.lease_ms;
  const hb = serialLinkHeartbeat(baud, num(l.heartbeat_interval_ms), num(l.heartbeat_timeout_ms), num(rec(doc.heartbeat)?.interval_ms));
  if (!(lease > hb.timeoutMs)) {
    ctx.addIssue({ code: 'custom', path: [...path, l.heartbeat_timeout_ms !== undefined ? 'heartbeat_timeout_ms' : 'baud'], message: `this link's heartbeat timeout (${hb.timeoutMs} ms${l.heartbeat_timeout_ms === undefined ? `, the default at ${baud} baud` : ''}) must be less than takeover.lease_ms (${lease}): raise lease_ms or set heartbeat_timeout_ms` });
  }
}

/** The typed link: its TUN, MTU and heartbeats resolved from the baud rate (and the global heartbeat interval). */
export function toSerialLink(l: z.output<typeof serialSchema>, globalHeartbeat: { intervalMs: number }) {
  const { heartbeat_interval_ms: intervalMs, heartbeat_timeout_ms: timeoutMs, ...rest } = l;
  return {
    ...camelKeys(rest),
    ...typedTun(l),
    mtu: l.mtu ?? serialMtuDefault(l.baud),
    heartbeat: serialLinkHeartbeat(l.baud, intervalMs, timeoutMs, globalHeartbeat.intervalMs),
  };
}
export type SerialLinkConfig = ReturnType<typeof toSerialLink>;
