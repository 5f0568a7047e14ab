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
  private carrierSince = 0;
  private lastReplyAt: number | undefined;
  private lastProbeAt: number | undefined;
  /** Probes in a row that got no reply before the next one was sent. Counted per probe, not per wall-clock
   * window: when the event loop stalls no probes go out, and a stall must not look like a dead link. */
  private missed = 0;
  private rttMs: number | undefined;
  /** Send times of the last `arpMisses` probe rounds (a peer reply after the oldest proves the port now). */
  private readonly recentRounds: number[] = [];
  private lastPeerReplyAt: number | undefined;
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
    this.recentRounds.push(now);
    if (this.recentRounds.length > this.s.arpMisses) this.recentRounds.shift();
    this.lastProbeAt = now;
    this.evaluate(now);
  }

  /** The gateway answered a probe. */
  reply(now: number): void {
    if (this.lastProbeAt !== undefined) this.rttMs = Math.max(0, now - this.lastProbeAt);
    this.lastReplyAt = now;
    this.missed = 0;
    this.evaluate(now);
  }

  /** A LAN peer answered a probe: this port sends and receives. */
  peerReply(now: number): void {
    this.lastPeerReplyAt = now;
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
    else if (this.missed >= this.s.arpMisses) {
      // The gateway is silent. A peer answering one of the same recent rounds proves this port: the gateway is the
      // problem. (Peers are probed in every round, so this costs no extra time.)
      const peersAnswer = this.lastPeerReplyAt !== undefined && this.recentRounds.length > 0 && this.lastPeerReplyAt >= this.recentRounds[0]!;
      healthy = peersAnswer;
      reason = peersAnswer ? 'gateway-unreachable' : 'arp-timeout';
    }
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
