// The chaos run's invariant watcher: every ~10 ms it reads, in every server, hanet's proxy entries, routes and the
// addresses, and in the router and the LAN host their ARP caches (one long-lived `ip -batch` per namespace,
// sampler.ts), judges the sample (model.ts) against the lab's fault record, and sums double answering, black holes
// and no-path time per address, keeping each episode with its times for the run's per-fault tables. Its own cost
// (the samplers' CPU and its own) is measured and reported.
import { readFileSync } from 'node:fs';
import type { LabHandle } from '../handle.js';
import { nsName } from '../plan.js';
import { privateLinks } from '../faults.js';
import { serverPorts } from '../topology.js';
import { NsSampler, type SampleResult } from './sampler.js';
import { WatchModel, type AddressVerdict, type ArpEntry, type Conditions, type ServerReading, type WatchTopology } from './model.js';

export { WatchModel, type AddressVerdict, type Conditions, type WatchTopology } from './model.js';

/** CLOCK_MONOTONIC in ms, the same clock in every process (the workload's origin_hrtime_ns is on it too). */
export const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export type EpisodeKind = 'double' | 'stale' | 'black-hole' | 'no-path';

export interface Episode {
  kind: EpisodeKind;
  address: string;
  /** The viewer (black hole, no path) or '' (double answering). */
  viewer: string;
  start: number;
  end: number;
  /** Who answered (double), where the viewer's ARP entry pointed (black hole). */
  detail: string;
}

export interface WatchSummary {
  samples: number;
  durationMs: number;
  intervalMs: { target: number; mean: number; p99: number; max: number };
  doubleAnswerMs: number;
  doubleAnswerOverTimeoutMs: number;
  /** A down daemon's kernel answering alongside another server (not double answering: see model.ts). */
  staleAnswerMs: number;
  blackHoleMs: number;
  noPathMs: number;
  /** CPU of the samplers (ip processes) and of this process while watching, as % of one core. */
  cost: { samplersCpuPct: number; watcherProcessCpuPct: number };
  episodes: Episode[];
}

export interface WatcherOptions {
  intervalMs?: number;
  /** Double answering beyond this is summed apart (the heartbeat timeout). */
  timeoutMs: number;
  /** Viewers: nodes whose ARP caches are read, with their LAN port; default: routers and clients on the servers' switch. */
  viewers?: Array<{ node: string; port: string }>;
}

const cpuTicksOf = (pid: number | undefined): number => {
  if (pid === undefined) return 0;
  try {
    const rest = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(rest[11]) + Number(rest[12]); // utime + stime (fields 14, 15), clock ticks (100 Hz)
  } catch { return 0; }
};

/** The watch topology of a lab: servers' public ports with their MACs (read now), private links, viewers. */
export async function watchTopology(lab: LabHandle, viewers?: Array<{ node: string; port: string }>): Promise<WatchTopology> {
  const t = lab.topology;
  const servers = await Promise.all(Object.entries(t.nodes).filter(([, n]) => n.role === 'server').map(async ([node]) => {
    const links = JSON.parse((await lab.exec(node, ['ip', '-j', 'link', 'show'], { check: true })).stdout) as Array<{ ifname: string; address?: string }>;
    const publics = serverPorts(t, node).public.map((p) => ({
      port: p.port, mac: links.find((l) => l.ifname === p.port)?.address ?? '', addresses: p.addresses.map((a) => a.split('/')[0]!),
    }));
    return { node, publics };
  }));
  const links = privateLinks(t).map((l) => ({ id: l.id, ends: [{ node: l.ends[0].node, iface: l.ends[0].port }, { node: l.ends[1].node, iface: l.ends[1].port }] as WatchTopology['links'][number]['ends'] }));
  let v = viewers;
  if (!v) {
    const switches = new Set(servers.flatMap((s) => serverPorts(t, s.node).public.map((p) => p.switch).filter((x): x is string => x !== undefined)));
    v = Object.entries(t.nodes).filter(([, n]) => n.role === 'router' || n.role === 'client')
      .flatMap(([node, n]) => n.ports.filter((p) => p.switch !== undefined && switches.has(p.switch)).map((p) => ({ node, port: p.name })));
  }
  return { servers, links, viewers: v };
}

const SERVER_CMDS = ['neigh show proxy', 'route show table all proto 78', 'addr show'];
const VIEWER_CMDS = ['neigh show'];

export class Watcher {
  readonly model: WatchModel;
  private readonly samplers = new Map<string, NsSampler>();
  private readonly servers = new Map<string, ServerReading>();
  private readonly arp = new Map<string, Map<string, ArpEntry>>();
  private readonly open = new Map<string, Episode>();
  private readonly episodes: Episode[] = [];
  private readonly gaps: number[] = [];
  private timer: NodeJS.Timeout | undefined;
  private ticking = false;
  private last: number | undefined;
  private startedAt = 0;
  private cpu0 = { proc: process.cpuUsage(), ticks: 0 };
  private sums = { double: 0, over: 0, stale: 0, black: 0, noPath: 0, samples: 0 };
  private latest: AddressVerdict[] = [];
  private readonly listeners = new Set<(v: AddressVerdict[], at: number) => void>();

  constructor(private readonly lab: LabHandle, topo: WatchTopology, private readonly cond: Conditions, private readonly o: WatcherOptions) {
    this.model = new WatchModel(topo);
    for (const s of topo.servers) this.samplers.set(s.node, new NsSampler(nsName(lab.name, s.node), true));
    for (const v of topo.viewers) this.samplers.set(v.node, new NsSampler(nsName(lab.name, v.node), false));
  }

  private samplerTicks(): number {
    let n = 0;
    for (const s of this.samplers.values()) n += cpuTicksOf(s.pid);
    return n;
  }

  start(): void {
    this.startedAt = monoMs();
    this.cpu0 = { proc: process.cpuUsage(), ticks: this.samplerTicks() };
    this.timer = setInterval(() => void this.tick(), this.o.intervalMs ?? 10);
  }

  /** The verdicts of the latest sample. */
  verdicts(): AddressVerdict[] { return this.latest; }

  /** Called after every sample (e.g. the runner waiting for the cluster to settle). */
  onSample(cb: (v: AddressVerdict[], at: number) => void): () => void {
    this.listeners.add(cb);
    return () => this.listeners.delete(cb);
  }

  private read(node: string, r: SampleResult | undefined, server: boolean): void {
    if (!r) return;
    if (server) {
      const [proxies, routes, addrs] = r.outputs as [Array<{ dst: string; dev: string }>, Array<{ dst: string; dev: string; prefsrc?: string }>, Array<{ ifname: string; addr_info?: Array<{ local: string }> }>];
      this.servers.set(node, {
        proxies: proxies ?? [], routes: routes ?? [],
        addrs: new Map((addrs ?? []).map((a) => [a.ifname, (a.addr_info ?? []).map((i) => i.local)])),
      });
    } else {
      const [neigh] = r.outputs as [Array<{ dst: string; lladdr?: string; state?: string[] }>];
      this.arp.set(node, new Map((neigh ?? []).map((e) => [e.dst, { ...(e.lladdr !== undefined ? { lladdr: e.lladdr } : {}), state: e.state ?? [] }])));
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking) return; // a slow sample is not stacked on another
    this.ticking = true;
    try {
      const jobs = [...this.samplers].map(async ([node, s]) => {
        const server = this.servers.has(node) || this.model.topo.servers.some((x) => x.node === node);
        this.read(node, await s.sample(server ? SERVER_CMDS : VIEWER_CMDS), server);
      });
      await Promise.all(jobs);
      if (!this.timer) return;
      const now = monoMs();
      const v = this.model.evaluate(this.cond, this.servers, this.arp);
      this.account(v, now);
      this.latest = v;
      for (const l of this.listeners) l(v, now);
    } finally {
      this.ticking = false;
    }
  }

  /** Sums the time since the previous sample under the previous verdicts' states, and opens/closes episodes. */
  private account(v: AddressVerdict[], now: number): void {
    const dt = this.last === undefined ? 0 : now - this.last;
    if (this.last !== undefined) this.gaps.push(dt);
    this.last = now;
    this.sums.samples++;
    for (const a of this.latest) {
      if (a.answerers.length > 1) this.sums.double += dt;
      if (a.staleAnswerers.length > 0 && a.answerers.length + a.staleAnswerers.length > 1) this.sums.stale += dt;
      for (const [viewer, p] of Object.entries(a.path)) {
        if (!p) this.sums.noPath += dt;
        else if (!a.delivers[viewer]) this.sums.black += dt;
      }
    }
    for (const a of v) {
      this.mark('double', a.address, '', a.answerers.length > 1, now, a.answerers.join('+'));
      this.mark('stale', a.address, '', a.staleAnswerers.length > 0 && a.answerers.length + a.staleAnswerers.length > 1, now, [...a.answerers, ...a.staleAnswerers.map((n) => `${n}(down)`)].join('+'));
      for (const [viewer, p] of Object.entries(a.path)) {
        this.mark('no-path', a.address, viewer, !p, now, '');
        this.mark('black-hole', a.address, viewer, p && !a.delivers[viewer], now, `arp->${a.arpPointsAt[viewer] ?? 'none'}`);
      }
    }
  }

  private mark(kind: EpisodeKind, address: string, viewer: string, on: boolean, now: number, detail: string): void {
    const key = `${kind}/${address}/${viewer}`;
    const ep = this.open.get(key);
    if (on && !ep) this.open.set(key, { kind, address, viewer, start: now, end: now, detail });
    else if (on && ep) { ep.end = now; if (!ep.detail.includes(detail)) ep.detail = `${ep.detail},${detail}`; }
    else if (!on && ep) {
      ep.end = now;
      this.open.delete(key);
      this.close(ep);
    }
  }

  private close(ep: Episode): void {
    if (ep.kind === 'double') this.sums.over += Math.max(0, ep.end - ep.start - this.o.timeoutMs);
    this.episodes.push(ep);
  }

  async stop(): Promise<WatchSummary> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    while (this.ticking) await new Promise((r) => setTimeout(r, 5));
    const end = monoMs();
    for (const ep of this.open.values()) { ep.end = end; this.close(ep); }
    this.open.clear();
    const dur = end - this.startedAt;
    const ticks = this.samplerTicks() - this.cpu0.ticks;
    const proc = process.cpuUsage(this.cpu0.proc);
    for (const s of this.samplers.values()) s.close();
    const sorted = [...this.gaps].sort((a, b) => a - b);
    const r2 = (x: number) => Math.round(x * 100) / 100;
    return {
      samples: this.sums.samples,
      durationMs: Math.round(dur),
      intervalMs: { target: this.o.intervalMs ?? 10, mean: r2(dur / Math.max(1, this.sums.samples)), p99: r2(sorted[Math.floor(sorted.length * 0.99)] ?? 0), max: r2(sorted[sorted.length - 1] ?? 0) },
      doubleAnswerMs: Math.round(this.sums.double),
      doubleAnswerOverTimeoutMs: Math.round(this.sums.over),
      staleAnswerMs: Math.round(this.sums.stale),
      blackHoleMs: Math.round(this.sums.black),
      noPathMs: Math.round(this.sums.noPath),
      cost: { samplersCpuPct: r2((ticks * 10 / dur) * 100), watcherProcessCpuPct: r2(((proc.user + proc.system) / 1000 / dur) * 100) },
      episodes: this.episodes.sort((a, b) => a.start - b.start),
    };
  }
}
