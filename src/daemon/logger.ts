// Structured logs with pino: JSON lines when stderr is not a terminal (journald, files), readable lines on a terminal.
import { pino, type Logger as PinoLogger } from 'pino';

export function createLogger(level: string, node: string): PinoLogger {
  const tty = process.stderr.isTTY === true;
  return pino(
    {
      level,
      base: { node },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    tty ? prettyStream() : pino.destination({ fd: 2, sync: false }),
  );
}

/** A small human formatter for terminals (no extra dependency): "12:00:01.234 INFO takeover-requested lan=lan0 ...". */
function prettyStream(): { write(s: string): void } {
  return {
    write(s: string) {
      try {
        const o = JSON.parse(s) as Record<string, unknown>;
        const { time, level, msg, node, ...rest } = o;
        const kv = Object.entries(rest).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
        process.stderr.write(`${String(time).slice(11, 23)} ${String(level).toUpperCase().padEnd(5)} [${String(node)}] ${String(msg ?? '')} ${kv}\n`);
      } catch {
        process.stderr.write(s);
      }
    },
  };
}
