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
  private readonly lastProbe = new Map<string, number>();
  /** What the core asks to probe per interface: the gateway first, then LAN peers. */
  private readonly probeTargets = new Map<string, string[]>();
  private readonly eventCounts: Partial<Record<CoreEventType, number>> = {};
  private readonly events: CoreLogEvent[] = [];
  private readonly eventListeners = new Set<(e: CoreLogEvent) => void>();
  private readonly garpTimers = new Set<NodeJS.Timeout>();
  private readonly startedAt: number;
  private readonly wallNow: () => number;
  private timer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private stopped = false;

  constructor(private readonly cfg: CoreConfig, private readonly ports: DaemonPorts, private readonly opts: DaemonOptions) {
    this.core = new HanetNode(cfg);
    this.startedAt = ports.now();
    this.wallNow = ports.wallNow ?? Date.now;
    this.reconciler = new Reconciler(ports.kernel, ports.now, (gen, ok, error) => this.feed(ok ? { type: 'kernel-applied', at: ports.now(), gen, ok } : { type: 'kernel-applied', at: ports.now(), gen, ok, error: error ?? 'unknown' }), (ev) => this.record(ev), ports.log);
    this.peerStats = new PeerStats((link) => heartbeatOf(cfg, link), ports.now, this.wallNow);
  }

  async start(): Promise<void> {
    const { ports, cfg } = this;
    for (const p of cfg.publics) {
      const n = new Neighbours();
      const families = new Set([...p.addresses.map((a) => ipFamily(a.address)), ...p.gateways.map((g) => ipFamily(g))]);
      if (families.has(4)) n.add(4, fromArp(ports.openArp(p.iface)));
      if (families.has(6) && ports.openNdp) n.add(6, fromNdp(ports.openNdp(p.iface)));
      for (const s of n.all()) {
        s.onReply((r) => {
          if (this.probeTargets.get(p.iface)?.includes(r.senderIp)) this.feed({ type: 'probe-reply', at: r.atMs, iface: p.iface, target: r.senderIp });
        });
        s.onAnnouncement((a) => this.feed({ type: 'announcement', at: a.atMs, iface: p.iface, address: a.ip }));
      }
      this.neighbours.set(p.iface, n);
    }
    for (const l of cfg.privates) {
      const link = await ports.openLink(l);
      link.onMessage((m) => {
        const from = m.envelope.sender;
        if (m.message.type === 'heartbeat' && from === l.peer) this.peerStats.heartbeat(l.name, m.message, { seq: Number(m.envelope.seq), sentAt: m.envelope.sentAt });
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
    this.timer = setInterval(() => void this.poll(), this.opts.carrierIntervalMs);
    this.resyncTimer = setInterval(() => this.reconciler.resync(), this.opts.resyncMs ?? 1000);
    await this.poll();
  }

  /** One observation round: carrier of every interface (fresh reads), ARP probes that are due, then time. */
  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return; // a slow round is not stacked on top of another
    this.polling = true;
    try {
      const { cfg, ports } = this;
      // A failed read is reported as such (the core keeps its verdict), never as a missing interface.
      const read = (name: string) => ports.kernel.getLink(name).then((l) => ({ l }), (e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }));
      const pubs = await Promise.all(cfg.publics.map((p) => read(p.iface)));
      const privs = await Promise.all(cfg.privates.map((l) => read(l.iface)));
      if (this.stopped) return;
      cfg.publics.forEach((p, i) => {
        const r = pubs[i]!;
        // Read pending ARP replies first, so that a stalled event loop is not mistaken for missing replies.
        this.neighbours.get(p.iface)?.drain();
        if ('error' in r) this.feed({ type: 'carrier', at: ports.now(), iface: p.iface, up: false, lowerUp: false, error: r.error });
        else this.feed({ type: 'carrier', at: ports.now(), iface: p.iface, up: r.l?.up ?? false, lowerUp: r.l?.lowerUp ?? false, present: r.l !== undefined });
      });
      cfg.privates.forEach((l, i) => {
        const r = privs[i]!;
        if ('error' in r) this.feed({ type: 'link-carrier', at: ports.now(), link: l.name, up: false, error: r.error });
        else this.feed({ type: 'link-carrier', at: ports.now(), link: l.name, up: !!r.l && r.l.up && r.l.lowerUp });
      });
      this.probe(ports.now());
      this.feed({ type: 'tick', at: ports.now() });
    } finally {
      this.polling = false;
    }
  }

  private probe(now: number): void {
    for (const p of this.cfg.publics) {
      const targets = this.probeTargets.get(p.iface);
      if (!p.arp || !targets?.length) continue;
      // Timers fire with ~1 ms jitter: a strict comparison would skip every other probe when the poll period
      // equals the probe interval, doubling detection time.
      if (now - (this.lastProbe.get(p.iface) ?? -Infinity) < p.arpIntervalMs * 0.75) continue;
      this.lastProbe.set(p.iface, now);
      try {
        for (const t of targets) this.neighbours.get(p.iface)?.for(t)?.probe(t);
        this.feed({ type: 'probe-sent', at: now, iface: p.iface });
      } catch {
        // the interface may be down (ENETDOWN): the carrier read already says so
      }
    }
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

  /** Carries out effects in the core's order (a kernel effect starts a reconcile whose result is fed back). */
  private run(effects: CoreEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'kernel': this.reconciler.set(e.desired, e.gen); break;
        case 'send':
          try { this.links.get(e.link)?.send(this.peerStats.withEcho(e.link, e.msg)); } catch (err) { this.ports.log.debug({ link: e.link, err: String(err) }, 'send failed'); }
          break;
        case 'announce': this.announce(e); break;
        case 'probe-targets': this.probeTargets.set(e.iface, e.targets); break;
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
   * (service addresses on their own interfaces, no hanet routes or proxy entries); without it, kernel state is left
   * as it is, like after a crash, so that a restarted daemon continues a takeover without loss.
   */
  async stop(opts: { cleanup: boolean }): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    for (const t of this.garpTimers) clearTimeout(t);
    this.stopped = true;
    this.reconciler.stop();
    await this.reconciler.idle();
    if (opts.cleanup) {
      const d: DesiredKernelState = this.reconciler.latest() ?? this.core.desired();
      const home = this.cfg.publics.flatMap((p) => p.addresses.map((a) => ({ family: ipFamily(a.address) ?? 4, ifname: p.iface, address: a.address, prefixLen: a.prefixLen })));
      try {
        await this.ports.kernel.reconcile({ addresses: home, managedAddresses: d.managedAddresses, routes: [], proxies: [], rules: [], sysctls: [] });
      } catch (err) {
        this.ports.log.error({ err: String(err) }, 'cleanup failed');
      }
    }
    for (const n of this.neighbours.values()) n.close();
    await Promise.all([...this.links.values()].map((l) => l.close().catch(() => undefined)));
    this.ports.kernel.close();
  }
}
