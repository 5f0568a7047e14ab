// CLI commands for configuration and keys: `hanet check`, `hanet config example`, `hanet key generate`.
// Thin: the work is in src/config/; these parse arguments, call it and print.
import { randomBytes } from 'node:crypto';
import { writeFileSync, chmodSync } from 'node:fs';
import type { Command } from 'commander';
import { HanetError } from '../errors.js';
import { loadConfig, loadKeyDetailed } from '../config/load.js';
import { configExample } from '../config/example.js';
import { birdSnippet } from '../config/bird.js';

export const DEFAULT_CONFIG_PATH = '/etc/hanet/hanet.yaml';

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** Checks a configuration file and the key file it names. Returns the lines to print and whether all is well. */
export function checkConfigFile(path: string): { ok: boolean; out: string[]; err: string[] } {
  let config;
  try {
    config = loadConfig(path);
  } catch (e) {
    if (e instanceof HanetError) return { ok: false, out: [], err: [e.message] };
    throw e;
  }
  let keyInfo: string;
  try {
    const k = loadKeyDetailed(config.keyFile);
    keyInfo = `key ${k.key.length} bytes (${k.format}, mode ${k.mode.toString(8).padStart(4, '0')})`;
  } catch (e) {
    if (e instanceof HanetError) return { ok: false, out: [], err: [`${path}: key_file: ${e.message}`] };
    throw e;
  }
  const addrs = config.public.reduce((n, p) => n + p.addresses.length, 0);
  const peers = new Set(config.private.map((l) => l.peer));
  const summary = [
    `node ${config.node}`,
    plural(config.public.length, 'public interface'),
    plural(addrs, 'service address', 'service addresses'),
    plural(config.private.length, 'private link'),
    plural(peers.size, 'peer'),
    `heartbeat ${config.heartbeat.intervalMs}/${config.heartbeat.timeoutMs} ms`,
    `lease ${config.takeover.leaseMs} ms`,
    config.takeover.canHelp ? 'can help' : 'does not help',
    keyInfo,
  ];
  return { ok: true, out: [`ok: ${summary.join(', ')}`], err: [] };
}

export function registerConfigCommands(program: Command): void {
  program
    .command('check')
    .description('validate a configuration file and its key file')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG_PATH)
    .action((opts: { config: string }) => {
      const r = checkConfigFile(opts.config);
      for (const l of r.out) process.stdout.write(`${l}\n`);
      for (const l of r.err) process.stderr.write(`${l}\n`);
      if (!r.ok) process.exitCode = 1;
    });

  const config = program.command('config').description('configuration helpers');
  config
    .command('example')
    .description('print an annotated example configuration')
    .action(() => {
      process.stdout.write(configExample());
    });

  config
    .command('bird')
    .description('print the BIRD 2 configuration that announces what a helper takes over on mode l3 interfaces (docs/l3.md)')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG_PATH)
    .action((opts: { config: string }) => {
      process.stdout.write(birdSnippet(loadConfig(opts.config)));
    });

  const key = program.command('key').description('cluster key helpers');
  key
    .command('generate')
    .description('make a new cluster key: 32 random bytes, hex; copy the same file to every node')
    .option('--out <file>', 'write the key to this file (mode 0600) instead of printing it')
    .option('--force', 'overwrite an existing file')
    .action((opts: { out?: string; force?: boolean }) => {
      const hex = `${randomBytes(32).toString('hex')}\n`;
      if (opts.out === undefined) {
        process.stdout.write(hex);
        return;
      }
      try {
        writeFileSync(opts.out, hex, { mode: 0o600, flag: opts.force ? 'w' : 'wx' });
        chmodSync(opts.out, 0o600); // mode applies only on creation; an overwritten file keeps its old mode
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new HanetError('HANET_ERR_CONFIG', code === 'EEXIST' ? `${opts.out} exists; use --force to overwrite it` : `cannot write ${opts.out}: ${code ?? String(e)}`, { cause: e });
      }
      process.stderr.write(`wrote a 32-byte key to ${opts.out} (mode 0600)\n`);
    });
}
