// Structured logs with pino, to stderr, in one of three formats:
//  - json:    one JSON object per line (files, log shippers) — the default when stderr is not a terminal;
//  - pretty:  "12:00:01.234 INFO  [a] takeover-acked lan=lan0 helper=b" — the default on a terminal;
//  - journal: "<6>takeover-acked lan=lan0 helper=b" — the default under systemd (JOURNAL_STREAM names our stderr):
//             the sd-daemon(3) "<N>" prefix gives journald each line's priority (journalctl -p warning works), and
//             journald adds the time and unit itself.
// HANET_LOG_FORMAT=json|pretty|journal overrides the choice. Every line carries `event` for recorded events.
import { fstatSync } from 'node:fs';
import { pino, type Logger as PinoLogger } from 'pino';

export type LogFormat = 'json' | 'pretty' | 'journal';

/** syslog priorities of pino's levels (sd-daemon(3) prefixes). */
const PRIORITY: Record<string, number> = { trace: 7, debug: 7, info: 6, warn: 4, error: 3, fatal: 2 };

/** Whether stderr is the journal stream systemd connected (JOURNAL_STREAM is "device:inode" of that stream). */
export function stderrIsJournal(env: NodeJS.ProcessEnv = process.env): boolean {
  const js = env.JOURNAL_STREAM;
  if (!js) return false;
  try {
    const st = fstatSync(2);
    return js === `${st.dev}:${st.ino}`;
  } catch {
    return false;
  }
}

export function chooseLogFormat(env: NodeJS.ProcessEnv = process.env, tty = process.stderr.isTTY === true): LogFormat {
  const f = env.HANET_LOG_FORMAT;
  if (f === 'json' || f === 'pretty' || f === 'journal') return f;
  if (stderrIsJournal(env)) return 'journal';
  return tty ? 'pretty' : 'json';
}

export function createLogger(level: string, node: string, format: LogFormat = chooseLogFormat()): PinoLogger {
  return pino(
    {
      level,
      base: { node },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    format === 'json' ? pino.destination({ fd: 2, sync: false }) : lineStream(format, (s) => process.stderr.write(s)),
  );
}

const kv = (rest: Record<string, unknown>): string => Object.entries(rest)
  .filter(([, v]) => v !== undefined)
  .map(([k, v]) => `${k}=${typeof v === 'string' ? (/[\s"]/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`).join(' ');

/** Formats pino's JSON lines as readable lines (no extra dependency). Exported for tests. */
export function lineStream(format: 'pretty' | 'journal', write: (s: string) => void): { write(s: string): void } {
  return {
    write(s: string) {
      try {
        const o = JSON.parse(s) as Record<string, unknown>;
        const { time, level, msg, node, event, ...rest } = o;
        const text = `${String(msg ?? '')} ${kv(rest)}`.trimEnd();
        void event; // msg is the event name for recorded events
        if (format === 'journal') write(`<${PRIORITY[String(level)] ?? 6}>${text}\n`);
        else write(`${String(time).slice(11, 23)} ${String(level).toUpperCase().padEnd(5)} [${String(node)}] ${text}\n`);
      } catch {
        write(s);
      }
    },
  };
}
