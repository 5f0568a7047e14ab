// `hanet lab run|stop` (and `lab up --run`): a live hanet cluster in a lab, for an operator or a test to poke with
// `hanet status|events -c <config>`, `hanet lab fail|heal`; `lab down` stops it too. Registering loads nothing of src/lab.
import type { Command } from 'commander';
import { labNameOption } from './lab.js';

/** Starts hanet on the lab's servers and prints how to reach each daemon. */
export async function runLabCluster(name: string, servers?: string[]): Promise<void> {
  const [{ openLab, requireRootPrivileges }, { runCluster }] = await Promise.all([import('../lab/lab.js'), import('../lab/live-cluster.js')]);
  requireRootPrivileges('hanet lab run');
  const lab = await openLab(name);
  const t0 = performance.now();
  const c = await runCluster(lab, servers ? { servers } : {});
  process.stdout.write(`hanet runs on ${c.servers.join(', ')} in lab "${name}" (ready in ${(performance.now() - t0).toFixed(0)} ms)\n`);
  for (const n of c.servers) process.stdout.write(`  ${n.padEnd(4)} pid ${String(c.pid(n)).padEnd(8)} hanet status -c ${c.configPath(n)}   (log ${c.logPath(n)})\n`);
  process.stdout.write(`stop it with: hanet lab stop${name === 'lab' ? '' : ` --name ${name}`}  (or hanet lab down)\n`);
}

export function registerLabClusterCommands(lab: Command): void {
  lab
    .command('run')
    .description('start hanet on the servers of a running lab (detached, generated configs under /run/hanet-lab/<lab>/cluster)')
    .option('--servers <list>', 'comma-separated servers (default: every server of the topology)')
    .addOption(labNameOption())
    .action(async (o: { servers?: string; name: string }) => {
      await runLabCluster(o.name, o.servers?.split(',').map((s) => s.trim()).filter(Boolean));
    });
  lab
    .command('stop')
    .description('stop the hanet daemons of a lab (SIGTERM: each removes what it installed); the lab stays up')
    .addOption(labNameOption())
    .action(async (o: { name: string }) => {
      const [{ requireRootPrivileges }, { stopLabDaemons }] = await Promise.all([import('../lab/lab.js'), import('../lab/live-cluster.js')]);
      requireRootPrivileges('hanet lab stop');
      const n = await stopLabDaemons(o.name);
      process.stdout.write(n ? `stopped ${n} daemon(s) in lab "${o.name}"\n` : `no daemons recorded in lab "${o.name}"\n`);
    });
}
