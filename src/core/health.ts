// Pure health verdict for one public interface, from carrier samples and ARP probe replies (no I/O, time passed in).
// Carrier is sampled directly (kernel carrier-down notifications were measured to arrive up to ~1 s late), and ARP
// probes to the gateway catch silent failures where the link stays UP,LOWER_UP but traffic is dropped.

export type HealthReason = 'ok' | 'unknown' | 'admin-down' | 'carrier-down' | 'arp-timeout' | 'missing';

export interface HealthSettings {
  arp: boolean;
  arpIntervalMs: number;
  arpMisses: number;
  /** A recovered interface is used again only after it stayed healthy this long (anti-flap hold-down). */
  holdMs: number;
}

export interface HealthView {
  healthy: boolean;
  /** healthy and, if it ever failed, healthy for at least holdMs: what placement decisions use. */
  usable: boolean;
  reason: HealthReason;
  since: number;
  lastReplyAt?: number;
  rttMs?: number;
}

export class PublicHealth {
  private up: boolean | undefined;
  private lowerUp = false;
  private carrierSince = 0;
  private lastReplyAt: number | undefined;
  private lastProbeAt: number | undefined;
  /** Probes in a row that got no reply before the next one was sent. Counted per probe, not per wall-clock
   * window: when the event loop stalls no probes go out, and a stall must not look like a dead link. */
  private missed = 0;
  private rttMs: number | undefined;
  private everFailed = false;
  private verdict: { healthy: boolean; reason: HealthReason; since: number };

  constructor(private readonly s: HealthSettings, now: number) {
    this.verdict = { healthy: false, reason: 'unknown', since: now };
  }

  /** A fresh carrier reading (RTM_GETLINK): admin state and lower-layer (carrier) state. `present` false: no such link. */
  carrier(now: number, up: boolean, lowerUp: boolean, present = true): void {
    if (!present) { up = false; lowerUp = false; }
    const wasOk = this.up === true && this.lowerUp;
    const isOk = up && lowerUp;
    if (wasOk !== isOk || this.up === undefined) {
      this.carrierSince = now;
      this.missed = 0;
    }
    this.up = up;
    this.lowerUp = lowerUp;
    this.evaluate(now, present ? undefined : 'missing');
  }

  probeSent(now: number): void {
    const prev = this.lastProbeAt;
    if (this.up && this.lowerUp && prev !== undefined && prev >= this.carrierSince && (this.lastReplyAt === undefined || this.lastReplyAt < prev)) {
      this.missed++;
    }
    this.lastProbeAt = now;
    this.evaluate(now);
  }

  reply(now: number): void {
    if (this.lastProbeAt !== undefined) this.rttMs = Math.max(0, now - this.lastProbeAt);
    this.lastReplyAt = now;
    this.missed = 0;
    this.evaluate(now);
  }

  tick(now: number): void {
    this.evaluate(now);
  }

  view(now: number): HealthView {
    const v = this.verdict;
    const usable = v.healthy && (!this.everFailed || now - v.since >= this.s.holdMs);
    return { healthy: v.healthy, usable, reason: v.reason, since: v.since, lastReplyAt: this.lastReplyAt, rttMs: this.rttMs };
  }

  /** When the interface becomes usable (for timers), or undefined if it is not on its way there. */
  usableAt(): number | undefined {
    if (!this.verdict.healthy) return undefined;
    return this.everFailed ? this.verdict.since + this.s.holdMs : this.verdict.since;
  }

  private evaluate(now: number, forced?: HealthReason): void {
    let healthy: boolean;
    let reason: HealthReason;
    const repliedSinceCarrier = this.lastReplyAt !== undefined && this.lastReplyAt >= this.carrierSince;
    if (forced) { healthy = false; reason = forced; }
    else if (this.up === undefined) { healthy = false; reason = 'unknown'; }
    else if (!this.up) { healthy = false; reason = 'admin-down'; }
    else if (!this.lowerUp) { healthy = false; reason = 'carrier-down'; }
    else if (!this.s.arp) { healthy = true; reason = 'ok'; }
    else if (this.missed >= this.s.arpMisses) { healthy = false; reason = 'arp-timeout'; }
    else if (repliedSinceCarrier) { healthy = true; reason = 'ok'; }
    else {
      // carrier just came (back) up and no reply yet: keep the previous verdict until a reply or enough misses.
      healthy = false;
      reason = this.verdict.healthy ? 'arp-timeout' : this.verdict.reason;
    }
    if (healthy !== this.verdict.healthy || reason !== this.verdict.reason) {
      if (!healthy && reason !== 'unknown') this.everFailed = true;
      const since = healthy === this.verdict.healthy ? this.verdict.since : now;
      this.verdict = { healthy, reason, since };
    }
  }
}
