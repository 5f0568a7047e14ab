// How the daemon watches its interfaces: carrier of the public ports and private links, and probes of each public
// port's targets (gateways, LAN peers), reported to the core as observations. Two implementations behind one shape:
// the native link monitor's own thread (native-watcher.ts: production, JavaScript woken only on a change) and this
// portable loop (PollWatcher: a timer in JavaScript that reads the carrier and sends the probes itself; tests and
// machines without the monitor). Both count probe misses by the same rule (src/core/probes.ts).
import { ProbeCounter, type ProbeStatus } from '../core/probes.js';
import type { KernelPort } from '../core/kernel-types.js';
import type { CoreConfig, CoreEvent } from '../core/types.js';
import type { Neighbours } from './neighbours.js';

/** Observations for the core; `relinked`: an interface was re-created (new ifindex): its sockets must be reopened. */
export interface WatchSink {
  /** Observations made at once (one probe round, one wake-up of the monitor): the core judges them together. */
  observe(...evs: CoreEvent[]): void;
  relinked(iface: string): void;
}

export interface Watcher {
  start(sink: WatchSink): Promise<void>;
  /** What to probe on a public interface now (the core's `probe-targets`). */
  setProbeTargets(iface: string, targets: string[]): void;
  /** The daemon reopened an interface's neighbour sockets (after `relinked`). */
  neighboursChanged?(): void;
  close(): void;
}

/** The portable watcher: every `intervalMs` a fresh carrier read of every interface, then the probes that are due. */
export class PollWatcher implements Watcher {
  private timer: NodeJS.Timeout | undefined;
  private polling = false;
  private closed = false;
  private sink: WatchSink | undefined;
  private readonly counters = new Map<string, ProbeCounter>();
  private readonly lastRound = new Map<string, number>();
  private readonly carrierOk = new Map<string, boolean>();
  private readonly ifindex = new Map<string, number>();
  private readonly unsubscribe: Array<() => void> = [];

  constructor(
    private readonly cfg: CoreConfig,
    private readonly kernel: KernelPort,
    private readonly neighbours: (iface: string) => Neighbours | undefined,
    private readonly now: () => number,
    private readonly intervalMs: number,
  ) {
    for (const p of cfg.publics) this.counters.set(p.iface, new ProbeCounter());
  }

  async start(sink: WatchSink): Promise<void> {
    this.sink = sink;
    this.listen();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    await this.poll();
  }

  neighboursChanged(): void { this.listen(); }

  /** Replies of every interface's sockets (again after they were reopened). */
  private listen(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    for (const p of this.cfg.publics) {
      for (const s of this.neighbours(p.iface)?.all() ?? []) {
        this.unsubscribe.push(s.onReply((r) => {
          const st = this.counters.get(p.iface)?.replied(r.senderIp, r.atMs);
          if (st) this.status(p.iface, r.atMs, st);
        }));
      }
    }
  }

  setProbeTargets(iface: string, targets: string[]): void {
    this.counters.get(iface)?.setTargets(targets);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    for (const off of this.unsubscribe.splice(0)) off();
  }

  private status(iface: string, at: number, st: ProbeStatus): void {
    this.sink?.observe({ type: 'probe-status', at, iface, ...st });
  }

  /** A failed read is reported as such (the core keeps its verdict), never as a missing interface. */
  private read(name: string) {
    return this.kernel.getLink(name).then((l) => ({ l }), (e: unknown) => ({ error: e instanceof Error ? e.message : String(e) }));
  }

  private async poll(): Promise<void> {
    if (this.polling || this.closed || !this.sink) return; // a slow round is not stacked on top of another
    this.polling = true;
    try {
      const { cfg } = this;
      const batch: CoreEvent[] = [];
      const sink = { observe: (...evs: CoreEvent[]) => batch.push(...evs), relinked: (iface: string) => this.sink!.relinked(iface) };
      const pubs = await Promise.all(cfg.publics.map((p) => this.read(p.iface)));
      const privs = await Promise.all(cfg.privates.map((l) => this.read(l.iface)));
      if (this.closed) return;
      cfg.publics.forEach((p, i) => {
        const r = pubs[i]!;
        // Read pending replies first, so that a stalled event loop is not mistaken for missing replies.
        this.neighbours(p.iface)?.drain();
        if ('error' in r) { sink.observe({ type: 'carrier', at: this.now(), iface: p.iface, up: false, lowerUp: false, error: r.error }); return; }
        const ok = !!r.l && r.l.up && r.l.lowerUp;
        if (this.carrierOk.get(p.iface) !== ok) this.counters.get(p.iface)!.reset(); // counting starts afresh
        this.carrierOk.set(p.iface, ok);
        if (r.l && this.ifindex.has(p.iface) && this.ifindex.get(p.iface) !== r.l.index) sink.relinked(p.iface);
        if (r.l) this.ifindex.set(p.iface, r.l.index);
        sink.observe({ type: 'carrier', at: this.now(), iface: p.iface, up: r.l?.up ?? false, lowerUp: r.l?.lowerUp ?? false, present: r.l !== undefined });
      });
      cfg.privates.forEach((l, i) => {
        const r = privs[i]!;
        if ('error' in r) sink.observe({ type: 'link-carrier', at: this.now(), link: l.name, up: false, error: r.error });
        else sink.observe({ type: 'link-carrier', at: this.now(), link: l.name, up: !!r.l && r.l.up && r.l.lowerUp });
      });
      this.probe(this.now(), batch);
      if (batch.length) this.sink.observe(...batch);
    } finally {
      this.polling = false;
    }
  }

  private probe(now: number, batch: CoreEvent[]): void {
    for (const p of this.cfg.publics) {
      if (!p.arp) continue;
      // Timers fire with ~1 ms jitter: a strict comparison would skip every other probe when the poll period equals
      // the probe interval, doubling detection time.
      if (now - (this.lastRound.get(p.iface) ?? -Infinity) < p.arpIntervalMs * 0.75) continue;
      this.lastRound.set(p.iface, now);
      for (const st of this.counters.get(p.iface)!.sent(now)) batch.push({ type: 'probe-status', at: now, iface: p.iface, ...st });
      for (const t of this.counters.get(p.iface)!.targetList()) {
        try { this.neighbours(p.iface)?.for(t)?.probe(t); } catch { /* the interface may be down (ENETDOWN): the carrier read says so */ }
      }
    }
  }
}
