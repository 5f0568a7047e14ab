// A deterministic simulation of several hanet cores on fake time: carrier samples, ARP probes and peer messages
// are produced from a small model of the world (ports up/down/silent, private links up/down), no I/O.
import { HanetNode } from '../../src/core/node.js';
import { ProbeCounter } from '../../src/core/probes.js';
import type { CoreConfig, CoreEffect, CoreEvent, CoreLogEvent, CorePrivate, CorePublic, PeerMessage } from '../../src/core/types.js';
import type { DesiredKernelState } from '../../src/core/kernel-types.js';

/** One public port in the model: admin state, carrier, and whether its path to the LAN works (false: a silent failure). */
export interface PortWorld { up: boolean; lowerUp: boolean; reachesGateway: boolean }

export interface SimNode {
  name: string;
  cfg: CoreConfig;
  core: HanetNode;
  alive: boolean;
  desired?: DesiredKernelState;
  announces: Array<{ at: number; iface: string; addresses: string[] }>;
  flushes: string[];
  events: CoreLogEvent[];
  sent: Array<{ at: number; link: string; msg: PeerMessage }>;
  ports: Map<string, PortWorld>;
  /** While set, this node's kernel reconciles fail with this error (reported back to its core). */
  kernelError?: string;
  /** What the core asked to probe, per interface. */
  probeTargets: Map<string, string[]>;
  /** The link monitor's miss counting, per interface. */
  counters: Map<string, ProbeCounter>;
}

export const defaults = (node: string, publics: CorePublic[], privates: CorePrivate[], over: Partial<CoreConfig['takeover']> = {}): CoreConfig => ({
  node,
  publics,
  privates,
  heartbeat: { intervalMs: 20, timeoutMs: 200 },
  takeover: { leaseMs: 3000, failbackHoldMs: 1000, garpCount: 3, garpIntervalMs: 50, releaseLingerMs: 2000, canHelp: true, ...over },
});

export const pub = (iface: string, address: string, over: Partial<CorePublic> = {}): CorePublic => ({
  iface, lan: 'lan0', addresses: [{ address, prefixLen: 24 }], gateways: ['10.0.0.1'], defaultRoute: true, arp: true, arpIntervalMs: 10, arpMisses: 3, ...over,
});

export const priv = (name: string, iface: string, peer: string, localAddress: string, peerAddress: string, cost = 10): CorePrivate => ({
  name, kind: 'ethernet', iface, peer, localAddress, peerAddress, cost,
});

export class Sim {
  now = 0;
  readonly nodes = new Map<string, SimNode>();
  /** private link wiring: `${node}/${link}` -> peer node + its link name, and whether the cable is up */
  private readonly wires = new Map<string, { node: string; link: string; up: boolean; silent?: boolean }>();
  private readonly queue: Array<{ to: string; ev: CoreEvent }> = [];
  lastProbe = new Map<string, number>();
  private readonly lastCarrier = new Map<string, boolean>();
  /** The LAN's gateway answers probes (false: a gateway outage). */
  gatewayUp = true;
  /** messages dropped on the way (for forged/lost message tests) */
  dropFilter: ((from: string, to: string, msg: PeerMessage) => boolean) | undefined;

  add(cfg: CoreConfig, opts: { leftovers?: Extract<CoreEvent, { type: 'start' }>['leftovers'] } = {}): SimNode {
    const old = this.nodes.get(cfg.node);
    const n: SimNode = {
      name: cfg.node, cfg, core: new HanetNode(cfg, `s${this.nodes.size}${this.now}`), alive: true,
      announces: [], events: [], sent: [], flushes: [], probeTargets: new Map(), counters: new Map(cfg.publics.map((p) => [p.iface, new ProbeCounter()])),
      ports: old?.ports ?? new Map(cfg.publics.map((p) => [p.iface, { up: true, lowerUp: true, reachesGateway: true }])),
    };
    this.nodes.set(cfg.node, n);
    this.apply(n, n.core.handle({ type: 'start', at: this.now, leftovers: opts.leftovers }));
    return n;
  }

  wire(a: string, aLink: string, b: string, bLink: string): void {
    this.wires.set(`${a}/${aLink}`, { node: b, link: bLink, up: true });
    this.wires.set(`${b}/${bLink}`, { node: a, link: aLink, up: true });
  }

  setWire(a: string, aLink: string, up: boolean): void {
    const w = this.wires.get(`${a}/${aLink}`)!;
    w.up = up;
    this.wires.get(`${w.node}/${w.link}`)!.up = up;
  }

  /** A silent private link: carrier stays up, every message is lost (both ways, or only from `a` when `oneWay`). */
  silence(a: string, aLink: string, silent: boolean, opts: { oneWay?: boolean } = {}): void {
    const w = this.wires.get(`${a}/${aLink}`)!;
    w.silent = silent;
    if (!opts.oneWay) this.wires.get(`${w.node}/${w.link}`)!.silent = silent;
  }

  port(node: string, iface: string, s: Partial<PortWorld>): void {
    Object.assign(this.nodes.get(node)!.ports.get(iface)!, s);
  }

  /** The daemon dies: its core stops; kernel state (desired) stays as it was. */
  kill(node: string): void {
    this.nodes.get(node)!.alive = false;
  }

  node(name: string): SimNode {
    return this.nodes.get(name)!;
  }

  private apply(n: SimNode, effects: CoreEffect[]): void {
    for (const e of effects) {
      switch (e.kind) {
        case 'kernel': {
          // The daemon reconciles, then reports the generation applied (or the failure) back to the core.
          const err = n.kernelError;
          if (err === undefined) n.desired = e.desired;
          this.queue.push({ to: n.name, ev: err === undefined ? { type: 'kernel-applied', at: this.now, gen: e.gen, ok: true } : { type: 'kernel-applied', at: this.now, gen: e.gen, ok: false, error: err } });
          break;
        }
        case 'announce': {
          n.announces.push({ at: this.now, iface: e.iface, addresses: e.addresses });
          // Gratuitous ARP is broadcast on the LAN: every other node whose port there works sees it.
          const from = n.cfg.publics.find((p) => p.iface === e.iface);
          if (!from || !this.works(n.ports.get(e.iface)!)) break;
          for (const m of this.nodes.values()) {
            if (m === n || !m.alive) continue;
            for (const q of m.cfg.publics) {
              if (q.lan !== from.lan || !this.works(m.ports.get(q.iface)!)) continue;
              for (const address of e.addresses) this.queue.push({ to: m.name, ev: { type: 'announcement', at: this.now, iface: q.iface, address } });
            }
          }
          break;
        }
        case 'flush-neighbors': n.flushes.push(e.iface); break;
        case 'probe-targets': n.probeTargets.set(e.iface, e.targets); n.counters.get(e.iface)?.setTargets(e.targets); break;
        case 'event': n.events.push(e.event); break;
        case 'send': {
          n.sent.push({ at: this.now, link: e.link, msg: e.msg });
          const w = this.wires.get(`${n.name}/${e.link}`);
          if (!w || !w.up || w.silent) break;
          if (this.dropFilter?.(n.name, w.node, e.msg)) break;
          this.queue.push({ to: w.node, ev: { type: 'message', at: this.now, link: w.link, from: n.name, msg: e.msg } });
          break;
        }
      }
    }
  }

  deliver(to: string, ev: CoreEvent): void {
    const n = this.nodes.get(to)!;
    if (!n.alive) return;
    this.apply(n, n.core.handle(ev));
    this.flush();
  }

  private flush(): void {
    while (this.queue.length) {
      const { to, ev } = this.queue.shift()!;
      const n = this.nodes.get(to);
      if (!n || !n.alive) continue;
      this.apply(n, n.core.handle({ ...ev, at: this.now }));
    }
  }

  /** Advances fake time in steps of `step` ms, feeding each live node its observations. */
  advance(ms: number, step = 5): void {
    const end = this.now + ms;
    while (this.now < end) {
      this.now += step;
      for (const n of this.nodes.values()) {
        if (!n.alive) continue;
        for (const p of n.cfg.publics) {
          const w = n.ports.get(p.iface)!;
          const counter = n.counters.get(p.iface)!;
          const k = `${n.name}/${p.iface}`;
          const carrierOk = w.up && w.lowerUp;
          if (this.lastCarrier.get(k) !== carrierOk) counter.reset(); // the monitor restarts counting on a carrier change
          this.lastCarrier.set(k, carrierOk);
          this.apply(n, n.core.handle({ type: 'carrier', at: this.now, iface: p.iface, up: w.up, lowerUp: w.lowerUp }));
          if (p.arp && this.now - (this.lastProbe.get(k) ?? -Infinity) >= p.arpIntervalMs) {
            this.lastProbe.set(k, this.now);
            // One probe round is one batch, as the link monitor delivers it.
            const round: CoreEvent[] = counter.sent(this.now).map((st) => ({ type: 'probe-status', at: this.now, iface: p.iface, ...st }));
            for (const target of n.probeTargets.get(p.iface) ?? []) {
              if (!this.answers(w, target, p.gateways)) continue;
              const st = counter.replied(target, this.now);
              if (st) round.push({ type: 'probe-status', at: this.now, iface: p.iface, ...st });
            }
            if (round.length) this.apply(n, n.core.handleAll(round));
          }
        }
        for (const l of n.cfg.privates) {
          const w = this.wires.get(`${n.name}/${l.name}`);
          this.apply(n, n.core.handle({ type: 'link-carrier', at: this.now, link: l.name, up: w?.up ?? false }));
        }
        this.apply(n, n.core.handle({ type: 'tick', at: this.now }));
        this.flush();
      }
    }
  }

  /** Does `target` answer a probe sent from port `w`: the gateway if it is up, a peer's address if that port works? */
  private works(x: PortWorld): boolean { return x.up && x.lowerUp && x.reachesGateway; }

  private answers(w: PortWorld, target: string, gateways: string[]): boolean {
    const works = (x: PortWorld) => this.works(x);
    if (!works(w)) return false;
    if (gateways.includes(target)) return this.gatewayUp;
    for (const m of this.nodes.values()) {
      const q = m.cfg.publics.find((pp) => pp.addresses.some((a) => a.address === target));
      if (q) return m.alive !== undefined && works(m.ports.get(q.iface)!);
    }
    return false;
  }

  /** Lines like `route 0.0.0.0/1 via 192.168.100.2 dev eth1 src 10.0.0.11` for readable assertions. */
  kernelText(node: string): string[] {
    const d = this.nodes.get(node)!.desired;
    if (!d) return [];
    return [
      ...d.addresses.map((a) => `addr ${a.address}/${a.prefixLen} dev ${a.ifname}`),
      ...d.routes.map((r) => `route ${r.dst}/${r.dstLen}${r.via ? ` via ${r.via}` : ''} dev ${r.ifname}${r.src ? ` src ${r.src}` : ''}${r.metric ? ` metric ${r.metric}` : ''}`),
      ...d.proxies.map((p) => `proxy ${p.address} dev ${p.ifname}`),
    ].sort();
  }
}

/** The embedded `pair` lab as core configs: a and b on lan0, private link ab (192.168.100.0/30). */
export function pairSim(over: Partial<CoreConfig['takeover']> = {}): Sim {
  const sim = new Sim();
  sim.add(defaults('a', [pub('eth0', '10.0.0.11')], [priv('ab', 'eth1', 'b', '192.168.100.1', '192.168.100.2')], over));
  sim.add(defaults('b', [pub('eth0', '10.0.0.12')], [priv('ab', 'eth1', 'a', '192.168.100.2', '192.168.100.1')], over));
  sim.wire('a', 'ab', 'b', 'ab');
  return sim;
}
