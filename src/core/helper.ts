// The helper side of a node: the claims it holds for peers (owners whose public ports failed), each a lease the
// owner renews with its heartbeats; adoption of a previous run's kernel state after a restart; the linger of a
// released claim's route. A claim is acknowledged only once the kernel holds its route and proxy entry; a failed
// reconcile turns it into a refusal the owner acts on (docs/CONTRACTS.md, effect order). Pure.
import { L3_LINGER_METRIC } from './desired.js';
import { hostPrefixLen, ipFamily } from './ip.js';
import type { Lans } from './lans.js';
import type { Claim } from './messages.js';
import type { KernelGate, NodeParts, Out } from './out.js';
import type { PeerTable, PeerView } from './peers.js';
import type { CoreConfig, CoreEventType } from './types.js';
import type { KernelLeftovers, RouteSpec } from './kernel-types.js';

/** A claim this node holds for a peer. */
export interface HelperClaim {
  owner: string;
  lan: string;
  claimId: string;
  addresses: string[];
  ownerLinkAddress: string;
  link: string;
  leaseMs: number;
  expiresAt: number;
  since: number;
  /** The kernel held the claim's route and proxy entry (the owner has been or can be acknowledged). */
  confirmed: boolean;
  /** The interface the claim was last announced on (it moves when that port fails and another on the LAN works). */
  iface?: string;
  /** Another host announced one of the claim's addresses since (the owner or a new helper answers now). */
  announcedElsewhere?: boolean;
  /** After release: only the route stays until lingerUntil, for packets still in flight to us. */
  lingerUntil?: number;
}

/** Why a helper refuses a claim: sent in the takeover-ack, and in help-refused events. */
export const REFUSE_REASONS = ['not-helper', 'stopping', 'unknown-lan', 'lan-unhealthy', 'bad-addresses', 'peer-address', 'bad-next-hop', 'kernel-failed', 'bgp-down'] as const;
/**
 * Why a helper refuses a claim: sent in the takeover-ack, and in help-refused events and metrics. 'bad-addresses': not
 * a host address inside the LAN, or ours, or the gateway's; 'peer-address': an address another live peer reports as
 * its own; 'bad-next-hop': the claim's next hop is not the address of the link's peer; 'bgp-down': an L3 fabric and
 * BIRD has no Established session to announce the host route.
 */
export type RefuseReason = (typeof REFUSE_REASONS)[number];

/** How a claim ends: the event named for it. */
type EndReason = Extract<CoreEventType, 'help-release' | 'help-superseded' | 'lease-expired' | 'help-link-down' | 'help-refused'>;

export class HelperSide {
  /** Claims held, by owner + '/' + LAN. */
  private readonly helping = new Map<string, HelperClaim>();
  private stopping = false;

  private readonly cfg: CoreConfig;
  private readonly out: Out;
  private readonly gate: KernelGate;
  private readonly peers: PeerTable;
  private readonly lans: Lans;

  constructor(parts: NodeParts) {
    ({ cfg: this.cfg, out: this.out, gate: this.gate, peers: this.peers, lans: this.lans } = parts);
  }

  claims(): HelperClaim[] { return [...this.helping.values()]; }

  /** Owners this node helps now (not lingering): listed in its heartbeats. */
  owners(): string[] {
    return [...new Set(this.claims().filter((h) => h.lingerUntil === undefined).map((h) => h.owner))];
  }

  /**
   * A restarted helper finds its proxy entries and routes in the kernel: it keeps them as claims of the peer the
   * route points to, until that owner renews them or the lease runs out.
   */
  adopt(leftovers: Pick<KernelLeftovers, 'routes' | 'proxies'>, now: number): void {
    const found: Array<{ address: string; route: RouteSpec | undefined; lan: string | undefined }> = leftovers.proxies.map((px) => ({
      address: px.address,
      route: leftovers.routes.find((r) => r.dst === px.address && r.dstLen === hostPrefixLen(px.family)),
      lan: this.cfg.publics.find((p) => p.iface === px.ifname)?.lan,
    }));
    // L3 fabric: no proxy entries; a host route over a private link to an address we may claim there is the claim
    // (BIRD still announces it: dropping it would send the owner's traffic back to its dead rack). Not a lingering
    // one (metric L3_LINGER_METRIC): that claim had ended.
    const l3 = this.cfg.publics.find((p) => p.mode === 'l3')?.lan;
    if (l3 !== undefined) {
      for (const r of leftovers.routes) {
        if (r.dstLen === hostPrefixLen(r.family) && r.type !== 'local' && (r.table ?? 254) === 254 && r.metric !== L3_LINGER_METRIC && this.lans.claimable(l3, r.dst)) found.push({ address: r.dst, route: r, lan: l3 });
      }
    }
    for (const { address, route, lan } of found) {
      const link = route && this.peers.all().find((l) => l.cfg.iface === route.ifname);
      if (!route || !link || !lan) continue;
      const key = `${link.cfg.peer}/${lan}`;
      const c = this.helping.get(key);
      if (c) c.addresses.push(address);
      else this.helping.set(key, { owner: link.cfg.peer, lan, claimId: 'adopted', addresses: [address], ownerLinkAddress: link.cfg.peerAddress, link: link.cfg.name, leaseMs: this.cfg.takeover.leaseMs, expiresAt: now + this.cfg.takeover.leaseMs, since: now, confirmed: true });
    }
  }

  /** A takeover request: accept (the ack follows once the kernel holds it) or refuse at once. */
  onTakeover(link: PeerView, c: Claim, now: number): void {
    this.accept(link, c, true, now);
  }

  /**
   * An owner's heartbeat lists everything it still claims from us: renew those leases, take up claims we do not
   * hold (a lost request, or our restart), and release what it no longer lists (also covers a lost release).
   * A peer still starting (`ready` false) lists nothing yet: that is not a release.
   */
  onHeartbeat(link: PeerView, claims: Claim[], peerReady: boolean, selfReady: boolean, now: number): void {
    const owner = link.cfg.peer;
    if (!peerReady || !selfReady) { this.extendAdopted(owner, now); return; }
    for (const c of claims) {
      const hc = this.helping.get(`${owner}/${c.lan}`);
      if (hc && hc.claimId === c.claimId) {
        // A claim we ended (released, superseded) is never taken up again: a heartbeat sent before the owner's
        // release or announcement may still list it. An owner that wants us again makes a new claim.
        if (hc.lingerUntil === undefined) hc.expiresAt = now + Math.min(c.leaseMs, this.cfg.takeover.leaseMs);
      } else this.accept(link, c, false, now);
    }
    for (const [key, hc] of this.helping) {
      // Only the heartbeat on the claim's own link speaks for it: the owner lists claims per link.
      if (hc.owner === owner && hc.link === link.cfg.name && hc.lingerUntil === undefined && !claims.some((c) => c.lan === hc.lan)) this.end(key, hc, 'help-release', now);
    }
  }

  onRelease(linkName: string, from: string, claimId: string, now: number): void {
    for (const [key, hc] of this.helping) {
      if (hc.claimId === claimId && hc.owner === from) this.end(key, hc, 'help-release', now);
    }
    this.out.send(linkName, { type: 'release-ack', claimId });
  }

  /**
   * Another host announced an address we answer for on `lan`: the owner moved to another helper (our release may be
   * lost on a silent link) or came back itself. Two servers must not answer for one address: let go at once.
   */
  onAnnouncement(lan: string, address: string, now: number): void {
    for (const [key, hc] of this.helping) {
      if (hc.lan !== lan || !hc.addresses.includes(address)) continue;
      hc.announcedElsewhere = true;
      // From an owner we still hear, this is its failback (its release follows); else it moved on without us.
      this.end(key, hc, this.peers.get(hc.link)?.alive ? 'help-release' : 'help-superseded', now);
    }
  }

  /**
   * Stopping: give every claim back (a refusal the owner acts on by asking another helper) and accept none; the
   * daemon waits for `handedOver()` before it removes the kernel state, so the owner's traffic moves first.
   */
  withdraw(): void {
    this.stopping = true;
    for (const hc of this.helping.values()) {
      if (hc.lingerUntil === undefined) this.out.send(hc.link, { type: 'takeover-ack', claimId: hc.claimId, ok: false, reason: 'stopping' });
    }
  }

  /** Every claim ended and someone else announced its addresses (or none was held). */
  handedOver(): boolean {
    // On an L3 fabric nobody announces on our link: the owner's new helper (or the owner) is reached by its own route.
    return this.claims().every((h) => h.lingerUntil !== undefined && (h.announcedElsewhere === true || this.lans.isL3(h.lan)));
  }

  /** This process stalled for `ms`: leases and lingers are judged as if time had stopped meanwhile. */
  shift(ms: number): void {
    for (const hc of this.helping.values()) {
      hc.expiresAt += ms;
      if (hc.lingerUntil !== undefined) hc.lingerUntil += ms;
    }
  }

  /** Does this node answer for `address` on `iface` now (a held claim announced there)? Repeats of announcements ask. */
  answers(iface: string, address: string): boolean {
    return this.claims().some((h) => h.lingerUntil === undefined && h.iface === iface && h.addresses.includes(address));
  }

  /**
   * Leases, lingering routes, claims whose private link lost carrier (it could not forward anyway), and claims of an
   * owner we no longer hear while another peer reports helping it (the owner moved on; its release did not reach us).
   */
  evaluate(now: number): void {
    for (const [key, hc] of this.helping) {
      if (hc.lingerUntil !== undefined) {
        if (now >= hc.lingerUntil) {
          this.helping.delete(key);
          this.out.event('help-route-removed', { owner: hc.owner, lan: hc.lan });
        }
        continue;
      }
      const link = this.peers.get(hc.link);
      // Our port on the LAN failed and another works: the proxy entry moves there; announce it there.
      const iface = this.lans.helperIface(hc.lan);
      if (hc.confirmed && hc.iface !== undefined && iface !== hc.iface) {
        hc.iface = iface;
        this.gate.after((ok) => {
          if (!ok) return true;
          if (iface && hc.lingerUntil === undefined && this.helping.get(key) === hc && hc.iface === iface && !this.lans.isL3(hc.lan)) this.out.announce(iface, hc.addresses);
          return false;
        });
      }
      if (link?.carrierUp === false) this.end(key, hc, 'help-link-down', now);
      else if (now >= hc.expiresAt) this.end(key, hc, 'lease-expired', now);
      else if (link?.alive === false && this.peers.someoneElseHelps(hc.owner, this.cfg.node)) this.end(key, hc, 'help-superseded', now);
    }
  }

  status(now: number): Array<{ owner: string; lan: string; link: string; claimId: string; addresses: string[]; since: number; expiresInMs: number; lingering: boolean }> {
    return this.claims().map((h) => ({ owner: h.owner, lan: h.lan, link: h.link, claimId: h.claimId, addresses: h.addresses, since: h.since, expiresInMs: h.expiresAt - now, lingering: h.lingerUntil !== undefined }));
  }

  /**
   * Every claim is checked: an authenticated peer (misconfigured, or holding a stolen key) must not make us answer for
   * anyone else's address, or send the traffic anywhere but to itself over the link it asked on.
   */
  private refusal(link: PeerView, c: Claim): RefuseReason | undefined {
    const ifaces = this.lans.byLan.get(c.lan);
    if (!this.cfg.takeover.canHelp) return 'not-helper';
    if (this.stopping) return 'stopping';
    if (!ifaces) return 'unknown-lan';
    if (!ifaces.some((p) => this.lans.view(p.iface).healthy)) return 'lan-unhealthy';
    if (!ifaces.some((p) => this.lans.view(p.iface).healthy && (p.mode !== 'l3' || this.lans.announces(p.iface)))) return 'bgp-down';
    if (!c.addresses.every((a) => !a.includes('/') && this.lans.claimable(c.lan, a))) return 'bad-addresses';
    if (c.addresses.some((a) => this.peers.ownerOf(c.lan, a, link.cfg.peer) !== undefined)) return 'peer-address';
    if (c.ownerLinkAddress !== link.cfg.peerAddress) return 'bad-next-hop';
    // An IPv6 address over an Ethernet link needs the owner's IPv6 next hop there (its link-local, from its heartbeats).
    if (link.cfg.kind === 'ethernet' && link.link6 === undefined && c.addresses.some((a) => ipFamily(a) === 6)) return 'bad-next-hop';
    return undefined;
  }

  private accept(link: PeerView, c: Claim, reply: boolean, now: number): void {
    const owner = link.cfg.peer;
    const key = `${owner}/${c.lan}`;
    const existing = this.helping.get(key);
    const refuse = this.refusal(link, c);
    if (refuse) {
      if (existing && existing.claimId === c.claimId) this.end(key, existing, 'help-refused', now, refuse);
      else this.out.event('help-refused', { owner, lan: c.lan, reason: refuse });
      if (reply) this.out.send(link.cfg.name, { type: 'takeover-ack', claimId: c.claimId, ok: false, reason: refuse });
      return;
    }
    // The lease is the owner's, capped by ours: a peer cannot make us answer for it longer than we would for anyone.
    const leaseMs = Math.min(c.leaseMs, this.cfg.takeover.leaseMs);
    if (existing && existing.claimId === c.claimId) {
      if (existing.lingerUntil !== undefined) return; // ended: never taken up again (see onHeartbeat)
      // A retransmitted request: our ack was lost, or the kernel has not confirmed yet (then the ack is on its way).
      existing.expiresAt = now + leaseMs;
      if (reply && existing.confirmed) this.out.send(link.cfg.name, { type: 'takeover-ack', claimId: c.claimId, ok: true });
      return;
    }
    const renewedAdopted = existing?.claimId === 'adopted';
    this.helping.set(key, {
      owner, lan: c.lan, claimId: c.claimId, addresses: [...c.addresses], ownerLinkAddress: link.cfg.peerAddress, link: link.cfg.name,
      leaseMs, expiresAt: now + leaseMs, since: renewedAdopted ? existing!.since : now, confirmed: false,
    });
    this.out.event(renewedAdopted ? 'help-renewed-adopted' : 'help-start', { owner, lan: c.lan, claimId: c.claimId, addresses: c.addresses, link: link.cfg.name });
    // Effect order: acknowledge and announce only once the kernel holds the route and the proxy entry.
    this.gate.after((ok, error) => {
      const hc = this.helping.get(key);
      if (!hc || hc.claimId !== c.claimId || hc.lingerUntil !== undefined) return false; // ended meanwhile
      if (!ok) {
        this.end(key, hc, 'help-refused', this.out.now, 'kernel-failed', error);
        this.out.send(link.cfg.name, { type: 'takeover-ack', claimId: c.claimId, ok: false, reason: 'kernel-failed' });
        return false;
      }
      hc.confirmed = true;
      if (reply) this.out.send(link.cfg.name, { type: 'takeover-ack', claimId: c.claimId, ok: true });
      hc.iface = this.lans.helperIface(c.lan);
      // L3: the host route is the announcement (BIRD learns it from the kernel); nothing is sent on the link.
      if (hc.iface && !this.lans.isL3(c.lan)) this.out.announce(hc.iface, hc.addresses);
      return false;
    });
  }

  private extendAdopted(owner: string, now: number): void {
    for (const hc of this.helping.values()) {
      if (hc.owner === owner && hc.lingerUntil === undefined) hc.expiresAt = Math.max(hc.expiresAt, now + hc.leaseMs);
    }
  }

  /**
   * Ends a claim, once: a release by its owner, or another helper taking over, keeps the route for the linger time
   * (packets still on their way to us reach the owner) and drops the proxy entry at once; every other end removes both.
   */
  private end(key: string, hc: HelperClaim, why: EndReason, now: number, reason?: RefuseReason, error?: string): void {
    if (hc.lingerUntil !== undefined) return;
    this.out.event(why, { owner: hc.owner, lan: hc.lan, claimId: hc.claimId, addresses: hc.addresses, ...(reason ? { reason } : {}), ...(error ? { error } : {}) });
    if ((why === 'help-release' || why === 'help-superseded') && this.cfg.takeover.releaseLingerMs > 0) hc.lingerUntil = now + this.cfg.takeover.releaseLingerMs;
    else this.helping.delete(key);
  }
}
