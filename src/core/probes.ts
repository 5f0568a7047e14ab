// Probe miss counting for one interface's targets (its gateways and LAN peers), by the rule the native link monitor
// (native/monitor.cc) applies in its own thread: a probe counts as missed only if no reply arrived before the next
// probe went out — per probe, never by wall-clock window, so a stalled process sends no probes and counts no misses —
// and a carrier change starts counting afresh. This TypeScript twin serves where the native monitor does not run (the
// daemon's portable loop, tests, the simulation); both report the same `probe-status` observations. Pure.

/** What changed for one target: its misses in a row, and whether it has answered since the carrier changed. */
export interface ProbeStatus { target: string; misses: number; confirmed: boolean; rttMs?: number }

interface TargetState { misses: number; confirmed: boolean; lastProbeAt?: number; lastReplyAt?: number }

export class ProbeCounter {
  private readonly targets = new Map<string, TargetState>();

  /** Probes of these targets from now on (state of targets that stay is kept). */
  setTargets(targets: readonly string[]): void {
    for (const t of [...this.targets.keys()]) if (!targets.includes(t)) this.targets.delete(t);
    for (const t of targets) if (!this.targets.has(t)) this.targets.set(t, { misses: 0, confirmed: false });
  }

  targetList(): string[] { return [...this.targets.keys()]; }

  /** The carrier verdict changed: counting starts afresh, nothing is confirmed. */
  reset(): void {
    for (const s of this.targets.values()) { s.misses = 0; s.confirmed = false; s.lastProbeAt = undefined; }
  }

  /** A probe round went out at `now`; returns the targets whose miss count grew. */
  sent(now: number): ProbeStatus[] {
    const out: ProbeStatus[] = [];
    for (const [target, s] of this.targets) {
      if (s.lastProbeAt !== undefined && (s.lastReplyAt === undefined || s.lastReplyAt < s.lastProbeAt)) {
        s.misses++;
        out.push({ target, misses: s.misses, confirmed: s.confirmed });
      }
      s.lastProbeAt = now;
    }
    return out;
  }

  /** `target` answered at `now`; returns its status when that ends misses or is its first answer since a reset. */
  replied(target: string, now: number): ProbeStatus | undefined {
    const s = this.targets.get(target);
    if (!s) return undefined;
    const news = s.misses > 0 || !s.confirmed;
    s.lastReplyAt = now;
    s.misses = 0;
    s.confirmed = true;
    if (!news) return undefined;
    return { target, misses: 0, confirmed: true, ...(s.lastProbeAt !== undefined ? { rttMs: Math.max(0, now - s.lastProbeAt) } : {}) };
  }
}
