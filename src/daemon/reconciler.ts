// Makes the kernel hold the core's desired state: one reconcile at a time, the latest desired state always wins,
// and every generation applied (or failed) is reported back to the core, which releases what waited for it
// (acks, announcements: the effect-order contract in docs/CONTRACTS.md).
import { formatKernelOp } from '../core/kernel-plan.js';
import type { DesiredKernelState, KernelPort } from '../core/kernel-types.js';
import type { CoreLogEvent } from '../core/types.js';
import type { Logger } from './ports.js';

export interface ReconcilerStats { reconciles: number; lastOps: string[]; lastError?: string }

export class Reconciler {
  private desired: DesiredKernelState | undefined;
  private gen = 0;
  private running: Promise<void> | undefined;
  private again = false;
  /** The next reconcile reads the kernel afresh. */
  private full = false;
  private stopped = false;
  private reconciles = 0;
  private lastOps: string[] = [];
  private lastError: string | undefined;

  constructor(
    private readonly kernel: KernelPort,
    private readonly now: () => number,
    private readonly applied: (gen: number, ok: boolean, error?: string) => void,
    private readonly record: (ev: CoreLogEvent) => void,
    private readonly log: Logger,
  ) {}

  /** The latest desired state (undefined before the core emitted one). */
  latest(): DesiredKernelState | undefined { return this.desired; }

  /** A new desired state of generation `gen`. */
  set(desired: DesiredKernelState, gen: number): void {
    this.desired = desired;
    this.gen = gen;
    this.kick();
  }

  /** Applies the latest desired state again from a fresh read of the kernel (repairs drift, e.g. routes an admin-down removed). */
  resync(): void {
    this.full = true;
    this.kick();
  }

  private kick(): void {
    if (!this.desired || this.stopped) return;
    if (this.running) { this.again = true; return; }
    this.running = this.loop().finally(() => { this.running = undefined; });
  }

  /** Resolves when no reconcile is running. */
  async idle(): Promise<void> {
    while (this.running) await this.running.catch(() => undefined);
  }

  stop(): void { this.stopped = true; }

  stats(): ReconcilerStats {
    return { reconciles: this.reconciles, lastOps: this.lastOps, ...(this.lastError !== undefined ? { lastError: this.lastError } : {}) };
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      const desired = this.desired!;
      const gen = this.gen;
      const t0 = this.now();
      const full = this.full;
      this.full = false;
      try {
        const ops = await this.kernel.reconcile(desired, { full });
        this.reconciles++;
        if (ops.length) {
          this.lastOps = ops.map((o) => formatKernelOp(o));
          this.record({ type: 'kernel-changed', at: this.now(), gen, ops: this.lastOps, ms: Math.round((this.now() - t0) * 100) / 100 });
        }
        this.lastError = undefined;
        if (!this.stopped) this.applied(gen, true);
      } catch (err) {
        const msg = err instanceof Error ? err.message : String(err);
        // Resyncs retry every second: the same error is an event (and an error log line) once, not every second.
        if (msg !== this.lastError) this.record({ type: 'kernel-failed', at: this.now(), gen, error: msg });
        else this.log.debug({ err: msg }, 'kernel reconcile failed again');
        this.lastError = msg;
        if (!this.stopped) this.applied(gen, false, msg);
      }
    } while (this.again && !this.stopped);
  }
}
