// The failover state machine of one hanet node: pure (no I/O, no clock), observations in, effects out as data.
// One node is at once an owner (of its service addresses: src/core/owner.ts) and a possible helper (for its peers'
// addresses: src/core/helper.ts); it knows its peers (src/core/peers.ts) and its own LANs' health
// (src/core/lans.ts); what the kernel should hold is a pure function of all that (src/core/desired.ts). This file
// composes them: the order in which one step looks at the world, and the effect-order gate (src/core/out.ts).
import { desiredKernelState } from './desired.js';
import { HelperSide } from './helper.js';
import type { HealthView } from './health.js';
import type { DesiredKernelState } from './kernel-types.js';
import { Lans } from './lans.js';
import type { HeartbeatMessage } from './messages.js';
import { KernelGate, Out } from './out.js';
import { OwnerSide, type Placement } from './owner.js';
import { PeerTable, type PeerView } from './peers.js';
import type { CoreConfig, CoreEffect, CoreEvent, PeerMessage } from './types.js';

export type { Placement } from './owner.js';
export type { HelperClaim } from './helper.js';
export { FALLBACK_DEFAULT_METRIC } from './desired.js';

export interface NodeStatus {
  node: string;
  ready: boolean;
  publics: Array<{ iface: string; lan: string; addresses: string[]; health: HealthView & { readError?: string }; placement: Placement }>;
  links: ReturnType<PeerTable['status']>;
  claims: ReturnType<OwnerSide['status']>;
  helping: ReturnType<HelperSide['status']>;
}

/** Readiness never waits longer than this for peers' first heartbeats (ms). */
const READY_AT_THE_LATEST_MS = 2000;
/** LAN peers probed besides the gateway, per interface: enough to tell this port from the gateway, cheap on a big LAN. */
const PEER_PROBES = 2;
/**
 * A gap between two observations longer than this (ms), beyond the heartbeat interval, is a stall of this process
 * (SIGSTOP, a frozen VM, swap): the time we could not observe does not count against peers or leases.
 */
const STALL_MS = 100;

export class HanetNode {
  private readonly out: Out;
  private readonly gate = new KernelGate();
  private readonly lans: Lans;
  private readonly peers: PeerTable;
  private readonly owner: OwnerSide;
  private readonly helper: HelperSide;
  private started = false;
  private ready = false;
  private stopping = false;
  private lastAt = 0;
  private startedAt = 0;
  private lastDesired = '';
  /** The probe targets last emitted per interface (as text), so they are emitted only on change. */
  private readonly probeTargets = new Map<string, string>();

  constructor(private readonly cfg: CoreConfig, idSeed = Math.random().toString(36).slice(2, 8)) {
    this.out = new Out(cfg.takeover);
    this.lans = new Lans(cfg, this.out);
    this.peers = new PeerTable(cfg, this.out);
    const parts = { cfg, out: this.out, gate: this.gate, peers: this.peers, lans: this.lans };
    this.owner = new OwnerSide(parts, idSeed);
    this.helper = new HelperSide(parts);
  }

  /** Feeds one observation; returns the effects to carry out, in order. Nothing counts before `start`. */
  handle(ev: CoreEvent): CoreEffect[] {
    return this.handleAll([ev]);
  }

  /**
   * Feeds observations made at once (e.g. one probe round of the link monitor: the gateway's miss and the peers' in
   * the same batch), then looks at the world once: a verdict is never taken on half of a round.
   */
  handleAll(events: readonly CoreEvent[]): CoreEffect[] {
    const evs = this.started ? events : events.slice(Math.max(0, events.findIndex((e) => e.type === 'start')));
    if (evs.length === 0 || (!this.started && evs[0]!.type !== 'start')) return [];
    const at = Math.max(...evs.map((e) => e.at));
    this.out.begin(at);
    this.lans.setTime(at);
    this.compensateStall(at);
    for (const ev of evs) this.apply(ev);
    this.evaluate(at);
    return this.out.take();
  }

  private apply(ev: CoreEvent): void {
    switch (ev.type) {
      case 'start':
        this.started = true;
        this.startedAt = ev.at;
        if (ev.leftovers) this.helper.adopt(ev.leftovers, ev.at);
        break;
      case 'stopping':
        this.stopping = true;
        this.helper.withdraw();
        break;
      case 'carrier': this.lans.carrier(ev.iface, ev.up, ev.lowerUp, ev.present ?? true, ev.error); break;
      case 'bgp': this.lans.bgp(ev.iface, ev.established, ev.error); break;
      case 'probe-status': this.lans.probeStatus(ev.iface, ev.target, ev.misses, ev.confirmed, ev.rttMs); break;
      case 'link-carrier': if (ev.error === undefined) this.peers.linkCarrier(ev.link, ev.up); break;
      case 'kernel-applied': this.gate.kernelApplied(ev.gen, ev.ok, ev.ok ? undefined : ev.error); break;
      case 'message': this.onMessage(ev.link, ev.from, ev.msg, ev.at); break;
      case 'announcement': {
        const lan = this.cfg.publics.find((p) => p.iface === ev.iface)?.lan;
        if (lan) this.helper.onAnnouncement(lan, ev.address, ev.at);
        break;
      }
      case 'tick': break;
    }
  }

  private onMessage(linkName: string, from: string, msg: PeerMessage, now: number): void {
    const link = this.peers.get(linkName);
    if (!link || link.cfg.peer !== from) {
      this.out.event('message-ignored', { link: linkName, from, why: 'unknown-link-or-peer', msgType: msg.type });
      return;
    }
    switch (msg.type) {
      case 'heartbeat':
        this.peers.heartbeatFrom(linkName, msg, now);
        this.helper.onHeartbeat(link, msg.claims, msg.ready !== false, this.ready, now);
        break;
      case 'takeover': if (this.ready) this.helper.onTakeover(link, msg, now); break; // the owner retransmits until we are ready
      case 'takeover-ack': this.owner.onAck(linkName, msg.claimId, msg.ok, msg.reason, now); break;
      case 'release': this.helper.onRelease(linkName, from, msg.claimId, now); break;
      case 'release-ack': this.owner.onReleaseAck(linkName, msg.claimId); break;
    }
  }

  /** One look at the world, in a fixed order: verdicts, peers, readiness, placement, helper duties, messages, kernel. */
  private evaluate(now: number): void {
    this.lans.reportVerdicts();
    this.peers.evaluate(now);
    if (!this.ready && this.readyNow(now)) {
      this.ready = true;
      this.out.event('ready', {});
      this.owner.announceOwn(); // a restarted owner tells the LAN where its addresses are (a helper may have held them)
    }
    if (this.ready) this.owner.place(now);
    this.helper.evaluate(now);
    this.owner.retransmit(now);
    for (const l of this.peers.dueHeartbeats(now)) this.out.send(l.cfg.name, this.heartbeat(l));
    this.updateProbeTargets();
    let changed = false;
    if (this.ready) {
      const desired = this.desired();
      const text = JSON.stringify(desired);
      if (text !== this.lastDesired) {
        this.lastDesired = text;
        changed = true;
        this.out.kernel({ kind: 'kernel', desired, gen: this.gate.gen + 1 });
      }
    }
    this.gate.endStep(changed);
  }

  /** Ready once every interface has a verdict and every peer was heard (or a heartbeat timeout passed); at the latest after 2 s. */
  private readyNow(now: number): boolean {
    const waited = now - this.startedAt;
    return (this.lans.allKnown() && (this.peers.allHeard() || waited >= this.cfg.heartbeat.timeoutMs)) || waited >= Math.max(this.cfg.heartbeat.timeoutMs, READY_AT_THE_LATEST_MS);
  }

  /** Each probing interface probes its gateway and a few LAN peers (the cheapest alive ones that report addresses). */
  private updateProbeTargets(): void {
    for (const p of this.cfg.publics) {
      if (!p.arp || p.gateways.length === 0) continue;
      // L3: the peers are in other racks' subnets, not on this link: only the ToR (the gateway) answers probes.
      const targets = [...p.gateways, ...(p.mode === 'l3' ? [] : this.peers.probeTargets(p.lan, PEER_PROBES))];
      const text = targets.join(' ');
      if (this.probeTargets.get(p.iface) === text) continue;
      this.probeTargets.set(p.iface, text);
      this.lans.probing(p.iface, targets);
      this.out.probeTargets(p.iface, targets);
    }
  }

  private heartbeat(l: PeerView): HeartbeatMessage {
    const lans: HeartbeatMessage['lans'] = {};
    for (const [lan, ifaces] of this.lans.byLan) {
      lans[lan] = { healthy: this.ready && this.lans.canCarry(lan), gateway: this.ready && this.lans.lanReachesGateway(lan), addresses: ifaces.flatMap((p) => p.addresses.map((a) => a.address)) };
    }
    return {
      type: 'heartbeat', ready: this.ready, lans, canHelp: this.cfg.takeover.canHelp && !this.stopping, helping: this.helper.owners(), claims: this.owner.claimsFor(l.cfg.name),
      ...(l.cfg.localAddress6 !== undefined ? { link6: l.cfg.localAddress6 } : {}),
    };
  }

  /** A stall: shift what is judged by elapsed time (peers' last heartbeats, leases) by the time we were not looking. */
  private compensateStall(now: number): void {
    const gap = now - this.lastAt - this.cfg.heartbeat.intervalMs;
    if (this.started && gap > STALL_MS) {
      this.peers.shift(gap);
      this.helper.shift(gap);
    }
    this.lastAt = Math.max(this.lastAt, now);
  }

  /** Claims held for peers were all handed back after `stopping` (or there were none). */
  handedOver(): boolean { return this.helper.handedOver(); }

  /** Does this node announce `address` on `iface` now (asked before each repeat of a gratuitous ARP)? */
  announces(iface: string, address: string): boolean {
    return this.owner.announces(iface, address) || this.helper.answers(iface, address);
  }

  /** What the kernel should hold now. */
  desired(): DesiredKernelState {
    return desiredKernelState({
      cfg: this.cfg,
      placement: (iface) => this.owner.placementOf(iface),
      usable: (iface) => this.lans.usable(iface),
      helperIface: (lan) => this.lans.helperIface(lan),
      peerLink6: (link) => this.peers.get(link)?.link6,
      helping: this.helper.claims(),
    });
  }

  status(now: number): NodeStatus {
    this.lans.setTime(now);
    return {
      node: this.cfg.node,
      ready: this.ready,
      publics: this.cfg.publics.map((p) => {
        const readError = this.lans.readError(p.iface);
        return {
          iface: p.iface, lan: p.lan, addresses: p.addresses.map((a) => `${a.address}/${a.prefixLen}`),
          health: { ...this.lans.view(p.iface), ...(readError !== undefined ? { readError } : {}) }, placement: this.owner.placementOf(p.iface),
        };
      }),
      links: this.peers.status(now),
      claims: this.owner.status(),
      helping: this.helper.status(now),
    };
  }

  isReady(): boolean { return this.ready; }
}
