// `hanet service install`: writes the systemd unit (the package's examples/hanet.service) with ExecStart pointing at
// this installed package — the node binary running now and this package's bin/hanet.js, so the unit works whatever
// PATH systemd has — then `systemctl daemon-reload` when systemd runs. --dry-run prints what it would do.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { Command } from 'commander';
import { HanetError } from '../errors.js';
import { packageRoot } from '../os/linux/native.js';
import { DEFAULT_CONFIG_PATH } from './config.js';

export const UNIT_DIR = '/etc/systemd/system';
export const UNIT_NAME = 'hanet.service';

export interface UnitPaths {
  /** Absolute path of the node binary. */
  node: string;
  /** The package's root directory (holding bin/hanet.js and docs/). */
  root: string;
  config: string;
}

/** The unit text: the template with ExecStartPre, ExecStart and Documentation pointing at `paths`. Pure. */
export function renderUnit(template: string, paths: UnitPaths): string {
  const hanet = `${paths.node} ${join(paths.root, 'bin', 'hanet.js')}`;
  let seen = 0;
  const out = template.split('\n').map((line) => {
    if (line.startsWith('ExecStartPre=')) { seen++; return `ExecStartPre=${hanet} check -c ${paths.config}`; }
    if (line.startsWith('ExecStart=')) { seen++; return `ExecStart=${hanet} run -c ${paths.config}`; }
    if (line.startsWith('Documentation=')) return `Documentation=file://${join(paths.root, 'docs', 'install.md')} man:ip(8)`;
    return line;
  });
  if (seen !== 2) throw new HanetError('HANET_ERR_CONFIG', 'the unit template has no ExecStartPre=/ExecStart= lines to fill in');
  return out.join('\n');
}

export interface InstallPlan { unitPath: string; unit: string; reload: boolean; unchanged: boolean }

/** What `install` would do; `root` is prepended to every path written (a staging directory; '/' normally). */
export function planInstall(opts: { root: string; config: string; node?: string; packageDir?: string }): InstallPlan {
  const pkg = opts.packageDir ?? packageRoot();
  const templatePath = join(pkg, 'examples', UNIT_NAME);
  let template: string;
  try { template = readFileSync(templatePath, 'utf8'); } catch (e) {
    throw new HanetError('HANET_ERR_CONFIG', `cannot read the unit template ${templatePath}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, { cause: e });
  }
  const unit = renderUnit(template, { node: opts.node ?? process.execPath, root: pkg, config: opts.config });
  const unitPath = join(opts.root, UNIT_DIR, UNIT_NAME);
  let unchanged = false;
  try { unchanged = readFileSync(unitPath, 'utf8') === unit; } catch { /* not there yet */ }
  // Reload only the running systemd's view of the real / (not a staging directory).
  return { unitPath, unit, unchanged, reload: opts.root === '/' && existsSync('/run/systemd/system') };
}

export function registerServiceCommands(program: Command): void {
  const service = program.command('service').description('systemd service helpers');
  service
    .command('install')
    .description(`write ${UNIT_DIR}/${UNIT_NAME} for this installed package and reload systemd`)
    .option('-c, --config <file>', 'configuration file the service runs with', DEFAULT_CONFIG_PATH)
    .option('--root <dir>', 'write under this directory instead of / (staging, images)', '/')
    .option('--dry-run', 'print the unit and what would be done, change nothing')
    .action((o: { config: string; root: string; dryRun?: boolean }) => {
      const plan = planInstall({ root: o.root, config: o.config });
      // The unit sets ProtectHome=yes: a package or node under /home or /root (nvm, a user prefix) would be hidden.
      for (const p of [process.execPath, packageRoot()]) {
        if (/^\/(home|root)(\/|$)/.test(p)) process.stderr.write(`warning: ${p} is under /home or /root, which the unit hides (ProtectHome=yes): install node and hanet globally (npm install -g), or edit the unit\n`);
      }
      if (o.dryRun) {
        process.stdout.write(`# would write ${plan.unitPath}${plan.unchanged ? ' (unchanged)' : ''}${plan.reload ? ' and run systemctl daemon-reload' : ''}\n${plan.unit}`);
        return;
      }
      if (!plan.unchanged) {
        mkdirSync(join(o.root, UNIT_DIR), { recursive: true });
        writeFileSync(plan.unitPath, plan.unit, { mode: 0o644 });
      }
      process.stderr.write(`${plan.unchanged ? 'unchanged' : 'wrote'} ${plan.unitPath}\n`);
      if (plan.reload) execFileSync('systemctl', ['daemon-reload'], { stdio: 'inherit' });
      process.stderr.write(`next: hanet doctor -c ${o.config}; systemctl enable --now hanet\n`);
    });
}
