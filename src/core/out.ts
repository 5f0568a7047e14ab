// Where the parts of the core put their effects during one step, in order, and the gate that holds back what
// must wait until the kernel holds the step's desired state (the effect-order contract, docs/CONTRACTS.md).
import type { CoreConfig, CoreEffect, CoreEventType, TakeoverSettings } from './types.js';
import type { PeerMessage } from './messages.js';
import type { Lans } from './lans.js';
import type { PeerTable } from './peers.js';

/** What the owner and helper sides of a node share: its configuration, the step's effect sink and kernel gate, its peers and LANs. */
export interface NodeParts { cfg: CoreConfig; out: Out; gate: KernelGate; peers: PeerTable; lans: Lans }

/** The effect sink of one step. `now` is the step's time. */
export class Out {
  now = 0;
  private effects: CoreEffect[] = [];

  constructor(private readonly takeover: TakeoverSettings) {}

  begin(now: number): void {
    this.now = now;
    this.effects = [];
  }

  take(): CoreEffect[] {
    const e = this.effects;
    this.effects = [];
    return e;
  }

  send(link: string, msg: PeerMessage): void {
    this.effects.push({ kind: 'send', link, msg });
  }

  event(type: CoreEventType, details: Record<string, unknown>): void {
    this.effects.push({ kind: 'event', event: { type, at: this.now, ...details } });
  }

  /** Gratuitous ARP for `addresses` on `iface`, repeated as the takeover settings say. */
  announce(iface: string, addresses: string[]): void {
    if (addresses.length === 0) return;
    this.effects.push({ kind: 'announce', iface, addresses, count: this.takeover.garpCount, intervalMs: this.takeover.garpIntervalMs });
  }

  probeTargets(iface: string, targets: string[]): void {
    this.effects.push({ kind: 'probe-targets', iface, targets });
  }

  flushNeighbors(iface: string): void {
    this.effects.push({ kind: 'flush-neighbors', iface });
  }

  /** The kernel effect goes first: what follows in the same step may depend on it. */
  kernel(effect: Extract<CoreEffect, { kind: 'kernel' }>): void {
    this.effects.unshift(effect);
  }
}

/**
 * What runs once the kernel holds a desired state: `ok` true when it does; false when the reconcile failed (with
 * the error). Return true to keep waiting for a later successful reconcile, false when done.
 */
export type AfterKernel = (ok: boolean, error?: string) => boolean;

/**
 * Holds actions until the kernel has applied the desired state of the step that made them. Generations number the
 * desired states the core emits; the daemon reports each one it applied (or failed to apply). Actions registered
 * during a step get the step's generation at its end: the new one if the step changed the desired state, else the
 * current one — and run at once if that one is already applied.
 */
export class KernelGate {
  /** Generation of the latest desired state emitted. */
  gen = 0;
  /** Latest generation the kernel is known to hold. */
  applied = 0;
  private readonly step: AfterKernel[] = [];
  private waiting: Array<{ gen: number; run: AfterKernel }> = [];

  /** Registers `run` for the end of the current step. */
  after(run: AfterKernel): void {
    this.step.push(run);
  }

  /** Ends a step: `changed` says whether it emitted a new desired state (whose generation is then `gen`). */
  endStep(changed: boolean): void {
    if (changed) this.gen++;
    for (const run of this.step.splice(0)) this.waiting.push({ gen: this.gen, run });
    if (this.applied >= this.gen) this.release(this.applied, true);
  }

  /** The daemon applied (or failed to apply) generation `gen`. */
  kernelApplied(gen: number, ok: boolean, error?: string): void {
    if (ok) this.applied = Math.max(this.applied, gen);
    this.release(gen, ok, error);
  }

  pending(): number {
    return this.waiting.length;
  }

  private release(gen: number, ok: boolean, error?: string): void {
    const due = this.waiting.filter((w) => w.gen <= gen);
    if (due.length === 0) return;
    this.waiting = this.waiting.filter((w) => w.gen > gen);
    for (const w of due) if (w.run(ok, error)) this.waiting.push(w);
  }
}
