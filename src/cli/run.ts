// `hanet run`, `hanet status` and `hanet events`: the daemon in the foreground, and what it says about itself.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { HanetError } from '../errors.js';
import { askControl } from '../daemon/control-socket.js';
import type { DaemonStatus } from '../daemon/daemon.js';
import { runDaemon } from '../daemon/run.js';
import type { CoreLogEvent } from '../core/types.js';
import { formatEvent, formatStatus as formatStatusText } from './format-status.js';

export function registerRunCommands(program: Command): void {
  program
    .command('run')
    .description('run the hanet daemon in the foreground (as root; systemd Type=simple, logs to stderr)')
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .option('--keep-state-on-exit', 'on SIGTERM leave the kernel state as it is (for a restart that must not interrupt a takeover)')
    .action(async (o: { config: string; keepStateOnExit?: boolean }) => {
      await runDaemon(o.config, { keepStateOnExit: o.keepStateOnExit === true });
    });

  program
    .command('status')
    .description('ask the running daemon for interfaces, peers, takeovers and recent events')
    .option('-c, --config <file>', 'configuration file (to find the control socket)')
    .option('-s, --socket <path>', 'control socket path', '/run/hanet/hanet.sock')
    .option('--json', 'print one JSON object')
    .action(async (o: { config?: string; socket: string; json?: boolean }) => {
      const path = o.config ? loadConfig(o.config).controlSocket : o.socket;
      const [line] = await askControl(path, { cmd: 'status' });
      if (!line) throw new HanetError('HANET_ERR_CONTROL', 'the daemon closed the control socket without an answer');
      if (o.json) { process.stdout.write(line + '\n'); return; }
      process.stdout.write(formatStatusText(JSON.parse(line) as DaemonStatus));
    });

  program
    .command('events')
    .description('the daemon\'s event log: failures, takeover steps, failbacks, rejected messages')
    .option('-c, --config <file>', 'configuration file (to find the control socket)')
    .option('-s, --socket <path>', 'control socket path', '/run/hanet/hanet.sock')
    .option('-f, --follow', 'keep printing new events')
    .option('--json', 'JSON lines')
    .action(async (o: { config?: string; socket: string; follow?: boolean; json?: boolean }) => {
      const path = o.config ? loadConfig(o.config).controlSocket : o.socket;
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort());
      await askControl(path, { cmd: 'events', follow: o.follow === true }, (line) => {
        if (o.json) { process.stdout.write(line + '\n'); return; }
        process.stdout.write(formatEvent(JSON.parse(line) as CoreLogEvent) + '\n');
      }, ac.signal);
    });
}

/** Moved to format-status.ts (tables); re-exported for existing importers. */
export { formatStatus } from './format-status.js';
