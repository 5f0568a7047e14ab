// The owner side of a node: where each public interface's addresses live (placement), and, when every interface of
// a LAN failed, the claim on one helper peer — chosen deterministically, retransmitted until acknowledged, renewed
// by heartbeats, switched when the helper goes or refuses, released on failback once this node's own kernel holds
// its routes again and it has announced itself. Pure.
import type { Lans } from './lans.js';
import type { Claim } from './messages.js';
import type { KernelGate, NodeParts, Out } from './out.js';
import type { PeerTable, PeerView } from './peers.js';
import type { CoreConfig, CorePublic } from './types.js';

export type Placement =
  | { kind: 'own' }
  | { kind: 'local'; iface: string }
  | { kind: 'remote'; link: string; peer: string }
  | { kind: 'unserved' };

/** The owner's claim on one helper for one LAN. */
interface OwnerClaim {
  claim: Claim;
  link: string;
  peer: string;
  acked: boolean;
  since: number;
  lastSentAt: number;
  /** Failback under way: still listed in heartbeats until our kernel holds our own routes again, then released. */
  releasing: boolean;
}

interface PendingRelease { link: string; claimId: string; lastSentAt: number; giveUpAt: number }

/** How long a release is retransmitted without an ack (the helper's lease ends it anyway). */
const RELEASE_GIVE_UP_MS = 2000;

export class OwnerSide {
  private readonly placement = new Map<string, Placement>();
  private readonly claimsByLan = new Map<string, OwnerClaim>();
  private readonly releases: PendingRelease[] = [];
  /** Refusals by link + '/' + LAN, remembered for a heartbeat timeout so a refusing peer is not asked again at once. */
  private readonly refused = new Map<string, number>();
  private claimSeq = 0;

  private readonly cfg: CoreConfig;
  private readonly out: Out;
  private readonly gate: KernelGate;
  private readonly peers: PeerTable;
  private readonly lans: Lans;

  constructor(parts: NodeParts, private readonly idSeed: string) {
    ({ cfg: this.cfg, out: this.out, gate: this.gate, peers: this.peers, lans: this.lans } = parts);
    for (const p of this.cfg.publics) this.placement.set(p.iface, { kind: 'own' });
  }

  placementOf(iface: string): Placement { return this.placement.get(iface)!; }

  /** The claims to list in the heartbeat to the peer on `link` (renewing their leases). */
  claimsFor(link: string): Claim[] {
    return [...this.claimsByLan.values()].filter((oc) => oc.link === link).map((oc) => oc.claim);
  }

  onAck(link: string, claimId: string, ok: boolean, reason: string | undefined, now: number): void {
    for (const [lan, oc] of this.claimsByLan) {
      if (oc.claim.claimId !== claimId || oc.link !== link) continue;
      if (ok) {
        if (!oc.acked) this.out.event('takeover-acked', { lan, helper: oc.peer, link, claimId, ms: Math.round((now - oc.since) * 1000) / 1000 });
        oc.acked = true;
      } else {
        this.out.event('takeover-refused', { lan, helper: oc.peer, reason });
        this.claimsByLan.delete(lan);
        this.refused.set(`${link}/${lan}`, now);
      }
    }
  }

  onReleaseAck(link: string, claimId: string): void {
    const i = this.releases.findIndex((r) => r.claimId === claimId && r.link === link);
    if (i < 0) return;
    this.releases.splice(i, 1);
    this.out.event('release-acked', { link, claimId });
  }

  /** Decides where every LAN's addresses live now, and makes the transitions that follow. */
  place(now: number): void {
    for (const [lan, ifaces] of this.lans.byLan) this.placeLan(lan, ifaces, now);
  }

  /** Takeover requests until acknowledged; releases until acknowledged or given up. */
  retransmit(now: number): void {
    for (const [lan, oc] of this.claimsByLan) {
      if (oc.acked || oc.releasing) continue;
      if (now - oc.since > this.peers.heartbeat(oc.link).timeoutMs) {
        // No ack for a heartbeat timeout while the helper looks alive (one-way loss toward it, or its daemon hangs):
        // treat it as a refusal, so the next placement asks another helper.
        this.out.event('takeover-refused', { lan, helper: oc.peer, reason: 'no-ack' });
        this.dropClaim(lan);
        this.refused.set(`${oc.link}/${lan}`, now);
        continue;
      }
      if (now - oc.lastSentAt < this.peers.heartbeat(oc.link).intervalMs) continue;
      oc.lastSentAt = now;
      this.out.send(oc.link, { type: 'takeover', ...oc.claim });
    }
    for (let i = this.releases.length - 1; i >= 0; i--) {
      const r = this.releases[i]!;
      if (now >= r.giveUpAt) this.releases.splice(i, 1);
      else if (now - r.lastSentAt >= this.peers.heartbeat(r.link).intervalMs) {
        r.lastSentAt = now;
        this.out.send(r.link, { type: 'release', claimId: r.claimId });
      }
    }
  }

  /** Once ready: announce the addresses where they live (a restarted owner; a helper may have answered for them). */
  announceOwn(): void {
    for (const p of this.cfg.publics) {
      const pl = this.placement.get(p.iface)!;
      if (pl.kind === 'own' && this.lans.usable(p.iface)) this.announceWhenHeld(p, p.addresses.map((a) => a.address), (x) => x.kind === 'own', p.iface);
    }
  }

  /** Does this node announce `address` on `iface` now (its own, or a local backup there)? */
  announces(iface: string, address: string): boolean {
    return this.cfg.publics.some((p) => {
      if (!p.addresses.some((a) => a.address === address)) return false;
      const pl = this.placement.get(p.iface)!;
      return (pl.kind === 'own' && p.iface === iface) || (pl.kind === 'local' && pl.iface === iface);
    });
  }

  status(): Array<{ lan: string; helper: string; link: string; claimId: string; acked: boolean; since: number; addresses: string[] }> {
    return [...this.claimsByLan.entries()].map(([lan, oc]) => ({ lan, helper: oc.peer, link: oc.link, claimId: oc.claim.claimId, acked: oc.acked, since: oc.since, addresses: oc.claim.addresses }));
  }

  private placeLan(lan: string, ifaces: CorePublic[], now: number): void {
    const usable = ifaces.filter((p) => this.lans.usable(p.iface));
    if (usable.length > 0) {
      for (const p of ifaces) this.setPlacement(p, usable.includes(p) ? { kind: 'own' } : { kind: 'local', iface: usable[0]!.iface });
      this.releaseClaim(lan);
      return;
    }
    // Every interface of this LAN failed: a helper must carry the LAN's addresses.
    const current = this.claimsByLan.get(lan);
    const candidates = this.peers.candidates(lan, (link) => { const r = this.refused.get(`${link}/${lan}`); return r !== undefined && now - r <= this.cfg.heartbeat.timeoutMs; });
    let chosen: PeerView | undefined;
    if (current && candidates.some((c) => c.cfg.name === current.link)) chosen = this.peers.get(current.link);
    else if (candidates.length > 0) chosen = candidates[0];
    else if (current && this.peers.get(current.link)!.carrierUp) {
      // The helper went silent (its daemon may be restarting) and nobody else can help: its kernel still forwards
      // for us, so keep using it rather than drop everything.
      chosen = this.peers.get(current.link);
    }
    if (!chosen) {
      this.dropClaim(lan);
      for (const p of ifaces) this.setPlacement(p, { kind: 'unserved' });
      return;
    }
    if (current && current.link === chosen.cfg.name) {
      current.releasing = false; // a failback cut short: the helper still holds it
    } else {
      if (current) {
        this.out.event('helper-switch', { lan, from: current.peer, to: chosen.cfg.peer });
        this.dropClaim(lan);
      }
      this.request(lan, ifaces, chosen, now);
    }
    for (const p of ifaces) this.setPlacement(p, { kind: 'remote', link: chosen.cfg.name, peer: chosen.cfg.peer });
  }

  private request(lan: string, ifaces: CorePublic[], link: PeerView, now: number): void {
    const claim: Claim = {
      claimId: `${this.cfg.node}-${this.idSeed}-${++this.claimSeq}`,
      lan,
      addresses: ifaces.flatMap((p) => p.addresses.map((a) => a.address)),
      ownerLinkAddress: link.cfg.localAddress,
      leaseMs: this.cfg.takeover.leaseMs,
    };
    this.claimsByLan.set(lan, { claim, link: link.cfg.name, peer: link.cfg.peer, acked: false, since: now, lastSentAt: now, releasing: false });
    this.out.send(link.cfg.name, { type: 'takeover', ...claim });
    this.out.event('takeover-requested', { lan, helper: link.cfg.peer, link: link.cfg.name, claimId: claim.claimId, addresses: claim.addresses });
  }

  /** Failback: the claim stays listed (its lease renewed) until our kernel holds our own routes, then it is released. */
  private releaseClaim(lan: string): void {
    const oc = this.claimsByLan.get(lan);
    if (!oc || oc.releasing) return;
    oc.releasing = true;
    this.gate.after((ok) => {
      if (!ok) return true; // wait for a reconcile that succeeds
      if (this.claimsByLan.get(lan) === oc && oc.releasing) this.dropClaim(lan);
      return false;
    });
  }

  /** Stops claiming at once and tells the helper (retransmitted until acknowledged). */
  private dropClaim(lan: string): void {
    const oc = this.claimsByLan.get(lan);
    if (!oc) return;
    this.claimsByLan.delete(lan);
    this.releases.push({ link: oc.link, claimId: oc.claim.claimId, lastSentAt: this.out.now, giveUpAt: this.out.now + RELEASE_GIVE_UP_MS });
    this.out.send(oc.link, { type: 'release', claimId: oc.claim.claimId });
  }

  private setPlacement(p: CorePublic, next: Placement): void {
    const prev = this.placement.get(p.iface)!;
    if (samePlacement(prev, next)) return;
    this.placement.set(p.iface, next);
    const addresses = p.addresses.map((a) => a.address);
    // Traffic moves away from the interface: once the routes moved, nothing new is queued there; drop what is.
    if (prev.kind === 'own') this.gate.after((ok) => { if (ok) this.out.flushNeighbors(p.iface); return !ok; });
    switch (next.kind) {
      case 'own':
        this.out.event('failback', { iface: p.iface, lan: p.lan, from: prev.kind });
        this.announceWhenHeld(p, addresses, (pl) => pl.kind === 'own', p.iface);
        break;
      case 'local':
        this.out.event('local-backup', { iface: p.iface, lan: p.lan, to: next.iface });
        this.announceWhenHeld(p, addresses, (pl) => pl.kind === 'local' && pl.iface === next.iface, next.iface);
        break;
      case 'remote':
        break; // the helper announces
      case 'unserved':
        this.out.event('unserved', { iface: p.iface, lan: p.lan });
        break;
    }
  }

  /** Gratuitous ARP once the kernel holds the addresses where they now live, if they still live there. */
  private announceWhenHeld(p: CorePublic, addresses: string[], still: (pl: Placement) => boolean, iface: string): void {
    this.gate.after((ok) => {
      if (!ok) return true;
      if (still(this.placement.get(p.iface)!)) this.out.announce(iface, addresses);
      return false;
    });
  }
}

function samePlacement(a: Placement, b: Placement): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'local' && b.kind === 'local') return a.iface === b.iface;
  if (a.kind === 'remote' && b.kind === 'remote') return a.link === b.link;
  return true;
}
