// `hanet lab unplug|plug` (serial links of a lab) and the internal `hanet lab serial-relay` (the lab's cable).
import { Option, type Command } from 'commander';
import { openLab, requireRootPrivileges, type UnplugMode } from '../lab/lab.js';
import { runSerialRelay } from '../lab/serial-relay.js';
import { DEFAULT_LAB } from './lab.js';

export function registerLabSerialCommands(lab: Command): void {
  const nameOpt = () => new Option('-n, --name <lab>', 'lab name ([a-z0-9]{1,8})').default(DEFAULT_LAB);
  lab
    .command('unplug')
    .description('unplug a serial link: hangup = the USB adapter pulled out (EOF on the tty), silent = bytes vanish')
    .argument('<port>', 'either end of the serial link, e.g. a:ser0')
    .addOption(new Option('--mode <mode>', 'hangup or silent').choices(['hangup', 'silent']).default('hangup'))
    .addOption(nameOpt())
    .action(async (port: string, o: { mode: UnplugMode; name: string }) => {
      requireRootPrivileges('hanet lab unplug');
      await (await openLab(o.name)).unplug(port, o.mode);
      process.stdout.write(`${port}: unplugged (${o.mode})\n`);
    });
  lab
    .command('plug')
    .description('plug a serial link back in')
    .argument('<port>', 'either end of the serial link, e.g. a:ser0')
    .addOption(nameOpt())
    .action(async (port: string, o: { name: string }) => {
      requireRootPrivileges('hanet lab plug');
      await (await openLab(o.name)).plug(port);
      process.stdout.write(`${port}: plugged\n`);
    });
  lab
    .command('serial-relay', { hidden: true })
    .description('internal: the rate-limited pseudo-terminal relay of a lab serial link (started by lab up/plug)')
    .requiredOption('--baud <n>', 'line rate')
    .option('--tty <path>', 'symlink for a slave end (twice)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action((o: { baud: string; tty: string[] }) => {
      if (o.tty.length !== 2) throw new Error('--tty must be given twice');
      runSerialRelay({ baud: Number(o.baud), ttys: [o.tty[0]!, o.tty[1]!] });
    });
}
