// One long-lived `ip -batch` per namespace, asked for a few JSON dumps per sample: the chaos watcher's cheap way to
// read proxy entries (which raise no netlink event), hanet's routes, addresses and ARP caches every ~10 ms without
// starting a process per read (measured: a batch of three dumps answered in ~0.3 ms, CPU ~1.3% of a core at 100 Hz).
import { spawn, type ChildProcess } from 'node:child_process';
import { IP } from '../iproute.js';

export interface SampleResult {
  /** performance.now() when the answer was complete. */
  at: number;
  /** One parsed JSON array per command, in order. */
  outputs: unknown[][];
}

export class NsSampler {
  private readonly child: ChildProcess;
  private buf = '';
  private pending: { n: number; lines: string[]; resolve: (r: SampleResult | undefined) => void } | undefined;
  private dead = false;

  /** `brief`: -br output (addresses compactly; neighbour dumps then lose their state, so routers' samplers go without). */
  constructor(readonly ns: string, brief: boolean) {
    this.child = spawn(IP, ['-n', ns, '-4', '-j', ...(brief ? ['-br'] : []), '-force', '-batch', '-'], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => this.data(d));
    this.child.stdin!.on('error', () => undefined);
    this.child.on('exit', () => { this.dead = true; this.finish(undefined); });
    this.child.on('error', () => { this.dead = true; this.finish(undefined); });
  }

  get busy(): boolean { return this.pending !== undefined; }

  /** The ip process (for its CPU time). */
  get pid(): number | undefined { return this.child.pid; }

  /** Runs the commands (each must print one JSON array and never fail); undefined if busy or the process is gone. */
  sample(commands: readonly string[]): Promise<SampleResult | undefined> {
    if (this.pending || this.dead) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.pending = { n: commands.length, lines: [], resolve };
      this.child.stdin!.write(commands.join('\n') + '\n');
    });
  }

  private data(d: string): void {
    this.buf += d;
    let i: number;
    while ((i = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, i);
      this.buf = this.buf.slice(i + 1);
      if (!this.pending || line.trim() === '') continue;
      this.pending.lines.push(line);
      if (this.pending.lines.length === this.pending.n) {
        const at = performance.now();
        const outputs = this.pending.lines.map((l) => { try { const v: unknown = JSON.parse(l); return Array.isArray(v) ? v : []; } catch { return []; } });
        this.finish({ at, outputs });
      }
    }
  }

  private finish(r: SampleResult | undefined): void {
    const p = this.pending;
    this.pending = undefined;
    p?.resolve(r);
  }

  close(): void {
    this.child.stdin!.end();
    this.child.kill('SIGTERM');
  }
}
