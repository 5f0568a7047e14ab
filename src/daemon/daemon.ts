// The hanet daemon: feeds observations (carrier reads, ARP replies, peer messages, time) to the pure core and
// carries out its effects (kernel reconcile, gratuitous ARP, peer messages). All I/O goes through injected ports.
import type { ArpSocket } from '../os/linux/arp.js';
import type { DesiredKernelState, KernelPort } from '../core/kernel-types.js';
import type { LinkStats, PrivateLink } from '../links/types.js';
import { HanetNode, type NodeStatus } from '../core/node.js';
import { formatKernelOp } from '../core/kernel-plan.js';
import type { CoreConfig, CoreEffect, CoreEvent, CoreEventType, CoreLogEvent, CorePrivate, PeerMessage } from '../core/types.js';
import { HANET_VERSION } from '../version.js';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface DaemonPorts {
  /** Monotonic milliseconds. */
  now(): number;
  kernel: KernelPort;
  openArp(ifname: string): ArpSocket;
  openLink(cfg: CorePrivate): Promise<PrivateLink>;
  log: Logger;
  /** Wall clock, ms since the epoch (fractional allowed): heartbeat echoes carry send times on it. Default Date.now. */
  wallNow?(): number;
}

export interface DaemonOptions {
  /** How often carrier state is read directly; the smallest carrier interval of the public interfaces. */
  carrierIntervalMs: number;
  /** Re-run the reconcile this often even without a change, to repair drift (e.g. routes an admin-down removed). */
  resyncMs?: number;
  /** ARP probe target per public interface (its gateway), or undefined for no probing. */
  gateways: Record<string, string | undefined>;
}

/** Version of the `hanet status --json` schema (docs/status.schema.json): bumped when a field changes meaning or goes. */
export const STATUS_VERSION = 1;

/** Heartbeat round-trip time of a private link, from the echo in the peer's heartbeats (1 ms resolution). */
export interface LinkRtt { lastMs: number | null; avgMs: number | null; samples: number }

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

/** A repeated rejection (same link and reason) is recorded as an event at most this often; counts stay exact. */
const REJECT_EVENT_EVERY_MS = 10_000;
/** Smoothing of the average heartbeat RTT (EWMA weight of a new sample). */
const RTT_ALPHA = 0.2;

const EVENT_RING = 500;

export class Daemon {
  private readonly core: HanetNode;
  private readonly arps = new Map<string, ArpSocket>();
  private readonly links = new Map<string, PrivateLink>();
  private timer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private polling = false;
  private desired: DesiredKernelState | undefined;
  private reconciling: Promise<void> | undefined;
  private reconcileAgain = false;
  private reconciles = 0;
  private lastOps: string[] = [];
  private lastError: string | undefined;
  private readonly lastProbe = new Map<string, number>();
  private readonly rejected: Record<string, number> = {};
  private readonly rejectedByLink = new Map<string, Record<string, number>>();
  /** Per link and reason: when the last 'message-rejected' event was recorded, and how many were not since. */
  private readonly rejectLog = new Map<string, { at: number; suppressed: number }>();
  private readonly eventCounts: Partial<Record<CoreEventType, number>> = {};
  /** The peer's last heartbeat per link (its envelope, and when we got it): echoed in our next heartbeat. */
  private readonly lastRx = new Map<string, { seq: number; sentAt: number; at: number }>();
  private readonly rtt = new Map<string, LinkRtt>();
  private readonly events: CoreLogEvent[] = [];
  private readonly eventListeners = new Set<(e: CoreLogEvent) => void>();
  private readonly startedAt: number;
  private stopped = false;
  private readonly garpTimers = new Set<NodeJS.Timeout>();

  constructor(private readonly cfg: CoreConfig, private readonly ports: DaemonPorts, private readonly opts: DaemonOptions) {
    this.core = new HanetNode(cfg);
    this.startedAt = ports.now();
  }

  async start(): Promise<void> {
    const { ports, cfg } = this;
    for (const p of cfg.publics) {
      const arp = ports.openArp(p.iface);
      const gw = this.opts.gateways[p.iface];
      arp.onReply((r) => {
        if (gw && r.senderIp === gw) this.feed({ type: 'probe-reply', at: r.atMs, iface: p.iface });
      });
      this.arps.set(p.iface, arp);
    }
    for (const l of cfg.privates) {
      const link = await ports.openLink(l);
      link.onMessage((m) => {
        const from = m.envelope.sender;
        if (m.message.type === 'heartbeat' && from === l.peer) this.heartbeatRtt(l.name, m.message, { seq: Number(m.envelope.seq), sentAt: m.envelope.sentAt });
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
    this.resyncTimer = setInterval(() => this.requestReconcile(), this.opts.resyncMs ?? 1000);
    await this.poll();
  }

  /** One observation round: carrier of every interface (fresh reads), ARP probes that are due, then time. */
  private async poll(): Promise<void> {
    if (this.polling || this.stopped) return; // a slow round is not stacked on top of another
    this.polling = true;
    try {
      const { cfg, ports } = this;
      const pubs = await Promise.all(cfg.publics.map((p) => ports.kernel.getLink(p.iface).catch(() => undefined)));
      const privs = await Promise.all(cfg.privates.map((l) => ports.kernel.getLink(l.iface).catch(() => undefined)));
      if (this.stopped) return;
      cfg.publics.forEach((p, i) => {
        const l = pubs[i];
        // Read pending ARP replies first, so that a stalled event loop is not mistaken for missing replies.
        this.arps.get(p.iface)?.drain();
        this.feed({ type: 'carrier', at: ports.now(), iface: p.iface, up: l?.up ?? false, lowerUp: l?.lowerUp ?? false, present: l !== undefined });
      });
      cfg.privates.forEach((l, i) => {
        const s = privs[i];
        this.feed({ type: 'link-carrier', at: ports.now(), link: l.name, up: !!s && s.up && s.lowerUp });
      });
      const now = ports.now();
      for (const p of cfg.publics) {
        const gw = this.opts.gateways[p.iface];
        if (!p.arp || !gw) continue;
        // Timers fire with ~1 ms jitter: a strict comparison would skip every other probe when the poll period
        // equals the probe interval, doubling detection time.
        if (now - (this.lastProbe.get(p.iface) ?? -Infinity) < p.arpIntervalMs * 0.75) continue;
        this.lastProbe.set(p.iface, now);
        try {
          this.arps.get(p.iface)?.sendProbe(gw);
          this.feed({ type: 'probe-sent', at: now, iface: p.iface });
        } catch {
          // the interface may be down (ENETDOWN): the carrier read already says so
        }
      }
      this.feed({ type: 'tick', at: ports.now() });
    } finally {
      this.polling = false;
    }
  }

  /** Counts a dropped control message; records (and logs) it as an event at most once per REJECT_EVENT_EVERY_MS per link and reason, so a flood of forged packets cannot flood the log. */
  private rejectedMessage(link: string, reason: string, detail: string | undefined): void {
    this.rejected[reason] = (this.rejected[reason] ?? 0) + 1;
    const perLink = this.rejectedByLink.get(link) ?? {};
    perLink[reason] = (perLink[reason] ?? 0) + 1;
    this.rejectedByLink.set(link, perLink);
    const now = this.ports.now();
    const key = `${link}\u0000${reason}`;
    const last = this.rejectLog.get(key);
    if (last && now - last.at < REJECT_EVENT_EVERY_MS) { last.suppressed++; return; }
    this.rejectLog.set(key, { at: now, suppressed: 0 });
    this.record({ type: 'message-rejected', at: now, link, reason, ...(detail !== undefined ? { detail } : {}), count: 1 + (last?.suppressed ?? 0) });
  }

  /** Heartbeat round trip: remember the peer's heartbeat (to echo it), and measure ours from its echo. */
  private heartbeatRtt(link: string, msg: Extract<PeerMessage, { type: 'heartbeat' }>, meta: { seq: number; sentAt: number } | undefined): void {
    const now = this.ports.now();
    if (meta) this.lastRx.set(link, { seq: meta.seq, sentAt: meta.sentAt, at: now });
    if (!msg.echo) return;
    const ms = (this.ports.wallNow ?? Date.now)() - msg.echo.at - (msg.echo.holdMs ?? 0);
    // Send times are whole ms: a sub-ms round trip can come out as -1. A wall-clock step gives nonsense: dropped.
    if (!(ms >= -1 && ms < this.heartbeatOf(link).timeoutMs * 10)) return;
    const r = this.rtt.get(link) ?? { lastMs: null, avgMs: null, samples: 0 };
    r.lastMs = Math.max(0, ms);
    r.avgMs = r.avgMs === null ? r.lastMs : r.avgMs + RTT_ALPHA * (r.lastMs - r.avgMs);
    r.samples++;
    this.rtt.set(link, r);
  }

  private heartbeatOf(link: string): { intervalMs: number; timeoutMs: number } {
    return this.cfg.privates.find((p) => p.name === link)?.heartbeat ?? this.cfg.heartbeat;
  }

  /** Our heartbeat echoes the peer's last one (if it is recent), so the peer can measure its round trip. */
  private withEcho(link: string, msg: PeerMessage): PeerMessage {
    if (msg.type !== 'heartbeat') return msg;
    const rx = this.lastRx.get(link);
    const now = this.ports.now();
    if (!rx || now - rx.at > this.heartbeatOf(link).timeoutMs) return msg;
    return { ...msg, echo: { seq: rx.seq, at: rx.sentAt, holdMs: Math.max(0, Math.round(now - rx.at)) } };
  }

  private feed(ev: CoreEvent): void {
    if (this.stopped) return;
    this.run(this.core.handle(ev));
  }

  /**
   * Carries out effects: messages first (the peer starts its part at once), then the kernel, then logging;
   * gratuitous ARPs go out once the kernel holds the state they announce.
   */
  private run(effects: CoreEffect[]): void {
    const announces: Array<Extract<CoreEffect, { kind: 'announce' }>> = [];
    const flushes: string[] = [];
    let kernel = false;
    for (const e of effects) {
      if (e.kind === 'send') {
        try { this.links.get(e.link)?.send(this.withEcho(e.link, e.msg)); } catch (err) { this.ports.log.debug({ link: e.link, err: String(err) }, 'send failed'); }
      } else if (e.kind === 'kernel') { this.desired = e.desired; kernel = true; }
      else if (e.kind === 'announce') announces.push(e);
      else if (e.kind === 'flush-neighbors') flushes.push(e.iface);
    }
    if (kernel || announces.length || flushes.length) {
      const done = kernel ? this.requestReconcile() : (this.reconciling ?? Promise.resolve());
      void done.then(() => {
        for (const a of announces) this.announce(a);
        // After the routes moved: nothing new is queued on the old interface any more.
        for (const iface of flushes) {
          this.ports.kernel.flushNeighbors(iface).then(
            (n) => { if (n) this.ports.log.debug({ iface, entries: n }, 'neighbour entries flushed'); },
            (err: unknown) => this.ports.log.warn({ iface, err: String(err) }, 'neighbour flush failed'),
          );
        }
      });
    }
    for (const e of effects) if (e.kind === 'event') this.record(e.event);
  }

  private record(ev: CoreLogEvent): void {
    ev.time = new Date((this.ports.wallNow ?? Date.now)()).toISOString();
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

  /** Serialised reconciles: one at a time, and the latest desired state always wins. */
  private requestReconcile(): Promise<void> {
    if (!this.desired) return Promise.resolve();
    if (this.reconciling) {
      this.reconcileAgain = true;
      return this.reconciling;
    }
    const runOnce = async (): Promise<void> => {
      do {
        this.reconcileAgain = false;
        const desired = this.desired!;
        const t0 = this.ports.now();
        try {
          const ops = await this.ports.kernel.reconcile(desired);
          this.reconciles++;
          if (ops.length) {
            this.lastOps = ops.map((o) => formatKernelOp(o));
            this.record({ type: 'kernel-changed', at: this.ports.now(), ops: this.lastOps, ms: Math.round((this.ports.now() - t0) * 100) / 100 });
          }
          this.lastError = undefined;
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          // Resyncs retry every second: the same error is an event (and an error log line) once, not every second.
          if (msg !== this.lastError) this.record({ type: 'kernel-failed', at: this.ports.now(), error: msg });
          else this.ports.log.debug({ err: msg }, 'kernel reconcile failed again');
          this.lastError = msg;
        }
      } while (this.reconcileAgain && !this.stopped);
    };
    this.reconciling = runOnce().finally(() => { this.reconciling = undefined; });
    return this.reconciling;
  }

  private announce(a: Extract<CoreEffect, { kind: 'announce' }>): void {
    const arp = this.arps.get(a.iface);
    if (!arp) return;
    const send = () => {
      for (const ip of a.addresses) {
        try { arp.sendGratuitous(ip); } catch (err) { this.ports.log.warn({ iface: a.iface, ip, err: String(err) }, 'gratuitous ARP failed'); }
      }
    };
    send();
    this.record({ type: 'announced', at: this.ports.now(), iface: a.iface, addresses: a.addresses, count: a.count });
    for (let i = 1; i < a.count; i++) {
      const t = setTimeout(() => { this.garpTimers.delete(t); if (!this.stopped) send(); }, i * a.intervalMs);
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
      links: s.links.map((l) => ({
        ...l,
        rtt: { ...(this.rtt.get(l.name) ?? { lastMs: null, avgMs: null, samples: 0 }) },
        rejected: { ...this.rejectedByLink.get(l.name) },
        stats: this.links.get(l.name)?.stats(),
      })),
      nowMs: now,
      time: new Date((this.ports.wallNow ?? Date.now)()).toISOString(),
      uptimeMs: now - this.startedAt,
      kernel: { reconciles: this.reconciles, lastOps: this.lastOps, lastError: this.lastError },
      rejected: { ...this.rejected },
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
    if (this.reconciling) await this.reconciling.catch(() => undefined);
    if (opts.cleanup) {
      const d = this.desired ?? this.core.desired();
      const home = this.cfg.publics.flatMap((p) => p.addresses.map((a) => ({ family: 4 as const, ifname: p.iface, address: a.address, prefixLen: a.prefixLen })));
      try {
        await this.ports.kernel.reconcile({ addresses: home, managedAddresses: d.managedAddresses, routes: [], proxies: [], sysctls: [] });
      } catch (err) {
        this.ports.log.error({ err: String(err) }, 'cleanup failed');
      }
    }
    for (const a of this.arps.values()) a.close();
    await Promise.all([...this.links.values()].map((l) => l.close().catch(() => undefined)));
    this.ports.kernel.close();
  }
}


