// Pure health verdict for one public interface, from carrier samples and probe replies (no I/O, time passed in).
// Carrier is sampled directly (kernel carrier-down notifications were measured to arrive up to ~1 s late), and probes
// of the gateway catch silent failures where the link stays UP,LOWER_UP but traffic is dropped. Probes of LAN peers
// in the same rounds tell this port's failure from the gateway's: when the gateway stops answering but a peer still
// does, the port works ('gateway-unreachable': healthy) — during a gateway outage every server's gateway probes fail
// at once, and none of them must take that for its own failure.

export type HealthReason = 'ok' | 'unknown' | 'admin-down' | 'carrier-down' | 'arp-timeout' | 'missing' | 'gateway-unreachable';

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
  /** Probe targets' last status: gateways (one per family) and LAN peers; reset when the carrier changes. */
  private readonly targets = new Map<string, { gateway: boolean; misses: number; confirmed: boolean; replyAt?: number }>();
  /** The targets probed now (keepTargets); undefined until the first list: every status counts. */
  private probed: ReadonlySet<string> | undefined;
  private rttMs: number | undefined;
  private lastReplyAt: number | undefined;
  private everFailed = false;
  private verdict: { healthy: boolean; reason: HealthReason; since: number };

  constructor(private readonly s: HealthSettings, now: number) {
    this.verdict = { healthy: false, reason: 'unknown', since: now };
  }

  /** A fresh carrier reading: admin state and lower-layer (carrier) state. `present` false: no such link. */
  carrier(now: number, up: boolean, lowerUp: boolean, present = true): void {
    if (!present) { up = false; lowerUp = false; }
    const wasOk = this.up === true && this.lowerUp;
    const isOk = up && lowerUp;
    // A change restarts probing: misses counted before it say nothing about the link now (the monitor resets too).
    if (wasOk !== isOk || this.up === undefined) for (const t of this.targets.values()) { t.misses = 0; t.confirmed = false; }
    this.up = up;
    this.lowerUp = lowerUp;
    this.evaluate(now, present ? undefined : 'missing');
  }

  /**
   * A probe target's status (src/core/probes.ts rules, the same in the native monitor): `misses` probes in a row
   * unanswered; `confirmed`: it answered since the carrier changed. `gateway`: it is one of the LAN's gateways (else a
   * LAN peer, probed to tell this port's failure from the gateway's).
   */
  target(now: number, target: string, gateway: boolean, misses: number, confirmed: boolean, rttMs?: number): void {
    // A status of a target no longer probed (it was in flight when the list changed) is dropped: kept, it would never
    // be updated again, and a stale "peer answering" turned every later failure of this port into "the gateway is
    // unreachable" (found by the chaos run: a slow start, peers coming up one by one).
    if (this.probed && !this.probed.has(target)) return;
    this.targets.set(target, { gateway, misses, confirmed, ...(confirmed && misses === 0 ? { replyAt: now } : {}) });
    if (gateway && misses === 0 && confirmed) {
      this.lastReplyAt = now;
      if (rttMs !== undefined) this.rttMs = rttMs;
    }
    this.evaluate(now);
  }

  /** Targets no longer probed are forgotten. */
  keepTargets(targets: readonly string[]): void {
    this.probed = new Set(targets);
    for (const t of [...this.targets.keys()]) if (!targets.includes(t)) this.targets.delete(t);
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
    const all = [...this.targets.values()];
    const gateways = all.filter((t) => t.gateway);
    const answering = (t: { misses: number; confirmed: boolean }) => t.confirmed && t.misses < this.s.arpMisses;
    if (forced) { healthy = false; reason = forced; }
    else if (this.up === undefined) { healthy = false; reason = 'unknown'; }
    else if (!this.up) { healthy = false; reason = 'admin-down'; }
    else if (!this.lowerUp) { healthy = false; reason = 'carrier-down'; }
    else if (!this.s.arp) { healthy = true; reason = 'ok'; }
    else if (gateways.length > 0 && gateways.every((t) => t.misses >= this.s.arpMisses)) {
      // Every gateway is silent. A LAN peer answering in the same recent rounds proves this port: the gateway is
      // the problem. (Peers are probed in every round, so this costs no extra time.)
      const peersAnswer = all.some((t) => !t.gateway && answering(t));
      healthy = peersAnswer;
      reason = peersAnswer ? 'gateway-unreachable' : 'arp-timeout';
    }
    else if (gateways.some(answering)) { healthy = true; reason = 'ok'; }
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
