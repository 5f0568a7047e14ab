// `hanet doctor [-c FILE] [--json]`: the preflight (src/doctor). Prints each finding with its fix; exits 1 when
// anything blocks a takeover, 0 otherwise (warnings included).
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { runDoctor, summarise, type Finding } from '../doctor/index.js';
import { DEFAULT_CONFIG_PATH } from './config.js';
import { registerServiceCommands } from './service.js';

/** Version of the `hanet doctor --json` output: bumped when a field changes meaning or goes. */
export const DOCTOR_JSON_VERSION = 1;

const LABEL = { ok: 'ok   ', warn: 'WARN ', block: 'BLOCK' } as const;

export function formatFindings(findings: readonly Finding[]): string {
  const lines: string[] = [];
  for (const f of findings) {
    lines.push(`${LABEL[f.severity]} ${f.id}${f.subject !== undefined ? ` ${f.subject}` : ''}: ${f.message}`);
    if (f.fix !== undefined && f.severity !== 'ok') lines.push(`      fix: ${f.fix}`);
  }
  const s = summarise(findings);
  lines.push(s.ok
    ? `nothing blocks a takeover (${s.warnings} warning${s.warnings === 1 ? '' : 's'}, ${findings.length} findings)`
    : `${s.blocking} problem${s.blocking === 1 ? '' : 's'} block${s.blocking === 1 ? 's' : ''} a takeover (${s.warnings} warning${s.warnings === 1 ? '' : 's'}, ${findings.length} findings)`);
  return lines.join('\n') + '\n';
}

/** Registers `hanet doctor` and `hanet service` (the commands for installing hanet on a server). */
export function registerDoctorCommands(program: Command): void {
  registerServiceCommands(program);
  program
    .command('doctor')
    .description('check this machine for what hanet needs and what would defeat a takeover, each problem with its fix (exit 1: something blocks)')
    .option('-c, --config <file>', `configuration file (default ${DEFAULT_CONFIG_PATH} if it exists): adds interface, sysctl, permission and peer checks`)
    .option('--json', 'print one JSON object')
    .option('--bird-socket <path>', 'BIRD\'s control socket, checked when an interface is mode l3 (default: public[].bgp.bird_socket, /run/bird/bird.ctl)')
    .action(async (o: { config?: string; json?: boolean; birdSocket?: string }) => {
      const configPath = o.config ?? (existsSync(DEFAULT_CONFIG_PATH) ? DEFAULT_CONFIG_PATH : undefined);
      const findings = await runDoctor({ ...(configPath !== undefined ? { configPath } : {}), ...(o.birdSocket !== undefined ? { birdSocket: o.birdSocket } : {}) });
      const s = summarise(findings);
      if (o.json) process.stdout.write(JSON.stringify({ version: DOCTOR_JSON_VERSION, ...s, findings }) + '\n');
      else process.stdout.write(formatFindings(findings));
      process.exitCode = s.ok ? 0 : 1;
    });
}
