// `ip monitor` in a lab node's namespace, each line stamped with the monotonic time it arrived: when a route or a
// link changed, without polling (a poll of `ip route show` costs a process per sample, ~5-10 ms here).
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { LabHandle } from '../../src/lab/lab.js';
import { hrNow } from './common.js';

export interface MonitorEvent { at: bigint; line: string }

export interface IpMonitor {
  readonly events: readonly MonitorEvent[];
  /** The first event at or after `from` (and before `to`) whose line matches. */
  first(re: RegExp, from: bigint, to?: bigint): MonitorEvent | undefined;
  stop(): void;
}

/** Starts `ip monitor <objects>` in `node`; resolves once the process runs (it prints nothing until a change). */
export async function ipMonitor(lab: LabHandle, node: string, objects: string[]): Promise<IpMonitor> {
  const child: ChildProcess = lab.spawn(node, ['ip', 'monitor', ...objects], { stdio: ['ignore', 'pipe', 'ignore'] });
  const events: MonitorEvent[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => events.push({ at: hrNow(), line }));
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  // Callers start monitors long before the first change they time (a workload start and a 1 s baseline come first);
  // this pause only lets a monitor that cannot run (bad arguments, no namespace) show itself by exiting.
  await new Promise((r) => setTimeout(r, 200));
  if (child.exitCode !== null) throw new Error(`ip monitor ${objects.join(' ')} in ${node} exited (${child.exitCode})`);
  return {
    events,
    first: (re, from, to) => events.find((e) => e.at >= from && (to === undefined || e.at < to) && re.test(e.line)),
    stop: () => void child.kill('SIGTERM'),
  };
}
