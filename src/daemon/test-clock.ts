// Test hook, not a feature: a wall clock with an injected offset, so the lab's chaos run can step one daemon's clock
// (issue #10) without touching the machine's clock, which every namespace shares. It is the daemon's wall clock:
// control-message send times, heartbeat RTT echoes, event times. The replay protection reads no wall clock
// (src/proto/replay.ts), so a step must change nothing else; monotonic time (every timeout and lease) is untouched,
// as a real clock step leaves CLOCK_MONOTONIC untouched.
//   HANET_CLOCK_OFFSET_MS=<ms>       a fixed offset (may be negative) from the start
//   HANET_CLOCK_OFFSET_FILE=<path>   the offset is the number in this file, re-read every 100 ms (a step while
//                                    running); a missing or unreadable file means the fixed offset (or 0)
import { readFileSync } from 'node:fs';

const REREAD_MS = 100;

export interface WallClock {
  now(): number;
  /** The offset in force (ms); 0 without the hook. */
  offset(): number;
  /** Whether either variable is set (the daemon logs that the hook is active). */
  readonly injected: boolean;
  close(): void;
}

const num = (s: string | undefined): number | undefined => {
  if (s === undefined || s.trim() === '') return undefined;
  const n = Number(s.trim());
  return Number.isFinite(n) ? n : undefined;
};

export function wallClockFromEnv(env: NodeJS.ProcessEnv = process.env): WallClock {
  const fixed = num(env.HANET_CLOCK_OFFSET_MS) ?? 0;
  const file = env.HANET_CLOCK_OFFSET_FILE || undefined;
  let offset = fixed;
  const read = (): void => {
    let text: string | undefined;
    try { text = readFileSync(file!, 'utf8'); } catch { text = undefined; }
    offset = num(text) ?? fixed;
  };
  let timer: NodeJS.Timeout | undefined;
  if (file) {
    read();
    timer = setInterval(read, REREAD_MS);
    timer.unref();
  }
  return {
    now: offset === 0 && !file ? Date.now : () => Date.now() + offset,
    offset: () => offset,
    injected: file !== undefined || env.HANET_CLOCK_OFFSET_MS !== undefined,
    close: () => { if (timer) clearInterval(timer); },
  };
}
