// The hanet daemon: feeds observations (carrier reads, ARP replies, peer messages, kernel results, time) to the
// pure core and carries out its effects in the order the core gives them — the core already holds back what must
// wait for the kernel (docs/CONTRACTS.md, effect order). All I/O goes through injected ports (src/daemon/ports.ts).
import { HanetNode, type NodeStatus } from '../core/node.js';
import { heartbeatOf } from '../core/peers.js';
import type { CoreConfig, CoreEffect, CoreEvent, CoreEventType, CoreLogEvent } from '../core/types.js';
import type { DesiredKernelState } from '../core/kernel-types.js';
import type { LinkStats, PrivateLink } from '../links/types.js';
import { HANET_VERSION } from '../version.js';
import { PeerStats, type LinkRtt } from './peer-stats.js';
import type { DaemonOptions, DaemonPorts } from './ports.js';
import { Reconciler } from './reconciler.js';
import { fromArp, fromNdp, Neighbours } from './neighbours.js';
import { PollWatcher, type Watcher } from './watch.js';
import { ipFamily } from '../core/ip.js';

export type { DaemonOptions, DaemonPorts, Logger } from './ports.js';
export type { LinkRtt } from './peer-stats.js';

/** Version of the `hanet status --json` schema (docs/status.schema.json): bumped when a field changes meaning or goes. */
export const STATUS_VERSION = 1;

export interface DaemonStatus extends NodeStatus {
  /** Schema version of this object (STATUS_VERSION). */
  version: number;
  /** hanet's version. */
  hanet: string;
  /** The daemon's monotonic clock now (ms); `since`, `at` and `expiresInMs` in this status are on this clock. */
  nowMs: number;
  /** Wall-clock time of this status (ISO 8601). */
  time: string;
  uptimeMs: number;
  kernel: { reconciles: number; lastOps: string[]; lastError?: string };
  rejected: Record<string, number>;
  /** How many events of each type were recorded since start (every one, also those rate-limited in the log). */
  eventCounts: Partial<Record<CoreEventType, number>>;
  links: Array<NodeStatus['links'][number] & { rtt: LinkRtt; rejected: Record<string, number>; stats?: LinkStats | undefined }>;
  events: CoreLogEvent[];
}

const EVENT_RING = 500;

export class Daemon {
  private readonly core: HanetNode;
  /** Per public interface: ARP and/or NDP, by the families it uses. */
  private readonly neighbours = new Map<string, Neighbours>();
  private readonly links = new Map<string, PrivateLink>();
  private readonly reconciler: Reconciler;
  private readonly peerStats: PeerStats;
  private readonly eventCounts: Partial<Record<CoreEventType, number>> = {};
  private readonly events: CoreLogEvent[] = [];
  private readonly eventListeners = new Set<(e: CoreLogEvent) => void>();
  private readonly garpTimers = new Set<NodeJS.Timeout>();
  /** Links whose peer echoes our heartbeats (see start()). */
  private readonly echoing = new Set<string>();
  private readonly startedAt: number;
  private readonly wallNow: () => number;
  private timer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly watcher: Watcher;
  private bgpWatch: { close(): void } | undefined;

  constructor(private readonly cfg: CoreConfig, private readonly ports: DaemonPorts, private readonly opts: DaemonOptions) {
    this.core = new HanetNode(cfg);
    this.startedAt = ports.now();
    this.wallNow = ports.wallNow ?? Date.now;
    this.reconciler = new Reconciler(ports.kernel, ports.now, (gen, ok, error) => this.feed(ok ? { type: 'kernel-applied', at: ports.now(), gen, ok } : { type: 'kernel-applied', at: ports.now(), gen, ok, error: error ?? 'unknown' }), (ev) => this.record(ev), ports.log);
    this.peerStats = new PeerStats((link) => heartbeatOf(cfg, link), ports.now, this.wallNow);
    const neighbours = (iface: string) => this.neighbours.get(iface);
    this.watcher = ports.watch?.({ cfg, neighbours }) ?? new PollWatcher(cfg, ports.kernel, neighbours, ports.now, opts.carrierIntervalMs);
  }

  async start(): Promise<void> {
    const { ports, cfg } = this;
    for (const p of cfg.publics) this.openNeighbours(p.iface);
    for (const l of cfg.privates) {
      const link = await ports.openLink(l);
      link.onMessage((m) => {
        const from = m.envelope.sender;
        if (m.message.type === 'heartbeat' && from === l.peer) {
          this.peerStats.heartbeat(l.name, m.message, { seq: Number(m.envelope.seq), sentAt: m.envelope.sentAt });
          // A peer that echoed our heartbeats and stops doing so no longer hears us (one-way loss towards it): its
          // heartbeats are no sign of a working link then, so the core sees it go silent and stops sending through
          // it (found by the chaos run: an owner kept routing into such a helper until the link healed). Peers that
          // never echo (an older hanet) are taken at their word.
          if (m.message.echo) this.echoing.add(l.name);
          else if (this.echoing.has(l.name)) return;
        }
        // A message that can start a claim comes after every announcement already queued on our LAN ports: read
        // those first, while they are judged without the claim. Else the announcement of the helper the owner just
        // left, read after our help began, made us let go at once (found by the chaos run: the owner's address
        // unanswered for 2 s).
        if (m.message.type === 'takeover' || (m.message.type === 'heartbeat' && m.message.claims.length > 0)) this.drainNeighbours();
        this.feed({ type: 'message', at: ports.now(), link: l.name, from, msg: m.message });
      });
      link.onReject((r) => this.rejectedMessage(l.name, r.reason, r.detail ?? r.from));
      this.links.set(l.name, link);
    }
    const leftovers = await ports.kernel.leftovers();
    if (leftovers.routes.length || leftovers.proxies.length) {
      ports.log.info({ routes: leftovers.routes.length, proxies: leftovers.proxies.length }, 'found kernel state of an earlier run');
    }
    this.feed({ type: 'start', at: ports.now(), leftovers });
    // Time: the core's clock-driven duties (heartbeats, retransmits, leases, hold-downs) at the heartbeat rate;
    // carrier and probes are the watcher's, which wakes us only when something changed (native monitor).
    const tickMs = Math.min(cfg.heartbeat.intervalMs, ...cfg.privates.map((l) => l.heartbeat?.intervalMs ?? cfg.heartbeat.intervalMs));
    this.timer = setInterval(() => this.feed({ type: 'tick', at: ports.now() }), tickMs);
    this.resyncTimer = setInterval(() => this.reconciler.resync(), this.opts.resyncMs ?? 1000);
    await this.watcher.start({ observe: (...evs) => this.feedAll(evs), relinked: (iface) => this.relink(iface) });
    if (cfg.publics.some((p) => p.bgpCheck)) {
      this.bgpWatch = ports.watchBgp?.((iface, established, error) => this.feed({ type: 'bgp', at: ports.now(), iface, established, ...(error !== undefined ? { error } : {}) }));
    }
  }

  /** ARP and/or NDP on a public interface, by the families it uses; their announcements feed the core. */
  private openNeighbours(iface: string): void {
    const p = this.cfg.publics.find((q) => q.iface === iface)!;
    const n = new Neighbours();
    const families = new Set([...p.addresses.map((a) => ipFamily(a.address)), ...p.gateways.map((g) => ipFamily(g))]);
    if (families.has(4)) n.add(4, fromArp(this.ports.openArp(iface)));
    if (families.has(6) && this.ports.openNdp) n.add(6, fromNdp(this.ports.openNdp(iface)));
    for (const s of n.all()) {
      s.onAnnouncement((a) => {
        // A node with two ports on one LAN hears its own announcements on the other port: not another host's.
        if ([...this.neighbours.values()].some((x) => x.all().some((y) => y.mac?.() === a.mac))) return;
        this.feed({ type: 'announcement', at: a.atMs, iface, address: a.ip });
      });
    }
    this.neighbours.set(iface, n);
  }

  /** The interface was re-created (a new ifindex): its packet sockets were bound to the old one. */
  private relink(iface: string): void {
    this.ports.log.warn({ iface }, 'interface re-created: reopening its sockets');
    this.neighbours.get(iface)?.close();
    try { this.openNeighbours(iface); } catch (err) { this.ports.log.error({ iface, err: String(err) }, 'cannot reopen the interface\'s sockets'); }
    this.watcher.neighboursChanged?.();
  }

  private rejectedMessage(link: string, reason: string, detail: string | undefined): void {
    const suppressed = this.peerStats.reject(link, reason);
    if (suppressed === undefined) return;
    this.record({ type: 'message-rejected', at: this.ports.now(), link, reason, ...(detail !== undefined ? { detail } : {}), count: 1 + suppressed });
  }

  private feed(ev: CoreEvent): void {
    if (this.stopped) return;
    this.run(this.core.handle(ev));
  }

  private feedAll(evs: CoreEvent[]): void {
    if (this.stopped) return;
    this.run(this.core.handleAll(evs));
  }

  /** Carries out effects in the core's order (a kernel effect starts a reconcile whose result is fed back). */
  private run(effects: CoreEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'kernel': this.reconciler.set(e.desired, e.gen); break;
        case 'send':
          try { this.links.get(e.link)?.send(this.peerStats.withEcho(e.link, e.msg)); } catch (err) { this.ports.log.debug({ link: e.link, err: String(err) }, 'send failed'); }
          break;
        case 'announce': this.announce(e); break;
        case 'probe-targets': this.watcher.setProbeTargets(e.iface, e.targets); break;
        case 'flush-neighbors':
          this.ports.kernel.flushNeighbors(e.iface).then(
            (n) => { if (n) this.ports.log.debug({ iface: e.iface, entries: n }, 'neighbour entries flushed'); },
            (err: unknown) => this.ports.log.warn({ iface: e.iface, err: String(err) }, 'neighbour flush failed'),
          );
          break;
        case 'event': this.record(e.event); break;
      }
    }
  }

  private record(ev: CoreLogEvent): void {
    ev.time = new Date(this.wallNow()).toISOString();
    this.events.push(ev);
    if (this.events.length > EVENT_RING) this.events.splice(0, this.events.length - EVENT_RING);
    this.eventCounts[ev.type] = (this.eventCounts[ev.type] ?? 0) + 1;
    const level = ev.type === 'message-ignored' ? 'debug' : ev.type === 'message-rejected' ? 'warn' : ev.type === 'kernel-failed' ? 'error' : 'info';
    this.ports.log[level]({ event: ev.type, ...ev, at: undefined }, ev.type);
    // Listeners (metrics, hooks, `hanet events --follow`) must not break the effect loop.
    for (const l of this.eventListeners) {
      try { l(ev); } catch (err) { this.ports.log.error({ event: ev.type, err: String(err) }, 'event listener failed'); }
    }
  }

  private drainNeighbours(): void {
    for (const [iface, n] of this.neighbours) {
      try { n.drain(); } catch (err) { this.ports.log.warn({ iface, err: String(err) }, 'neighbour socket read failed'); }
    }
  }

  /**
   * Gratuitous ARP (IPv4) / unsolicited NA (IPv6) for each address, repeated `count` times; a repeat goes out only for
   * addresses this node still announces there (a release or a move meanwhile stops it).
   */
  private announce(a: Extract<CoreEffect, { kind: 'announce' }>): void {
    const n = this.neighbours.get(a.iface);
    if (!n) return;
    const send = (repeat: boolean) => {
      for (const ip of a.addresses) {
        if (repeat && !this.core.announces(a.iface, ip)) continue;
        try { n.for(ip)?.announce(ip); } catch (err) { this.ports.log.warn({ iface: a.iface, ip, err: String(err) }, 'announcement failed'); }
      }
    };
    send(false);
    this.record({ type: 'announced', at: this.ports.now(), iface: a.iface, addresses: a.addresses, count: a.count });
    for (let i = 1; i < a.count; i++) {
      const t = setTimeout(() => { this.garpTimers.delete(t); if (!this.stopped) send(true); }, i * a.intervalMs);
      this.garpTimers.add(t);
    }
  }

  /**
   * Before a clean stop removes what it installed: tell the core (a helper gives its claims back, so the owners ask
   * another helper) and keep running until another host announces the addresses, for at most three heartbeat
   * timeouts (there may be no other helper). Without this, owners only moved on once our heartbeats were missed.
   * `hanet run` calls it before a clean stop().
   */
  async handOver(): Promise<void> {
    if (this.stopped) return;
    this.feed({ type: 'stopping', at: this.ports.now() });
    const deadline = this.ports.now() + Math.max(1000, 3 * this.cfg.heartbeat.timeoutMs);
    while (!this.core.handedOver() && this.ports.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  onEvent(cb: (e: CoreLogEvent) => void): () => void {
    this.eventListeners.add(cb);
    return () => this.eventListeners.delete(cb);
  }

  status(): DaemonStatus {
    const now = this.ports.now();
    const s = this.core.status(now);
    return {
      version: STATUS_VERSION,
      hanet: HANET_VERSION,
      ...s,
      links: s.links.map((l) => ({ ...l, rtt: this.peerStats.rttOf(l.name), rejected: this.peerStats.rejectedOn(l.name), stats: this.links.get(l.name)?.stats() })),
      nowMs: now,
      time: new Date(this.wallNow()).toISOString(),
      uptimeMs: now - this.startedAt,
      kernel: this.reconciler.stats(),
      rejected: { ...this.peerStats.rejected },
      eventCounts: { ...this.eventCounts },
      events: this.events.slice(-50),
    };
  }

  recentEvents(): CoreLogEvent[] {
    return [...this.events];
  }

  /**
   * Stops observing and sending. With `cleanup`, first brings the kernel back to what it was without hanet
   * (service addresses on their own interfaces, no hanet routes or proxy entries, the sysctls as they were; but a
   * helped owner keeps its routes through the helper); without it, kernel state is left
   * as it is, like after a crash, so that a restarted daemon continues a takeover without loss.
   */
  async stop(opts: { cleanup: boolean }): Promise<{ cleaned: boolean }> {
    let cleaned = false;
    if (this.timer) clearInterval(this.timer);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    for (const t of this.garpTimers) clearTimeout(t);
    this.stopped = true;
    this.watcher.close();
    this.bgpWatch?.close();
    this.reconciler.stop();
    await this.reconciler.idle();
    if (opts.cleanup) {
      const d: DesiredKernelState = this.reconciler.latest() ?? this.core.desired();
      const home = this.cfg.publics.flatMap((p) => p.addresses.map((a) => ({ family: ipFamily(a.address) ?? 4, ifname: p.iface, address: a.address, prefixLen: a.prefixLen })));
      // A helped owner keeps the routes that carry its traffic through its helper: its own ports are down, so
      // without them its replies have no way out, and a restart (SIGTERM, start) is no reason for an outage. The
      // helper's lease bounds what follows if no daemon comes back; a restarted one takes them over.
      const helped = this.core.status(this.ports.now()).publics.some((p) => p.placement.kind === 'remote');
      const privateIfaces = new Set(this.cfg.privates.map((l) => l.iface));
      const routes = helped ? d.routes.filter((r) => r.src !== undefined && privateIfaces.has(r.ifname)) : [];
      if (routes.length) this.ports.log.info({ routes: routes.length }, 'keeping the routes through the helper (this node is being helped)');
      try {
        const sysctls = this.ports.sysctlsToRestore?.() ?? [];
        await this.ports.kernel.reconcile({ addresses: home, managedAddresses: d.managedAddresses, routes, proxies: [], rules: [], sysctls });
        cleaned = true;
      } catch (err) {
        this.ports.log.error({ err: String(err) }, 'cleanup failed');
      }
    }
    for (const n of this.neighbours.values()) n.close();
    await Promise.all([...this.links.values()].map((l) => l.close().catch(() => undefined)));
    this.ports.kernel.close();
    return { cleaned };
  }
}
