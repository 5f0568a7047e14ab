// The production watcher: the native link monitor (src/os/linux/monitor.ts, its own thread) reads the carrier of the
// public ports and private links and sends each public port's probes, and wakes JavaScript only when an observation
// changes; this turns those into the core's observations. Probe frames are built here with the TS codecs (ARP for
// IPv4 targets, Neighbor Solicitation for IPv6 ones) once the port's MAC is known, and rebuilt when it changes.
import { networkInterfaces } from 'node:os';
import { canonicalIp, ipFamily, isLinkLocal } from '../core/ip.js';
import type { CoreConfig, CoreEvent } from '../core/types.js';
import { arpTarget, ndpTarget, type LinkMonitor, type MonitorConfig, type MonitorObservation, type ProbeTarget } from '../os/linux/monitor.js';
import type { Logger } from './ports.js';
import type { Watcher, WatchSink } from './watch.js';

interface PortState { mac?: string; ifindex?: number; carrierOk?: boolean; targets: string[]; confirmed: Set<string> }

export class NativeWatcher implements Watcher {
  private monitor: LinkMonitor | undefined;
  private sink: WatchSink | undefined;
  private readonly ports = new Map<string, PortState>();
  private readonly privates: Map<string, string>; // interface -> link name
  private readonly carrierMs: number;

  constructor(private readonly cfg: CoreConfig, private readonly start_: (config: MonitorConfig) => LinkMonitor, private readonly log: Logger, carrierIntervalMs: number) {
    for (const p of cfg.publics) this.ports.set(p.iface, { targets: [], confirmed: new Set() });
    this.privates = new Map(cfg.privates.map((l) => [l.iface, l.name]));
    this.carrierMs = carrierIntervalMs;
  }

  async start(sink: WatchSink): Promise<void> {
    this.sink = sink;
    this.monitor = this.start_(this.config());
    this.monitor.onBatch((os) => {
      const evs = os.flatMap((o) => this.translate(o));
      if (evs.length) this.sink?.observe(...evs);
    });
  }

  setProbeTargets(iface: string, targets: string[]): void {
    const st = this.ports.get(iface);
    if (!st) return;
    st.targets = targets;
    for (const t of [...st.confirmed]) if (!targets.includes(t)) st.confirmed.delete(t);
    this.monitor?.update(this.config());
  }

  close(): void {
    this.monitor?.close();
    this.monitor = undefined;
  }

  /** The monitor's configuration now: every public port with its probe targets (once its MAC is known), every private link carrier-only. */
  private config(): MonitorConfig {
    const interfaces: MonitorConfig['interfaces'] = this.cfg.publics.map((p) => {
      const st = this.ports.get(p.iface)!;
      const targets = p.arp && st.mac ? st.targets.flatMap((t) => this.target(p.iface, st.mac!, t, p.arpIntervalMs)) : [];
      return { ifname: p.iface, carrierIntervalMs: this.carrierMs, targets };
    });
    for (const iface of this.privates.keys()) if (!interfaces.some((w) => w.ifname === iface)) interfaces.push({ ifname: iface, carrierIntervalMs: this.carrierMs, targets: [] });
    return { interfaces };
  }

  private target(iface: string, ownMac: string, ip: string, intervalMs: number): ProbeTarget[] {
    try {
      if (ipFamily(ip) === 4) return [arpTarget({ id: ip, ownMac, targetIp: ip, intervalMs })];
      // From the port's link-local address: answered by unicast, and the gateway learns nothing but that address.
      const ll = (networkInterfaces()[iface] ?? []).map((a) => (a.family === 'IPv6' ? canonicalIp(a.address, 6) : undefined)).find((a) => a !== undefined && isLinkLocal(a));
      return [ndpTarget({ id: ip, ownMac, targetIp: ip, intervalMs, ...(ll ? { source: ll } : {}) })];
    } catch (err) {
      this.log.warn({ iface, target: ip, err: String(err) }, 'cannot probe target');
      return [];
    }
  }

  /** One observation of the monitor as the core's observations (none for an error: logged). */
  private translate(o: MonitorObservation): CoreEvent[] {
    switch (o.type) {
      case 'link': {
        const out: CoreEvent[] = [];
        const link = this.privates.get(o.iface);
        if (link !== undefined) out.push({ type: 'link-carrier', at: o.at, link, up: o.present && o.up && o.lowerUp });
        const st = this.ports.get(o.iface);
        if (!st) return out;
        const ok = o.present && o.up && o.lowerUp;
        if (st.carrierOk !== ok) st.confirmed.clear(); // the monitor restarts counting on a carrier change
        st.carrierOk = ok;
        if (o.present && st.ifindex !== undefined && o.ifindex !== st.ifindex) this.sink?.relinked(o.iface);
        if (o.present) st.ifindex = o.ifindex;
        if (o.present && o.mac && o.mac !== st.mac) { st.mac = o.mac; this.monitor?.update(this.config()); }
        out.push({ type: 'carrier', at: o.at, iface: o.iface, up: o.up, lowerUp: o.lowerUp, present: o.present });
        return out;
      }
      case 'miss': {
        const st = this.ports.get(o.iface);
        return [{ type: 'probe-status', at: o.at, iface: o.iface, target: o.target, misses: o.misses, confirmed: st?.confirmed.has(o.target) ?? false }];
      }
      case 'reply':
        this.ports.get(o.iface)?.confirmed.add(o.target);
        return [{ type: 'probe-status', at: o.at, iface: o.iface, target: o.target, misses: 0, confirmed: true, ...(o.rttMs !== undefined ? { rttMs: o.rttMs } : {}) }];
      case 'error':
        this.log.warn({ iface: o.iface, code: o.code, err: o.message }, 'link monitor error');
        return [];
    }
  }
}
