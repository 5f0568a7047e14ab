// This node's public side: its LANs, their interfaces and each interface's health verdict (from carrier reads
// and gateway probes, src/core/health.ts), with the events an operator sees when a verdict changes. Pure.
import { PublicHealth, type HealthView } from './health.js';
import { inPrefix } from './ip.js';
import type { Out } from './out.js';
import type { CoreConfig, CorePublic } from './types.js';

export class Lans {
  /** Public interfaces by LAN name, in configuration order. */
  readonly byLan = new Map<string, CorePublic[]>();
  private readonly health = new Map<string, PublicHealth>();
  /** The last verdict reported per interface (for iface-failed / iface-recovered). */
  private readonly reported = new Map<string, boolean>();
  /** Interfaces whose gateway is reported unreachable now (the port itself works). */
  private readonly gatewayDown = new Map<string, boolean>();
  /** mode l3 with the BGP check: whether BIRD has an Established session, per interface (absent: not yet known). */
  private readonly bgpUp = new Map<string, boolean>();
  /** Interfaces whose carrier read is failing now (one event per streak), with the error. */
  private readonly readErrors = new Map<string, string>();
  private now = 0;

  constructor(private readonly cfg: CoreConfig, private readonly out: Out) {
    for (const p of cfg.publics) {
      this.health.set(p.iface, new PublicHealth({ arp: p.arp, arpIntervalMs: p.arpIntervalMs, arpMisses: p.arpMisses, holdMs: cfg.takeover.failbackHoldMs }, 0));
      this.byLan.set(p.lan, [...(this.byLan.get(p.lan) ?? []), p]);
    }
  }

  setTime(now: number): void {
    this.now = now;
    for (const h of this.health.values()) h.tick(now);
  }

  /** A carrier reading; a failed read (`error`) leaves the verdict as it was and is reported once per streak. */
  carrier(iface: string, up: boolean, lowerUp: boolean, present: boolean, error?: string): void {
    const h = this.health.get(iface);
    if (!h) return;
    if (error !== undefined) {
      if (!this.readErrors.has(iface)) this.out.event('carrier-read-failed', { iface, error });
      this.readErrors.set(iface, error);
      return;
    }
    this.readErrors.delete(iface);
    h.carrier(this.now, up, lowerUp, present);
  }

  /** A probe target's status changed (src/core/probes.ts): a gateway's, or (any other target) a LAN peer's. */
  probeStatus(iface: string, target: string, misses: number, confirmed: boolean, rttMs?: number): void {
    const h = this.health.get(iface);
    const p = this.cfg.publics.find((q) => q.iface === iface);
    if (!h || !p) return;
    h.target(this.now, target, p.gateways.includes(target), misses, confirmed, rttMs);
  }

  /** BIRD's sessions of an L3 interface: Established or not (a change is an event). */
  bgp(iface: string, established: boolean, error?: string): void {
    const p = this.cfg.publics.find((q) => q.iface === iface);
    if (!p?.bgpCheck || this.bgpUp.get(iface) === established) return;
    const known = this.bgpUp.has(iface);
    this.bgpUp.set(iface, established);
    // The first reading reports only a missing session: an Established one at start is the normal case.
    if (known || !established) this.out.event(established ? 'bgp-up' : 'bgp-down', { iface, lan: p.lan, ...(error !== undefined ? { error } : {}) });
  }

  /** Can `iface` make a host route reach the fabric: no BGP check, or BIRD has an Established session for it. */
  announces(iface: string): boolean {
    const p = this.cfg.publics.find((q) => q.iface === iface);
    return !p?.bgpCheck || this.bgpUp.get(iface) === true;
  }

  /**
   * Can this node carry `lan` for a peer now (what heartbeats report): an interface there usable, and on an L3 fabric
   * one that also announces (its own traffic needs no BGP: the ToR's connected subnet carries it).
   */
  canCarry(lan: string): boolean {
    return (this.byLan.get(lan) ?? []).some((p) => this.usable(p.iface) && (p.mode !== 'l3' || this.announces(p.iface)));
  }

  /** The targets probed on `iface` now: the health forgets the others. */
  probing(iface: string, targets: readonly string[]): void {
    this.health.get(iface)?.keepTargets(targets);
  }

  /** Does this node reach the gateway of `lan` (through one of its usable interfaces)? */
  lanReachesGateway(lan: string): boolean {
    return (this.byLan.get(lan) ?? []).some((p) => this.usable(p.iface) && this.view(p.iface).reason === 'ok');
  }

  view(iface: string): HealthView {
    return this.health.get(iface)!.view(this.now);
  }

  usable(iface: string): boolean { return this.view(iface).usable; }

  /** Every interface has a verdict (no longer 'unknown'). */
  allKnown(): boolean {
    return this.cfg.publics.every((p) => this.view(p.iface).reason !== 'unknown');
  }

  /** The interface a helper answers on for `lan`: a usable one, else a healthy one, else the first. */
  helperIface(lan: string): string | undefined {
    const ifaces = this.byLan.get(lan);
    if (!ifaces) return undefined;
    return (ifaces.find((p) => this.usable(p.iface)) ?? ifaces.find((p) => this.view(p.iface).healthy) ?? ifaces[0])?.iface;
  }

  /** Is `lan` a routed fabric (mode l3: host routes announced by BIRD, no proxy entries, no gratuitous ARP)? */
  isL3(lan: string): boolean {
    return isL3Lan(this.cfg.publics, lan);
  }

  /**
   * May a peer ask us to answer for `address` on `lan`? Never for our own addresses or the gateway: an authenticated
   * but misconfigured (or compromised) peer must not hijack them. On an L2 LAN only addresses inside its prefixes. On
   * an L3 fabric the owner may be in any rack (ours too: the announced host route beats the ToR's connected subnet),
   * so any other address: what a server may announce is the ToR's import filter's to decide (docs/l3.md).
   */
  claimable(lan: string, address: string): boolean {
    const ifaces = this.byLan.get(lan) ?? [];
    const ip = address.split('/')[0]!;
    if (ifaces.some((p) => p.gateways.includes(ip) || p.addresses.some((a) => a.address === ip))) return false;
    return this.isL3(lan) || ifaces.some((p) => p.addresses.some((a) => inPrefix(ip, a)));
  }

  /**
   * Verdict changes since the last step, as events: iface-failed / iface-recovered for the port, and
   * gateway-unreachable / gateway-reachable while the port works but the gateway does not answer.
   */
  reportVerdicts(): void {
    for (const p of this.cfg.publics) {
      const v = this.view(p.iface);
      if (v.reason === 'unknown') continue;
      const gwDown = v.reason === 'gateway-unreachable';
      if (gwDown !== (this.gatewayDown.get(p.iface) ?? false)) {
        this.gatewayDown.set(p.iface, gwDown);
        this.out.event(gwDown ? 'gateway-unreachable' : 'gateway-reachable', { iface: p.iface, lan: p.lan, gateways: p.gateways });
      }
      const prev = this.reported.get(p.iface);
      if (prev === v.healthy) continue;
      this.reported.set(p.iface, v.healthy);
      if (prev !== undefined || !v.healthy) this.out.event(v.healthy ? 'iface-recovered' : 'iface-failed', { iface: p.iface, lan: p.lan, reason: v.reason });
    }
  }

  readError(iface: string): string | undefined {
    return this.readErrors.get(iface);
  }
}

/** Is `lan` a routed fabric (some public interface on it in mode l3)? The one rule, for Lans and the desired state. */
export const isL3Lan = (publics: readonly CorePublic[], lan: string): boolean => publics.some((p) => p.lan === lan && p.mode === 'l3');
