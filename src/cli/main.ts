// The `hanet` command line: parses arguments with commander and hands off to the subcommand modules.
import { Command, CommanderError } from 'commander';
import { HanetError } from '../errors.js';
import { HANET_VERSION } from '../version.js';
import { registerLabCommands } from './lab.js';
import { registerConfigCommands } from './config.js';
import { registerRunCommands } from './run.js';
import { registerDemoCommands } from './demo.js';
import { registerWorkloadCommands } from './workload.js';
import { registerLabSerialCommands } from './lab-serial.js';
import { registerLabClusterCommands } from './lab-cluster.js';
import { registerDoctorCommands } from './doctor.js';

const program = new Command();
program
  .name('hanet')
  .description('network high availability: a peer takes over the packet transmission of a server whose public interfaces failed')
  .version(HANET_VERSION)
  .showHelpAfterError();

registerRunCommands(program);
registerConfigCommands(program);
registerDemoCommands(program);
registerDoctorCommands(program);
registerLabCommands(program, registerWorkloadCommands, registerLabSerialCommands, registerLabClusterCommands);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (err instanceof HanetError) {
    process.stderr.write(`hanet: ${err.code}: ${err.message}\n`);
    if (err.cause instanceof Error) process.stderr.write(`  cause: ${err.cause.message}\n`);
  } else {
    process.stderr.write(`hanet: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  process.exit(1);
});
