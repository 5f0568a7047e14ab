// The sysctls hanet changed and their values before it first did, kept in a file beside the control socket, so
// that a clean stop puts them back — also after a kill -9 and a restart, when the kernel already holds hanet's
// values and only the file still knows the originals. Found by the chaos run: ip_forward, proxy_delay and rp_filter
// stayed changed after every clean stop.
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import type { KernelOp, KernelPort, SysctlSpec } from '../core/kernel-types.js';
import { ReconcileError } from '../os/linux/kernel.js';

/** The file for a control socket path: `<socket>.sysctls.json`. */
export const sysctlMemoryPath = (controlSocket: string): string => `${controlSocket}.sysctls.json`;

export class SysctlMemory {
  private readonly originals = new Map<string, string>();

  constructor(private readonly file: string, private readonly procSys = '/proc/sys') {
    try {
      const saved = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      if (saved && typeof saved === 'object' && !Array.isArray(saved)) {
        for (const [k, v] of Object.entries(saved)) if (typeof v === 'string') this.originals.set(k, v);
      }
    } catch { /* none saved (first run, or a clean stop removed it) */ }
  }

  /** The KernelPort, remembering the previous value of every sysctl it changes for the first time. */
  wrap(kernel: KernelPort): KernelPort {
    const note = (ops: readonly KernelOp[]): void => {
      let changed = false;
      for (const op of ops) {
        if (op.op !== 'sysctl' || op.previous === undefined || this.originals.has(op.path)) continue;
        this.originals.set(op.path, op.previous);
        changed = true;
      }
      if (changed) this.save();
    };
    return {
      getLink: (name) => kernel.getLink(name),
      flushNeighbors: (ifname) => kernel.flushNeighbors(ifname),
      leftovers: () => kernel.leftovers(),
      close: () => kernel.close(),
      reconcile: async (desired, opts) => {
        try {
          const ops = await kernel.reconcile(desired, opts);
          note(ops);
          return ops;
        } catch (err) {
          if (err instanceof ReconcileError) note(err.applied);
          throw err;
        }
      },
    };
  }

  /** The values to put back on a clean stop (of the sysctls that still exist: a TUN's go with it). */
  restore(): SysctlSpec[] {
    return [...this.originals].filter(([path]) => existsSync(`${this.procSys}/${path}`)).map(([path, value]) => ({ path, value }));
  }

  /** They are back: nothing to remember any more. */
  forget(): void {
    this.originals.clear();
    rmSync(this.file, { force: true });
  }

  private save(): void {
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.originals)) + '\n', { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}
