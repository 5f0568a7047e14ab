// The failover state machine of one hanet node: pure (no I/O, no clock), observations in, effects out as data.
// One node is at once an owner (of its service addresses) and a possible helper (for its peers' addresses).
//
// Owner side, per LAN: each public interface's addresses are placed on the interface itself while it is usable,
// else on another usable interface of the same LAN ("local backup"), else they are claimed by a helper peer
// ("remote takeover"), else nothing can carry them ("unserved"). The owner decides: it picks the helper
// (deterministic: cheapest private link, then peer name), and its claim is a lease the helper drops on its own
// when the owner stops renewing it. Helper side: a claim accepted becomes a /32 route to the owner over the
// private link plus a proxy-ARP entry on the helper's public port, announced by gratuitous ARP.
import { PublicHealth, type HealthView } from './health.js';
import { halves, inPrefix, networkOf } from './ip.js';
import type { AddrSpec, DesiredKernelState, ProxySpec, RouteSpec, SysctlSpec } from './kernel-types.js';
import type { Claim, CoreConfig, CoreEffect, CoreEvent, CoreEventType, CorePrivate, CorePublic, PeerMessage } from './types.js';

interface LinkView {
  cfg: CorePrivate;
  lastHbAt: number | undefined;
  carrierUp: boolean;
  peerLans: Record<string, { healthy: boolean }>;
  peerCanHelp: boolean;
  alive: boolean;
  lastHbSentAt: number;
}

/** The owner's claim on one helper for one LAN. */
interface OwnerClaim {
  claim: Claim;
  link: string;
  peer: string;
  acked: boolean;
  since: number;
  lastSentAt: number;
}

interface PendingRelease {
  link: string;
  claimId: string;
  lastSentAt: number;
  giveUpAt: number;
}

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
  /** After release: only the route stays until lingerUntil, for packets still in flight to us. */
  lingerUntil?: number;
}

export type Placement =
  | { kind: 'own' }
  | { kind: 'local'; iface: string }
  | { kind: 'remote'; link: string; peer: string }
  | { kind: 'unserved' };

export interface NodeStatus {
  node: string;
  ready: boolean;
  publics: Array<{ iface: string; lan: string; addresses: string[]; health: HealthView; placement: Placement }>;
  links: Array<{ name: string; kind: string; peer: string; alive: boolean; carrierUp: boolean; lastHeartbeatAgoMs: number | null; peerLans: Record<string, { healthy: boolean }> }>;
  claims: Array<{ lan: string; helper: string; link: string; claimId: string; acked: boolean; since: number; addresses: string[] }>;
  helping: Array<{ owner: string; lan: string; link: string; claimId: string; addresses: string[]; since: number; expiresInMs: number; lingering: boolean }>;
}

const RELEASE_GIVE_UP_MS = 2000;

export class HanetNode {
  private readonly health = new Map<string, PublicHealth>();
  private readonly links = new Map<string, LinkView>();
  private readonly lans = new Map<string, CorePublic[]>();
  private readonly placement = new Map<string, Placement>();
  private readonly ownerClaims = new Map<string, OwnerClaim>(); // by lan
  private readonly releases: PendingRelease[] = [];
  private readonly helping = new Map<string, HelperClaim>(); // by owner + '/' + lan
  private readonly healthy = new Map<string, boolean>();
  private ready = false;
  private startedAt = 0;
  private lastDesired = '';
  private claimSeq = 0;
  private effects: CoreEffect[] = [];
  private now = 0;

  constructor(private readonly cfg: CoreConfig, private readonly idSeed = Math.random().toString(36).slice(2, 8)) {
    for (const p of cfg.publics) {
      this.health.set(p.iface, new PublicHealth({ arp: p.arp, arpIntervalMs: p.arpIntervalMs, arpMisses: p.arpMisses, holdMs: cfg.takeover.failbackHoldMs }, 0));
      const l = this.lans.get(p.lan) ?? [];
      l.push(p);
      this.lans.set(p.lan, l);
      this.placement.set(p.iface, { kind: 'own' });
    }
    for (const l of cfg.privates) {
      this.links.set(l.name, { cfg: l, lastHbAt: undefined, carrierUp: true, peerLans: {}, peerCanHelp: false, alive: false, lastHbSentAt: -Infinity });
    }
  }

  /** Feeds one observation; returns the effects to carry out, in order. */
  handle(ev: CoreEvent): CoreEffect[] {
    this.effects = [];
    this.now = ev.at;
    switch (ev.type) {
      case 'start': this.onStart(ev); break;
      case 'carrier': this.health.get(ev.iface)?.carrier(ev.at, ev.up, ev.lowerUp, ev.present ?? true); break;
      case 'probe-sent': this.health.get(ev.iface)?.probeSent(ev.at); break;
      case 'probe-reply': this.health.get(ev.iface)?.reply(ev.at); break;
      case 'link-carrier': { const l = this.links.get(ev.link); if (l) l.carrierUp = ev.up; break; }
      case 'message': this.onMessage(ev.link, ev.from, ev.msg); break;
      case 'tick': break;
    }
    this.evaluate();
    return this.effects;
  }

  // ---------------------------------------------------------------- observations

  private onStart(ev: Extract<CoreEvent, { type: 'start' }>): void {
    this.startedAt = ev.at;
    // A helper restarted during a takeover finds its proxy entries and routes in the kernel: it keeps them as
    // claims of the peer the route points to, until that owner renews them or the lease runs out.
    for (const px of ev.leftovers?.proxies ?? []) {
      const route = ev.leftovers?.routes.find((r) => r.dst === px.address && r.dstLen === 32 && r.via);
      const link = route && [...this.links.values()].find((l) => l.cfg.peerAddress === route.via);
      const lan = this.cfg.publics.find((p) => p.iface === px.ifname)?.lan;
      if (!route || !link || !lan) continue;
      const key = `${link.cfg.peer}/${lan}`;
      const c = this.helping.get(key);
      if (c) c.addresses.push(px.address);
      else this.helping.set(key, { owner: link.cfg.peer, lan, claimId: 'adopted', addresses: [px.address], ownerLinkAddress: route.via!, link: link.cfg.name, leaseMs: this.cfg.takeover.leaseMs, expiresAt: ev.at + this.cfg.takeover.leaseMs, since: ev.at });
    }
  }

  private onMessage(linkName: string, from: string, msg: PeerMessage): void {
    const link = this.links.get(linkName);
    if (!link || link.cfg.peer !== from) {
      this.emitEvent('message-ignored', { link: linkName, from, why: 'unknown-link-or-peer', msgType: msg.type });
      return;
    }
    switch (msg.type) {
      case 'heartbeat': {
        link.lastHbAt = this.now;
        link.peerLans = msg.lans;
        link.peerCanHelp = msg.canHelp;
        // A peer that is still starting lists no claims yet: that is not a release (owner restart during a takeover).
        if (msg.ready !== false) this.renewFromHeartbeat(link, msg.claims);
        else this.extendAdopted(link.cfg.peer);
        break;
      }
      case 'takeover': if (this.ready) this.acceptClaim(link, msg, true); break; // the owner retransmits until we are ready
      case 'takeover-ack': {
        for (const [lan, oc] of this.ownerClaims) {
          if (oc.claim.claimId !== msg.claimId || oc.link !== linkName) continue;
          if (msg.ok) {
            if (!oc.acked) this.emitEvent('takeover-acked', { lan, helper: oc.peer, link: oc.link, claimId: oc.claim.claimId, ms: Math.round((this.now - oc.since) * 1000) / 1000 });
            oc.acked = true;
          } else {
            this.emitEvent('takeover-refused', { lan, helper: oc.peer, reason: msg.reason });
            this.ownerClaims.delete(lan);
            this.refused.set(`${oc.link}/${lan}`, this.now);
          }
        }
        break;
      }
      case 'release': {
        for (const [key, hc] of this.helping) {
          if (hc.claimId === msg.claimId && hc.owner === from) this.releaseHelp(key, hc, 'help-release');
        }
        this.send(linkName, { type: 'release-ack', claimId: msg.claimId });
        break;
      }
      case 'release-ack': {
        const i = this.releases.findIndex((r) => r.claimId === msg.claimId && r.link === linkName);
        if (i >= 0) {
          this.releases.splice(i, 1);
          this.emitEvent('release-acked', { link: linkName, claimId: msg.claimId });
        }
        break;
      }
    }
  }

  /** A link's heartbeat settings: its own (slow serial lines) or the global ones. */
  private hb(l: LinkView): { intervalMs: number; timeoutMs: number } { return l.cfg.heartbeat ?? this.cfg.heartbeat; }
  private hbOf(link: string): { intervalMs: number; timeoutMs: number } { const l = this.links.get(link); return l ? this.hb(l) : this.cfg.heartbeat; }

  /** Refusals are remembered briefly so a refusing peer is not asked again at once. */
  private readonly refused = new Map<string, number>();

  private extendAdopted(owner: string): void {
    for (const hc of this.helping.values()) {
      if (hc.owner === owner && hc.lingerUntil === undefined) hc.expiresAt = Math.max(hc.expiresAt, this.now + hc.leaseMs);
    }
  }

  private renewFromHeartbeat(link: LinkView, claims: Claim[]): void {
    const owner = link.cfg.peer;
    if (!this.ready) { this.extendAdopted(owner); return; }
    for (const c of claims) {
      const hc = this.helping.get(`${owner}/${c.lan}`);
      if (hc && hc.claimId === c.claimId && hc.lingerUntil === undefined) hc.expiresAt = this.now + c.leaseMs;
      else this.acceptClaim(link, c, false);
    }
    // The owner's heartbeat lists everything it still claims from us: a claim it no longer lists is released
    // (this also covers a lost release message).
    for (const [key, hc] of this.helping) {
      if (hc.owner !== owner || hc.lingerUntil !== undefined) continue;
      if (!claims.some((c) => c.lan === hc.lan)) this.releaseHelp(key, hc, 'help-release');
    }
  }

  private acceptClaim(link: LinkView, c: Claim, reply: boolean): void {
    const owner = link.cfg.peer;
    const key = `${owner}/${c.lan}`;
    const existing = this.helping.get(key);
    const lanIfaces = this.lans.get(c.lan);
    let refuse: string | undefined;
    if (!this.cfg.takeover.canHelp) refuse = 'not-helper';
    else if (!lanIfaces) refuse = 'unknown-lan';
    else if (!lanIfaces.some((p) => this.view(p.iface).healthy)) refuse = 'lan-unhealthy';
    else if (!c.addresses.every((a) => claimable(a, lanIfaces))) refuse = 'bad-addresses';
    if (refuse) {
      if (existing && existing.claimId === c.claimId) this.releaseHelp(key, existing, 'help-release');
      this.emitEvent('help-refused', { owner, lan: c.lan, reason: refuse });
      if (reply) this.send(link.cfg.name, { type: 'takeover-ack', claimId: c.claimId, ok: false, reason: refuse });
      return;
    }
    const same = existing && existing.claimId === c.claimId && existing.lingerUntil === undefined;
    const renewedAdopted = existing?.claimId === 'adopted';
    this.helping.set(key, {
      owner, lan: c.lan, claimId: c.claimId, addresses: [...c.addresses], ownerLinkAddress: c.ownerLinkAddress,
      link: link.cfg.name, leaseMs: c.leaseMs, expiresAt: this.now + c.leaseMs, since: same || renewedAdopted ? existing!.since : this.now,
    });
    if (!same) {
      this.emitEvent(renewedAdopted ? 'help-renewed-adopted' : 'help-start', { owner, lan: c.lan, claimId: c.claimId, addresses: c.addresses, link: link.cfg.name });
      this.pendingAnnounce.push({ lan: c.lan, addresses: [...c.addresses] });
    }
    if (reply) this.send(link.cfg.name, { type: 'takeover-ack', claimId: c.claimId, ok: true });
  }

  private readonly pendingAnnounce: Array<{ lan: string; addresses: string[] }> = [];

  private releaseHelp(key: string, hc: HelperClaim, why: CoreEventType): void {
    if (hc.lingerUntil !== undefined) return;
    this.emitEvent(why, { owner: hc.owner, lan: hc.lan, claimId: hc.claimId, addresses: hc.addresses });
    if (why === 'help-release' && this.cfg.takeover.releaseLingerMs > 0) hc.lingerUntil = this.now + this.cfg.takeover.releaseLingerMs;
    else this.helping.delete(key);
  }

  // ---------------------------------------------------------------- decisions

  private view(iface: string): HealthView {
    return this.health.get(iface)!.view(this.now);
  }

  private evaluate(): void {
    const now = this.now;
    for (const h of this.health.values()) h.tick(now);

    // Interface verdict changes.
    for (const p of this.cfg.publics) {
      const v = this.view(p.iface);
      const prev = this.healthy.get(p.iface);
      if (v.reason === 'unknown') continue;
      if (prev !== v.healthy) {
        this.healthy.set(p.iface, v.healthy);
        if (prev !== undefined || !v.healthy) this.emitEvent(v.healthy ? 'iface-recovered' : 'iface-failed', { iface: p.iface, lan: p.lan, reason: v.reason });
      }
    }

    // Peer liveness.
    for (const l of this.links.values()) {
      const alive = l.carrierUp && l.lastHbAt !== undefined && now - l.lastHbAt <= this.hb(l).timeoutMs;
      if (alive !== l.alive) {
        l.alive = alive;
        this.emitEvent(alive ? 'peer-up' : 'peer-down', { link: l.cfg.name, peer: l.cfg.peer });
      }
    }

    if (!this.ready) {
      const verdicts = this.cfg.publics.every((p) => this.view(p.iface).reason !== 'unknown');
      const peersKnown = [...this.links.values()].every((l) => l.lastHbAt !== undefined);
      const waited = now - this.startedAt >= this.cfg.heartbeat.timeoutMs;
      if ((verdicts && (peersKnown || waited)) || now - this.startedAt >= Math.max(this.cfg.heartbeat.timeoutMs, 2000)) {
        this.ready = true;
        this.emitEvent('ready', {});
      }
    }

    if (this.ready) for (const [lan, ifaces] of this.lans) this.placeLan(lan, ifaces);

    // Helper duties: leases, lingering routes, links to owners that lost carrier.
    for (const [key, hc] of this.helping) {
      if (hc.lingerUntil !== undefined) {
        if (now >= hc.lingerUntil) { this.helping.delete(key); this.emitEvent('help-route-removed', { owner: hc.owner, lan: hc.lan }); }
        continue;
      }
      const link = this.links.get(hc.link);
      if (link && !link.carrierUp) { this.releaseHelp(key, hc, 'help-link-down'); this.helping.delete(key); }
      else if (now >= hc.expiresAt) { this.releaseHelp(key, hc, 'lease-expired'); this.helping.delete(key); }
    }

    // Retransmissions: takeover requests until acked, releases until acked or given up.
    for (const oc of this.ownerClaims.values()) {
      if (!oc.acked && now - oc.lastSentAt >= this.hbOf(oc.link).intervalMs) {
        oc.lastSentAt = now;
        this.send(oc.link, { type: 'takeover', ...oc.claim });
      }
    }
    for (let i = this.releases.length - 1; i >= 0; i--) {
      const r = this.releases[i]!;
      if (now >= r.giveUpAt) this.releases.splice(i, 1);
      else if (now - r.lastSentAt >= this.hbOf(r.link).intervalMs) {
        r.lastSentAt = now;
        this.send(r.link, { type: 'release', claimId: r.claimId });
      }
    }

    // Heartbeats.
    for (const l of this.links.values()) {
      if (now - l.lastHbSentAt >= this.hb(l).intervalMs) this.sendHeartbeat(l);
    }

    // Announcements for newly accepted claims (after placement, so the right interface is known).
    for (const a of this.pendingAnnounce.splice(0)) {
      const iface = this.helperIface(a.lan);
      if (iface) this.announce(iface, a.addresses);
    }

    if (this.ready) {
      const desired = this.desired();
      const text = JSON.stringify(desired);
      if (text !== this.lastDesired) {
        this.lastDesired = text;
        // Kernel first, then messages and announcements that depend on it: put the kernel effect in front.
        this.effects.unshift({ kind: 'kernel', desired });
      }
    }
  }

  /** Decides where each public interface's addresses live, and makes the transitions that follow. */
  private placeLan(lan: string, ifaces: CorePublic[]): void {
    const usable = ifaces.filter((p) => this.view(p.iface).usable);
    const failed = ifaces.filter((p) => !this.view(p.iface).usable);
    let remoteNeeded = false;
    for (const p of ifaces) {
      const prev = this.placement.get(p.iface)!;
      let next: Placement;
      if (usable.includes(p)) next = { kind: 'own' };
      else if (usable.length > 0) next = { kind: 'local', iface: usable[0]!.iface };
      else { remoteNeeded = true; continue; }
      this.setPlacement(p, prev, next);
    }
    if (!remoteNeeded) {
      this.dropOwnerClaim(lan);
      return;
    }
    // Every interface of this LAN failed: a helper must carry the LAN's addresses.
    const current = this.ownerClaims.get(lan);
    const candidates = this.helperCandidates(lan);
    let chosen: { link: LinkView } | undefined;
    if (current && candidates.some((c) => c.cfg.name === current.link)) chosen = { link: this.links.get(current.link)! };
    else if (candidates.length > 0) chosen = { link: candidates[0]! };
    else if (current && this.links.get(current.link)!.carrierUp) {
      // The helper went silent (its daemon may be restarting) and nobody else can help: its kernel still
      // forwards for us, so keep using it rather than drop everything.
      chosen = { link: this.links.get(current.link)! };
    }
    if (!chosen) {
      this.dropOwnerClaim(lan);
      for (const p of failed) this.setPlacement(p, this.placement.get(p.iface)!, { kind: 'unserved' });
      return;
    }
    const link = chosen.link;
    if (!current || current.link !== link.cfg.name) {
      if (current) {
        this.emitEvent('helper-switch', { lan, from: current.peer, to: link.cfg.peer });
        this.dropOwnerClaim(lan);
      }
      const claim: Claim = {
        claimId: `${this.cfg.node}-${this.idSeed}-${++this.claimSeq}`,
        lan,
        addresses: ifaces.flatMap((p) => p.addresses.map((a) => a.address)),
        ownerLinkAddress: link.cfg.localAddress,
        leaseMs: this.cfg.takeover.leaseMs,
      };
      this.ownerClaims.set(lan, { claim, link: link.cfg.name, peer: link.cfg.peer, acked: false, since: this.now, lastSentAt: this.now });
      this.send(link.cfg.name, { type: 'takeover', ...claim });
      this.emitEvent('takeover-requested', { lan, helper: link.cfg.peer, link: link.cfg.name, claimId: claim.claimId, addresses: claim.addresses });
    }
    for (const p of ifaces) this.setPlacement(p, this.placement.get(p.iface)!, { kind: 'remote', link: link.cfg.name, peer: link.cfg.peer });
  }

  private helperCandidates(lan: string): LinkView[] {
    return [...this.links.values()]
      .filter((l) => l.alive && l.peerCanHelp && l.peerLans[lan]?.healthy === true)
      .filter((l) => { const r = this.refused.get(`${l.cfg.name}/${lan}`); return r === undefined || this.now - r > this.cfg.heartbeat.timeoutMs; })
      .sort((x, y) => x.cfg.cost - y.cfg.cost || cmp(x.cfg.peer, y.cfg.peer) || cmp(x.cfg.name, y.cfg.name));
  }

  private dropOwnerClaim(lan: string): void {
    const oc = this.ownerClaims.get(lan);
    if (!oc) return;
    this.ownerClaims.delete(lan);
    this.releases.push({ link: oc.link, claimId: oc.claim.claimId, lastSentAt: this.now, giveUpAt: this.now + RELEASE_GIVE_UP_MS });
    this.send(oc.link, { type: 'release', claimId: oc.claim.claimId });
  }

  private setPlacement(p: CorePublic, prev: Placement, next: Placement): void {
    if (samePlacement(prev, next)) return;
    this.placement.set(p.iface, next);
    if (prev.kind === 'own' && next.kind !== 'own') this.effects.push({ kind: 'flush-neighbors', iface: p.iface });
    const addresses = p.addresses.map((a) => a.address);
    switch (next.kind) {
      case 'own':
        this.emitEvent('failback', { iface: p.iface, lan: p.lan, from: prev.kind });
        this.announce(p.iface, addresses);
        break;
      case 'local':
        this.emitEvent('local-backup', { iface: p.iface, lan: p.lan, to: next.iface });
        this.announce(next.iface, addresses);
        break;
      case 'remote':
        break; // the helper announces
      case 'unserved':
        this.emitEvent('unserved', { iface: p.iface, lan: p.lan });
        break;
    }
  }

  private helperIface(lan: string): string | undefined {
    const ifaces = this.lans.get(lan);
    if (!ifaces) return undefined;
    return (ifaces.find((p) => this.view(p.iface).usable) ?? ifaces.find((p) => this.view(p.iface).healthy) ?? ifaces[0])?.iface;
  }

  // ---------------------------------------------------------------- outputs

  private sendHeartbeat(l: LinkView): void {
    l.lastHbSentAt = this.now;
    const lans: Record<string, { healthy: boolean }> = {};
    for (const [lan, ifaces] of this.lans) lans[lan] = { healthy: this.ready && ifaces.some((p) => this.view(p.iface).usable) };
    const claims = [...this.ownerClaims.values()].filter((oc) => oc.link === l.cfg.name).map((oc) => oc.claim);
    const helping = [...new Set([...this.helping.values()].filter((h) => h.lingerUntil === undefined).map((h) => h.owner))];
    this.send(l.cfg.name, { type: 'heartbeat', ready: this.ready, lans, canHelp: this.cfg.takeover.canHelp, helping, claims });
  }

  private send(link: string, msg: PeerMessage): void {
    this.effects.push({ kind: 'send', link, msg });
  }

  private announce(iface: string, addresses: string[]): void {
    if (addresses.length === 0) return;
    this.effects.push({ kind: 'announce', iface, addresses, count: this.cfg.takeover.garpCount, intervalMs: this.cfg.takeover.garpIntervalMs });
  }

  private emitEvent(type: CoreEventType, details: Record<string, unknown>): void {
    this.effects.push({ kind: 'event', event: { type, at: this.now, ...details } });
  }

  /** What the kernel should hold now. */
  desired(): DesiredKernelState {
    const addresses: AddrSpec[] = [];
    const managedAddresses: AddrSpec[] = [];
    const routes: RouteSpec[] = [];
    const proxies: ProxySpec[] = [];
    const sysctls: SysctlSpec[] = [];

    for (const [lan, ifaces] of this.lans) {
      for (const p of ifaces) {
        const pl = this.placement.get(p.iface)!;
        const where = pl.kind === 'local' ? pl.iface : p.iface;
        for (const a of p.addresses) {
          for (const q of ifaces) managedAddresses.push({ family: 4, ifname: q.iface, address: a.address, prefixLen: a.prefixLen });
          addresses.push({ family: 4, ifname: where, address: a.address, prefixLen: a.prefixLen });
        }
        // Egress of a failed interface: the halves of its prefixes (and of the default route) through the
        // local backup interface or through the helper, with the service address as source.
        if (pl.kind === 'local' || pl.kind === 'remote') {
          const src = p.addresses[0]?.address;
          const nh: { ifname: string; via?: string } = pl.kind === 'local'
            ? { ifname: pl.iface }
            : (() => { const l = this.links.get(pl.link)!.cfg; return { ifname: l.iface, via: l.peerAddress }; })();
          const prefixes = new Map<string, { address: string; prefixLen: number }>();
          for (const a of p.addresses) prefixes.set(`${networkOf(a)}/${a.prefixLen}`, a);
          for (const a of prefixes.values()) {
            for (const h of halves(a)) routes.push({ family: 4, dst: h.dst, dstLen: h.dstLen, ...nh, src });
          }
          if (p.defaultRoute) {
            const via = pl.kind === 'local' ? p.gateway : nh.via;
            for (const h of halves({ address: '0.0.0.0', prefixLen: 0 })) routes.push({ family: 4, dst: h.dst, dstLen: h.dstLen, ifname: nh.ifname, via, src });
          }
        } else if (pl.kind === 'own' && p.defaultRoute && this.view(p.iface).usable) {
          // A fallback default route: an admin-down removes the system's default route and an admin-up does not
          // bring it back (measured), so hanet keeps one of its own behind any the operator has (higher metric).
          routes.push({ family: 4, dst: '0.0.0.0', dstLen: 0, ifname: p.iface, via: p.gateway, metric: FALLBACK_DEFAULT_METRIC });
        }
      }
      void lan;
    }

    for (const hc of this.helping.values()) {
      const link = this.links.get(hc.link);
      if (!link) continue;
      for (const a of hc.addresses) {
        routes.push({ family: 4, dst: a, dstLen: 32, ifname: link.cfg.iface, via: hc.ownerLinkAddress });
      }
      if (hc.lingerUntil === undefined) {
        const iface = this.helperIface(hc.lan);
        if (iface) for (const a of hc.addresses) proxies.push({ family: 4, ifname: iface, address: a });
      }
    }

    if (this.cfg.takeover.canHelp) {
      // Proxy ARP answers only with forwarding on, and by default 0.8 s late (proxy_delay 80): measured here.
      sysctls.push({ path: 'net/ipv4/ip_forward', value: '1' });
      for (const p of this.cfg.publics) sysctls.push({ path: `net/ipv4/neigh/${p.iface}/proxy_delay`, value: '0' });
    }
    // Strict reverse-path filtering dropped packets during failback (measured): loose mode on private links.
    for (const l of this.cfg.privates) sysctls.push({ path: `net/ipv4/conf/${l.iface}/rp_filter`, value: '2' });

    const key = (r: RouteSpec) => `${r.dst}/${r.dstLen}/${r.metric ?? 0}`;
    const seen = new Set<string>();
    const uniqRoutes = routes.filter((r) => (seen.has(key(r)) ? false : (seen.add(key(r)), true)));
    return { addresses, managedAddresses, routes: uniqRoutes, proxies, sysctls };
  }

  status(now: number): NodeStatus {
    this.now = now;
    return {
      node: this.cfg.node,
      ready: this.ready,
      publics: this.cfg.publics.map((p) => ({ iface: p.iface, lan: p.lan, addresses: p.addresses.map((a) => `${a.address}/${a.prefixLen}`), health: this.view(p.iface), placement: this.placement.get(p.iface)! })),
      links: [...this.links.values()].map((l) => ({ name: l.cfg.name, kind: l.cfg.kind, peer: l.cfg.peer, alive: l.alive, carrierUp: l.carrierUp, lastHeartbeatAgoMs: l.lastHbAt === undefined ? null : now - l.lastHbAt, peerLans: l.peerLans })),
      claims: [...this.ownerClaims.entries()].map(([lan, oc]) => ({ lan, helper: oc.peer, link: oc.link, claimId: oc.claim.claimId, acked: oc.acked, since: oc.since, addresses: oc.claim.addresses })),
      helping: [...this.helping.values()].map((h) => ({ owner: h.owner, lan: h.lan, link: h.link, claimId: h.claimId, addresses: h.addresses, since: h.since, expiresInMs: h.expiresAt - now, lingering: h.lingerUntil !== undefined })),
    };
  }

  isReady(): boolean { return this.ready; }
}

/** Metric of hanet's fallback default route: behind any default route the operator installs (0 by default). */
export const FALLBACK_DEFAULT_METRIC = 4242;

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A peer may only ask us to answer for addresses on the LAN we share with it, and never for our own addresses
 * or the gateway: an authenticated but misconfigured (or compromised) peer must not hijack them through us.
 */
function claimable(address: string, lanIfaces: CorePublic[]): boolean {
  const ip = address.split('/')[0]!;
  if (lanIfaces.some((p) => p.gateway === ip || p.addresses.some((a) => a.address === ip))) return false;
  return lanIfaces.some((p) => p.addresses.some((a) => inPrefix(ip, a)));
}

function samePlacement(a: Placement, b: Placement): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'local' && b.kind === 'local') return a.iface === b.iface;
  if (a.kind === 'remote' && b.kind === 'remote') return a.link === b.link;
  return true;
}

