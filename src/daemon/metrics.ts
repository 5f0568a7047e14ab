// Prometheus metrics of a running daemon (prom-client): state gauges read from `daemon.status()` at scrape time,
// counters and histograms fed by `daemon.onEvent`, bytes relayed for peers from the private link's interface
// counters, and a small HTTP endpoint (GET /metrics), loopback-only by default. docs/metrics.md lists every metric.
//
// Bytes relayed: the kernel forwards a helper's relayed packets (route + proxy ARP), and it keeps no per-route
// counters. What hanet can read cheaply is the private link's interface counters (/proc/net/dev, the daemon's own
// namespace): while this node helps an owner over a link, the bytes that the link's interface sends are the
// owner's inbound traffic (direction "to_owner") and the bytes it receives are the owner's replies that we forward
// ("from_owner"). Our own control messages on that link are subtracted (UDP payload + 42 bytes of Ethernet, IPv4
// and UDP headers each, from the link's counters); anything else on the link while helping (e.g. an ssh session
// over the private network) is counted too. Samples are taken at every scrape and at the start and end of each
// help, so no traffic between two scrapes is lost or counted twice. For TUN-bridged links (serial, udp) the TUN
// interface is the link's interface, so the same counters are the bridged data bytes.
//
// Label values are never strings a peer chose (issue #11: a peer's free-form refusal reason became a label, an
// unbounded set of time series): peer-supplied values are mapped to fixed unions first ('other' for unknown).
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { REJECT_REASONS } from '../proto/control.js';
import { REFUSE_REASONS } from '../core/helper.js';
import type { CoreLogEvent, CorePrivate } from '../core/types.js';
import type { IfaceBytes } from '../os/linux/ifstats.js';
import { HANET_VERSION } from '../version.js';
import type { DaemonStatus } from './daemon.js';

/** What the metrics read from the daemon (the Daemon class fits; tests pass fakes). */
export interface MetricsSource {
  status(): DaemonStatus;
  onEvent(cb: (e: CoreLogEvent) => void): () => void;
}

export type HookResult = 'ok' | 'failed' | 'timeout' | 'error' | 'dropped';

/**
 * Why a takeover was refused, as a label: the reasons hanet's helper sends (REFUSE_REASONS), the owner's own
 * 'no-ack' (src/core/owner.ts), and 'other' for anything else a peer sends (the wire allows any short word).
 */
export const REFUSAL_REASONS = [...REFUSE_REASONS, 'no-ack', 'other'] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];
export const refusalReason = (v: unknown): RefusalReason => REFUSAL_REASONS.find((r) => r === v) ?? 'other';
const KNOWN_REJECTS = new Set<string>(REJECT_REASONS);

export interface DaemonMetricsOptions {
  node: string;
  privates: CorePrivate[];
  /** Interface byte counters of this namespace (default: none, so no relayed bytes are counted). */
  readIface?: (ifname: string) => IfaceBytes | undefined;
  /** Also export Node.js process metrics (process_*, nodejs_*). Default true. */
  processMetrics?: boolean;
}

/** Ethernet + IPv4 + UDP header bytes of one control message on an ethernet link (/proc/net/dev counts L2 bytes). */
const CONTROL_OVERHEAD = 14 + 20 + 8;

const DURATION_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5];
const HELP_BUCKETS = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];

interface RelaySample { rx: number; tx: number; owner: string | undefined }

export class DaemonMetrics {
  readonly registry = new Registry();
  private readonly off: () => void;
  /** Last value seen of counters kept by the daemon (status), per counter and label set. */
  private readonly seen = new Map<Counter<string>, Map<string, number>>();
  private readonly relay = new Map<string, RelaySample>();
  private readonly helpSince = new Map<string, number>();
  private readonly hookRuns: Counter<'event' | 'result'>;
  private readonly hookSeconds: Histogram<'event'>;

  constructor(private readonly src: MetricsSource, private readonly opts: DaemonMetricsOptions) {
    const r = this.registry;
    const self = this;
    // The event-loop lag histogram samples with a libuv timer: at prom-client's default 10 ms it woke an idle daemon's
    // JavaScript 100 times a second (strace: ~250 loop wake-ups/s idle, 100/s of them this timer); 1 s costs nothing and
    // still shows a stall (the gauges are the delay seen by the samples).
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: r, eventLoopMonitoringPrecision: 1000 });

    // ---- state, read at scrape time
    new Gauge({ name: 'hanet_info', help: 'Always 1; labels say which node and hanet version.', labelNames: ['node', 'version'], registers: [r],
      collect() { this.set({ node: opts.node, version: HANET_VERSION }, 1); } });
    const st = (): DaemonStatus => this.src.status();
    let last: DaemonStatus | undefined;
    // One status per scrape: the first collect() of a scrape reads it, the others reuse it (see metrics()).
    const status = (): DaemonStatus => (last ??= st());
    this.beforeScrape = () => { last = undefined; };
    new Gauge({ name: 'hanet_ready', help: '1 once the daemon has verdicts for its interfaces and peers and acts on them.', registers: [r],
      collect() { this.set(status().ready ? 1 : 0); } });
    new Gauge({ name: 'hanet_uptime_seconds', help: 'Seconds since the daemon started.', registers: [r],
      collect() { this.set(status().uptimeMs / 1000); } });
    new Gauge({ name: 'hanet_interface_healthy', help: '1 when the public interface is healthy (carrier up and, with ARP probing, the gateway answers).', labelNames: ['interface', 'lan'], registers: [r],
      collect() { this.reset(); for (const p of status().publics) this.set({ interface: p.iface, lan: p.lan }, p.health.healthy ? 1 : 0); } });
    new Gauge({ name: 'hanet_interface_usable', help: '1 when the public interface carries its addresses (healthy, and past the failback hold-down after a failure).', labelNames: ['interface', 'lan'], registers: [r],
      collect() { this.reset(); for (const p of status().publics) this.set({ interface: p.iface, lan: p.lan }, p.health.usable ? 1 : 0); } });
    new Gauge({ name: 'hanet_interface_placement', help: "Where the interface's service addresses are: 1 for the current placement (own, local, remote, unserved).", labelNames: ['interface', 'lan', 'placement'], registers: [r],
      collect() {
        this.reset();
        for (const p of status().publics) for (const k of ['own', 'local', 'remote', 'unserved']) this.set({ interface: p.iface, lan: p.lan, placement: k }, p.placement.kind === k ? 1 : 0);
      } });
    new Gauge({ name: 'hanet_probe_rtt_seconds', help: 'Round-trip time of the last answered ARP probe of the gateway.', labelNames: ['interface', 'lan'], registers: [r],
      collect() { this.reset(); for (const p of status().publics) if (p.health.rttMs !== undefined) this.set({ interface: p.iface, lan: p.lan }, p.health.rttMs / 1000); } });
    new Gauge({ name: 'hanet_link_up', help: '1 when the peer on the private link is alive (carrier and fresh heartbeats).', labelNames: ['link', 'peer'], registers: [r],
      collect() { this.reset(); for (const l of status().links) this.set({ link: l.name, peer: l.peer }, l.alive ? 1 : 0); } });
    new Gauge({ name: 'hanet_link_carrier', help: "1 when the private link's interface has carrier.", labelNames: ['link', 'peer'], registers: [r],
      collect() { this.reset(); for (const l of status().links) this.set({ link: l.name, peer: l.peer }, l.carrierUp ? 1 : 0); } });
    new Gauge({ name: 'hanet_heartbeat_rtt_seconds', help: 'Round-trip time of the last echoed heartbeat on the private link (1 ms resolution).', labelNames: ['link', 'peer'], registers: [r],
      collect() { this.reset(); for (const l of status().links) if (l.rtt.lastMs !== null) this.set({ link: l.name, peer: l.peer }, l.rtt.lastMs / 1000); } });
    new Gauge({ name: 'hanet_heartbeat_age_seconds', help: 'Seconds since the last valid heartbeat from the peer.', labelNames: ['link', 'peer'], registers: [r],
      collect() { this.reset(); for (const l of status().links) if (l.lastHeartbeatAgoMs !== null) this.set({ link: l.name, peer: l.peer }, l.lastHeartbeatAgoMs / 1000); } });
    new Gauge({ name: 'hanet_takeover_active', help: "1 per LAN whose addresses a helper carries for this node (owner side); acked 0 while waiting for the helper's ack.", labelNames: ['lan', 'helper', 'acked'], registers: [r],
      collect() { this.reset(); for (const c of status().claims) this.set({ lan: c.lan, helper: c.helper, acked: String(c.acked) }, 1); } });
    new Gauge({ name: 'hanet_helping', help: "1 per peer LAN whose addresses this node carries (helper side); lingering 1 after release while only the route stays.", labelNames: ['owner', 'lan', 'lingering'], registers: [r],
      collect() { this.reset(); for (const h of status().helping) this.set({ owner: h.owner, lan: h.lan, lingering: String(h.lingering) }, 1); } });
    new Counter({ name: 'hanet_kernel_reconciles_total', help: 'Reconciles of the kernel state (each an idempotent comparison; changes are events kernel-changed).', registers: [r],
      collect() { self.follow(this, {}, status().kernel.reconciles); } });
    new Gauge({ name: 'hanet_kernel_error', help: '1 while the last kernel reconcile failed (see hanet status).', registers: [r],
      collect() { this.set(status().kernel.lastError ? 1 : 0); } });
    new Counter({ name: 'hanet_events_total', help: 'Events recorded by type (see docs/events.md).', labelNames: ['type'], registers: [r],
      collect() { for (const [type, n] of Object.entries(status().eventCounts)) self.follow(this, { type }, n ?? 0); } });
    new Counter({ name: 'hanet_control_messages_rejected_total', help: 'Control messages a private link dropped, by reason (bad-mac, replay, stale-session, wrong-recipient, ...).', labelNames: ['link', 'reason'], registers: [r],
      collect() {
        for (const l of status().links) {
          const by = new Map<string, number>();
          for (const [reason, n] of Object.entries(l.rejected)) { const r = KNOWN_REJECTS.has(reason) ? reason : 'other'; by.set(r, (by.get(r) ?? 0) + n); }
          for (const [reason, n] of by) self.follow(this, { link: l.name, reason }, n);
        }
      } });
    const relayed = new Counter({ name: 'hanet_relayed_bytes_total', help: "Bytes the private link's interface carried while this node helped its owner (to_owner: clients' traffic for the owner; from_owner: its replies), our control messages subtracted.", labelNames: ['owner', 'link', 'direction'], registers: [r],
      collect() { self.sampleRelay(status()); } });
    this.relayed = relayed;

    // ---- event-driven counters and histograms
    const ifaceFailures = new Counter({ name: 'hanet_interface_failures_total', help: 'Public interface failures detected, by reason (carrier-down, arp-timeout, admin-down, missing).', labelNames: ['interface', 'lan', 'reason'], registers: [r] });
    const takeovers = new Counter({ name: 'hanet_takeovers_total', help: 'Takeovers this node (the owner) requested from a helper.', labelNames: ['lan', 'helper'], registers: [r] });
    const refused = new Counter({ name: 'hanet_takeovers_refused_total', help: 'Takeover requests a helper refused.', labelNames: ['lan', 'helper', 'reason'], registers: [r] });
    const ackSeconds = new Histogram({ name: 'hanet_takeover_ack_seconds', help: "Owner side: from the takeover request to the helper's acknowledgement.", labelNames: ['lan', 'helper'], buckets: DURATION_BUCKETS, registers: [r] });
    const failbacks = new Counter({ name: 'hanet_failbacks_total', help: 'Public interfaces that took their addresses back (from local backup, a helper, or unserved).', labelNames: ['interface', 'lan', 'from'], registers: [r] });
    const helps = new Counter({ name: 'hanet_helps_total', help: "Helper side: takeovers of a peer's addresses this node started.", labelNames: ['owner', 'lan'], registers: [r] });
    const helpSeconds = new Histogram({ name: 'hanet_help_duration_seconds', help: "Helper side: how long this node carried a peer's addresses (start to release, lease expiry or link loss).", labelNames: ['owner', 'lan', 'end'], buckets: HELP_BUCKETS, registers: [r] });
    const ignored = new Counter({ name: 'hanet_control_messages_ignored_total', help: 'Authenticated control messages the core ignored (e.g. from a peer on the wrong link).', labelNames: ['link', 'why'], registers: [r] });
    this.hookRuns = new Counter({ name: 'hanet_hook_runs_total', help: 'Notify hook runs by event and result (ok, failed, timeout, error: could not start, dropped: queue full).', labelNames: ['event', 'result'], registers: [r] });
    this.hookSeconds = new Histogram({ name: 'hanet_hook_duration_seconds', help: 'How long notify hooks ran.', labelNames: ['event'], buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60], registers: [r] });

    const s = (v: unknown): string => (typeof v === 'string' ? v : '');
    this.off = src.onEvent((e) => {
      switch (e.type) {
        case 'iface-failed': ifaceFailures.inc({ interface: s(e.iface), lan: s(e.lan), reason: s(e.reason) }); break;
        case 'takeover-requested': takeovers.inc({ lan: s(e.lan), helper: s(e.helper) }); break;
        case 'takeover-refused': refused.inc({ lan: s(e.lan), helper: s(e.helper), reason: refusalReason(e.reason) }); break;
        case 'takeover-acked': if (typeof e.ms === 'number') ackSeconds.observe({ lan: s(e.lan), helper: s(e.helper) }, e.ms / 1000); break;
        case 'failback': failbacks.inc({ interface: s(e.iface), lan: s(e.lan), from: s(e.from) }); break;
        case 'message-ignored': ignored.inc({ link: s(e.link), why: s(e.why) }); break;
        case 'help-start':
        case 'help-renewed-adopted':
          if (e.type === 'help-start') helps.inc({ owner: s(e.owner), lan: s(e.lan) });
          if (!this.helpSince.has(`${s(e.owner)}/${s(e.lan)}`)) this.helpSince.set(`${s(e.owner)}/${s(e.lan)}`, e.at);
          this.sampleSoon();
          break;
        case 'help-release':
        case 'lease-expired':
        case 'help-link-down': {
          const key = `${s(e.owner)}/${s(e.lan)}`;
          const since = this.helpSince.get(key);
          if (since !== undefined) {
            helpSeconds.observe({ owner: s(e.owner), lan: s(e.lan), end: e.type }, Math.max(0, e.at - since) / 1000);
            this.helpSince.delete(key);
          }
          this.sampleSoon();
          break;
        }
        case 'help-route-removed': this.sampleSoon(); break;
        default: break;
      }
    });
  }

  private beforeScrape: () => void = () => undefined;
  private relayed: Counter<'owner' | 'link' | 'direction'>;
  private sampleTimer: NodeJS.Immediate | undefined;

  /** Samples the relay counters after the current effects ran (never inside the daemon's effect loop). */
  private sampleSoon(): void {
    if (this.sampleTimer) return;
    this.sampleTimer = setImmediate(() => {
      this.sampleTimer = undefined;
      try { this.sampleRelay(this.src.status()); } catch { /* a stopped daemon */ }
    });
  }

  /** Adds the interface bytes since the last sample of every link on which we help (or helped until now). */
  private sampleRelay(status: DaemonStatus): void {
    const read = this.opts.readIface;
    if (!read) return;
    for (const l of this.opts.privates) {
      const owner = status.helping.find((h) => h.link === l.name)?.owner;
      const prev = this.relay.get(l.name);
      if (!owner && !prev?.owner) { this.relay.delete(l.name); continue; }
      const cur = read(l.iface);
      if (!cur) continue;
      let rx = cur.rxBytes;
      let tx = cur.txBytes;
      const stats = status.links.find((x) => x.name === l.name)?.stats as { sent?: unknown; bytesSent?: unknown; received?: unknown; bytesReceived?: unknown } | undefined;
      if (l.kind === 'ethernet' && stats && typeof stats.bytesSent === 'number' && typeof stats.sent === 'number' && typeof stats.bytesReceived === 'number' && typeof stats.received === 'number') {
        tx -= stats.bytesSent + CONTROL_OVERHEAD * stats.sent;
        rx -= stats.bytesReceived + CONTROL_OVERHEAD * stats.received;
      }
      if (prev?.owner) {
        if (tx > prev.tx) this.relayed.inc({ owner: prev.owner, link: l.name, direction: 'to_owner' }, tx - prev.tx);
        if (rx > prev.rx) this.relayed.inc({ owner: prev.owner, link: l.name, direction: 'from_owner' }, rx - prev.rx);
      }
      this.relay.set(l.name, { rx, tx, owner });
    }
  }

  /** Makes a prom-client counter follow a count the daemon keeps (prom-client counters only go up by inc). */
  private follow<T extends string>(c: Counter<T>, labels: Partial<Record<T, string>>, value: number): void {
    const m = this.seen.get(c as Counter<string>) ?? new Map<string, number>();
    this.seen.set(c as Counter<string>, m);
    const key = JSON.stringify(labels);
    const prev = m.get(key) ?? 0;
    if (value > prev) { c.inc(labels, value - prev); m.set(key, value); }
  }

  /** Counts a notify hook run (called by the hook runner). */
  hookRun(event: string, result: HookResult, ms?: number): void {
    this.hookRuns.inc({ event, result });
    if (ms !== undefined && result !== 'dropped' && result !== 'error') this.hookSeconds.observe({ event }, ms / 1000);
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  async metrics(): Promise<string> {
    this.beforeScrape();
    return this.registry.metrics();
  }

  get contentType(): string { return this.registry.contentType; }

  close(): void {
    this.off();
    if (this.sampleTimer) clearImmediate(this.sampleTimer);
  }
}

export interface MetricsServer {
  /** The bound address (port 0 in the config picks a free one: tests). */
  readonly address: { host: string; port: number };
  close(): Promise<void>;
}

/** Serves GET /metrics (and GET / with a pointer to it). Throws HANET_ERR_SOCKET-like errors from listen to the caller. */
export async function serveMetrics(metrics: DaemonMetrics, host: string, port: number): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { allow: 'GET, HEAD' }).end(); return; }
    if (path === '/metrics') {
      metrics.metrics().then(
        (text) => { res.writeHead(200, { 'content-type': metrics.contentType }).end(req.method === 'HEAD' ? undefined : text); },
        (err: unknown) => { res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${String(err)}\n`); },
      );
    } else if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('hanet: metrics at /metrics\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  // Scrapes are short; a stuck client must not keep a socket forever.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => { server.off('error', reject); resolve(); });
  });
  const a = server.address();
  const address = typeof a === 'object' && a ? { host: a.address, port: a.port } : { host, port };
  return {
    address,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
