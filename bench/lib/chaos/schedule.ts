// The chaos run's schedule: a seeded PRNG draws K episodes from the fault mix (weights below), each with its target,
// its timing and, for some kinds, a takeover already going on when it strikes. Pure: the same seed and topology give
// the same schedule (unit-tested), so a run can be repeated from its seed.
export type FaultKind =
  | 'port-carrier' | 'port-silent' | 'port-admin' | 'port-flap' | 'gateway-down'
  | 'link-cut' | 'link-silent' | 'link-oneway' | 'serial-unplug'
  | 'daemon-kill9' | 'daemon-term' | 'daemon-stop-short' | 'daemon-stop-long'
  | 'helper-cascade' | 'two-at-once' | 'clock-step' | 'slow-start';

export interface FaultSpec { weight: number; what: string; takeoverShare: number }

/**
 * The mix: weight (relative frequency) and the share of episodes in which a takeover is already going on when the
 * fault strikes (an owner's public port failed and a helper carries it: the fault then hits the owner, the helper,
 * their link or a bystander). Process and link faults are worst during a takeover, so half of them come then.
 */
export const FAULT_MIX: Readonly<Record<FaultKind, FaultSpec>> = {
  'port-carrier': { weight: 8, what: "a server's public port loses carrier (the switch side goes down)", takeoverShare: 0 },
  'port-silent': { weight: 8, what: 'a public port goes silent: carrier up, off the switch', takeoverShare: 0 },
  'port-admin': { weight: 5, what: 'a public port is set down on the server', takeoverShare: 0 },
  'port-flap': { weight: 5, what: 'a public port flaps: 5 carrier changes within 1 s, then stays down until healed', takeoverShare: 0 },
  'gateway-down': { weight: 5, what: "the gateway's LAN port goes down: every server's probes fail at once (1 in 4 outlasts the request timeout)", takeoverShare: 0 },
  'link-cut': { weight: 6, what: 'a private link loses carrier (a veth end down; a udp link: its underlay port down)', takeoverShare: 0.5 },
  'link-silent': { weight: 6, what: 'a private link drops every packet both ways, carrier up (nftables netdev ingress drop)', takeoverShare: 0.5 },
  'link-oneway': { weight: 5, what: 'a private link drops every packet in one direction only', takeoverShare: 0.5 },
  'serial-unplug': { weight: 4, what: 'the serial line is unplugged: the relay hangs up (EOF) or goes silent', takeoverShare: 0.3 },
  'daemon-kill9': { weight: 6, what: 'a daemon is killed (SIGKILL) and restarted after 0-500 ms', takeoverShare: 0.5 },
  'daemon-term': { weight: 5, what: 'a daemon is stopped (SIGTERM, it cleans up) and restarted after 0-500 ms', takeoverShare: 0.5 },
  'daemon-stop-short': { weight: 5, what: 'a daemon is frozen (SIGSTOP) for 250 ms', takeoverShare: 0.5 },
  'daemon-stop-long': { weight: 4, what: 'a daemon is frozen for 3.5 s, longer than the 3 s lease', takeoverShare: 0.5 },
  'helper-cascade': { weight: 6, what: "an owner's port fails, then its helper fails while helping (its port, or its daemon killed)", takeoverShare: 1 },
  'two-at-once': { weight: 5, what: 'two servers\' public ports fail at the same moment', takeoverShare: 0 },
  'clock-step': { weight: 4, what: "one node's wall clock steps by +-40 s, and back 2-5 s later", takeoverShare: 0.5 },
  'slow-start': { weight: 3, what: 'a daemon restarts 3 s before its private links come up', takeoverShare: 0.3 },
};

export const FAULT_KINDS = Object.keys(FAULT_MIX) as FaultKind[];

export type PortMode = 'carrier' | 'silent' | 'admin';
export type Role = 'owner' | 'helper' | 'other';

/** What the schedule needs of the lab: servers, their public ports, the private links. */
export interface ChaosTopology {
  servers: Array<{ node: string; publics: string[] }>;
  links: Array<{ id: string; kind: 'veth' | 'serial' | 'udp'; ends: [string, string] }>;
}

export interface Episode {
  index: number;
  kind: FaultKind;
  /** Idle time before the episode starts (ms). */
  gapMs: number;
  /** A takeover under way first: this owner's first public port fails in this mode. */
  background?: { owner: string; mode: PortMode };
  /** Which party a fault during a takeover hits (resolved when the helper is known). */
  role?: Role;
  /** The node, `node:port` or link id the fault hits when no role decides it. */
  target: string;
  /** A second target (two-at-once: the other server's port; cascade: how the helper fails). */
  second?: string;
  mode?: PortMode | 'hangup' | 'silent' | 'port' | 'kill9';
  /** oneway: the end whose incoming packets are lost (0 or 1). */
  towards?: 0 | 1;
  /** clock-step: the offset (ms). */
  offsetMs?: number;
  /** How long the fault holds before it is healed (ms). */
  holdMs: number;
  /** kill9/term: how long the daemon stays down before the restart (ms). */
  downMs?: number;
}

/** mulberry32: a small, well-mixed 32-bit PRNG; the whole schedule comes from it. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function drawSchedule(seed: number, faults: number, topo: ChaosTopology, mix: Readonly<Record<FaultKind, FaultSpec>> = FAULT_MIX): Episode[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const between = (lo: number, hi: number): number => Math.round(lo + rnd() * (hi - lo));
  const total = FAULT_KINDS.reduce((s, k) => s + mix[k].weight, 0);
  const drawKind = (): FaultKind => {
    let x = rnd() * total;
    for (const k of FAULT_KINDS) { x -= mix[k].weight; if (x < 0) return k; }
    return FAULT_KINDS[FAULT_KINDS.length - 1]!;
  };
  const servers = topo.servers.map((s) => s.node);
  const portOf = (n: string): string => `${n}:${topo.servers.find((s) => s.node === n)!.publics[0]}`;
  const anyPort = (): string => { const s = pick(topo.servers); return `${s.node}:${pick(s.publics)}`; };
  const modes: PortMode[] = ['carrier', 'silent', 'admin'];
  const nonSerial = topo.links.filter((l) => l.kind !== 'serial');
  const serial = topo.links.filter((l) => l.kind === 'serial');
  const out: Episode[] = [];
  for (let index = 0; index < faults; index++) {
    let kind = drawKind();
    if (kind === 'serial-unplug' && serial.length === 0) kind = 'link-cut';
    const ep: Episode = { index, kind, gapMs: between(200, 1200), target: '', holdMs: between(500, 2500) };
    if (rnd() < mix[kind].takeoverShare) {
      ep.background = { owner: pick(servers), mode: pick(modes) };
      ep.role = kind === 'helper-cascade' ? 'helper' : pick(['owner', 'helper', 'helper', 'other'] as const);
    }
    switch (kind) {
      case 'port-carrier': case 'port-silent': case 'port-admin':
        ep.target = anyPort();
        ep.mode = kind === 'port-carrier' ? 'carrier' : kind === 'port-silent' ? 'silent' : 'admin';
        break;
      case 'port-flap': ep.target = anyPort(); break;
      case 'gateway-down': ep.holdMs = rnd() < 0.25 ? between(11_000, 13_000) : between(500, 3000); break;
      case 'link-cut': case 'link-silent': case 'link-oneway':
        ep.target = pick(kind === 'link-cut' ? topo.links.filter((l) => l.kind !== 'serial') : nonSerial).id;
        ep.towards = rnd() < 0.5 ? 0 : 1;
        break;
      case 'serial-unplug': ep.target = pick(serial).id; ep.mode = rnd() < 0.5 ? 'hangup' : 'silent'; break;
      case 'daemon-kill9': case 'daemon-term': ep.target = pick(servers); ep.downMs = between(0, 500); ep.holdMs = 0; break;
      case 'daemon-stop-short': ep.target = pick(servers); ep.holdMs = 250; break;
      case 'daemon-stop-long': ep.target = pick(servers); ep.holdMs = 3500; break;
      case 'helper-cascade': ep.target = pick(servers); ep.mode = rnd() < 0.5 ? 'port' : 'kill9'; ep.second = pick(modes); break;
      case 'two-at-once': {
        const [x, y] = [pick(servers), pick(servers)];
        const other = y !== x ? y : servers[(servers.indexOf(x) + 1) % servers.length]!;
        ep.target = portOf(x);
        ep.second = portOf(other);
        ep.mode = pick(modes);
        break;
      }
      case 'clock-step': ep.target = pick(servers); ep.offsetMs = rnd() < 0.5 ? 40_000 : -40_000; ep.holdMs = between(2000, 5000); break;
      case 'slow-start': ep.target = pick(servers); ep.holdMs = 3000; break;
    }
    if (ep.background && !ep.target) ep.target = ep.background.owner;
    out.push(ep);
  }
  return out;
}
