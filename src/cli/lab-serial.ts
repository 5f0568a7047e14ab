// `hanet lab unplug|plug` (serial links of a lab) and the internal `hanet lab serial-relay` (the lab's cable).
// The actions import the lab when they run; registering loads nothing of src/lab.
import { Option, type Command } from 'commander';
import { labNameOption } from './lab.js';
import { UNPLUG_MODES, type UnplugMode } from './lab-options.js';

export function registerLabSerialCommands(lab: Command): void {
  lab
    .command('unplug')
    .description('unplug a serial link: hangup = the USB adapter pulled out (EOF on the tty), silent = bytes vanish')
    .argument('<port>', 'either end of the serial link, e.g. a:ser0')
    .addOption(new Option('--mode <mode>', 'hangup or silent').choices(UNPLUG_MODES).default('hangup'))
    .addOption(labNameOption())
    .action(async (port: string, o: { mode: UnplugMode; name: string }) => {
      const { openLab, requireRootPrivileges } = await import('../lab/lab.js');
      requireRootPrivileges('hanet lab unplug');
      await (await openLab(o.name)).unplug(port, o.mode);
      process.stdout.write(`${port}: unplugged (${o.mode})\n`);
    });
  lab
    .command('plug')
    .description('plug a serial link back in')
    .argument('<port>', 'either end of the serial link, e.g. a:ser0')
    .addOption(labNameOption())
    .action(async (port: string, o: { name: string }) => {
      const { openLab, requireRootPrivileges } = await import('../lab/lab.js');
      requireRootPrivileges('hanet lab plug');
      await (await openLab(o.name)).plug(port);
      process.stdout.write(`${port}: plugged\n`);
    });
  lab
    .command('serial-relay', { hidden: true })
    .description('internal: the rate-limited pseudo-terminal relay of a lab serial link (started by lab up/plug)')
    .requiredOption('--baud <n>', 'line rate')
    .option('--tty <path>', 'symlink for a slave end (twice)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(async (o: { baud: string; tty: string[] }) => {
      const [{ runSerialRelay }, { LabError }] = await Promise.all([import('../lab/serial-relay.js'), import('../lab/errors.js')]);
      if (o.tty.length !== 2) throw new LabError('--tty must be given twice');
      runSerialRelay({ baud: Number(o.baud), ttys: [o.tty[0]!, o.tty[1]!] });
    });
}
