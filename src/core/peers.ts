// The peer table: per private link, the peer's liveness (heartbeats within the link's timeout, carrier of the
// link's interface) and what the peer last reported (its LANs' health, whether it can help). Pure.
import type { HeartbeatMessage, LanReport } from './messages.js';
import type { Out } from './out.js';
import type { CoreConfig, CorePrivate, HeartbeatSettings } from './types.js';

export interface PeerView {
  readonly cfg: CorePrivate;
  lastHbAt: number | undefined;
  carrierUp: boolean;
  /** What the peer reported of its LANs in its last heartbeat. */
  lans: Record<string, LanReport>;
  canHelp: boolean;
  /** Owners the peer reported helping in its last heartbeat. */
  helping: string[];
  /** The peer's IPv6 address on this link (its link-local), from its heartbeats: our IPv6 next hop toward it. */
  link6?: string;
  alive: boolean;
  lastHbSentAt: number;
}

/** The heartbeat settings of a link: its own (a slow serial line) or the global ones. The one place they are chosen. */
export function heartbeatOf(cfg: Pick<CoreConfig, 'heartbeat' | 'privates'>, link: string): HeartbeatSettings {
  return cfg.privates.find((l) => l.name === link)?.heartbeat ?? cfg.heartbeat;
}

export class PeerTable {
  private readonly links = new Map<string, PeerView>();

  constructor(private readonly cfg: CoreConfig, private readonly out: Out) {
    for (const l of cfg.privates) {
      this.links.set(l.name, { cfg: l, lastHbAt: undefined, carrierUp: true, lans: {}, canHelp: false, helping: [], alive: false, lastHbSentAt: -Infinity });
    }
  }

  get(link: string): PeerView | undefined {
    return this.links.get(link);
  }

  all(): PeerView[] {
    return [...this.links.values()];
  }

  heartbeat(link: string): HeartbeatSettings {
    return heartbeatOf(this.cfg, link);
  }

  /** The link's own interface lost or regained carrier (a failed read changes nothing). */
  linkCarrier(link: string, up: boolean): void {
    const l = this.links.get(link);
    if (l) l.carrierUp = up;
  }

  heartbeatFrom(link: string, msg: HeartbeatMessage, now: number): void {
    const l = this.links.get(link);
    if (!l) return;
    l.lastHbAt = now;
    l.lans = msg.lans;
    l.canHelp = msg.canHelp;
    l.helping = msg.helping;
    if (msg.link6 !== undefined) l.link6 = msg.link6;
  }

  /** The alive peer (other than `except`) that reports `address` as its own on `lan`, if any. */
  ownerOf(lan: string, address: string, except: string): string | undefined {
    return this.all().find((l) => l.alive && l.cfg.peer !== except && l.lans[lan]?.addresses?.includes(address))?.cfg.peer;
  }

  /** This process stalled for `ms`: heartbeats it could not read in that time do not count as missed. */
  shift(ms: number): void {
    for (const l of this.links.values()) if (l.lastHbAt !== undefined) l.lastHbAt += ms;
  }

  /** Does an alive peer other than `except` report helping `owner`? */
  someoneElseHelps(owner: string, except: string): boolean {
    return this.all().some((l) => l.alive && l.cfg.peer !== except && l.cfg.peer !== owner && l.helping.includes(owner));
  }

  /** Liveness transitions, as peer-up/peer-down events. */
  evaluate(now: number): void {
    for (const l of this.links.values()) {
      const alive = l.carrierUp && l.lastHbAt !== undefined && now - l.lastHbAt <= this.heartbeat(l.cfg.name).timeoutMs;
      if (alive !== l.alive) {
        l.alive = alive;
        this.out.event(alive ? 'peer-up' : 'peer-down', { link: l.cfg.name, peer: l.cfg.peer });
      }
    }
  }

  /** Has every peer been heard from at least once? */
  allHeard(): boolean {
    return [...this.links.values()].every((l) => l.lastHbAt !== undefined);
  }

  /**
   * Links whose peer could carry `lan` for us now: alive, willing, its port on that LAN healthy; `excluded` links
   * (e.g. a recent refusal) left out. Ordered by cost, then peer name, then link name: every owner decides alike.
   */
  candidates(lan: string, excluded: (link: string) => boolean): PeerView[] {
    return [...this.links.values()]
      .filter((l) => l.alive && l.canHelp && l.lans[lan]?.healthy === true && !excluded(l.cfg.name))
      .sort((x, y) => x.cfg.cost - y.cfg.cost || cmp(x.cfg.peer, y.cfg.peer) || cmp(x.cfg.name, y.cfg.name));
  }

  /**
   * Service addresses of alive peers on `lan` whose port there works, cheapest link first, at most `max` peers: what
   * this node probes besides the gateway, to tell its own port's failure from the gateway's.
   */
  probeTargets(lan: string, max: number): string[] {
    return this.all()
      .filter((l) => l.alive && l.lans[lan]?.healthy === true && (l.lans[lan]?.addresses?.length ?? 0) > 0)
      .sort((x, y) => x.cfg.cost - y.cfg.cost || cmp(x.cfg.peer, y.cfg.peer))
      .filter((l, i, all) => all.findIndex((o) => o.cfg.peer === l.cfg.peer) === i)
      .slice(0, max)
      .map((l) => l.lans[lan]!.addresses![0]!);
  }

  /** Links whose heartbeat is due now (marked as sent). */
  dueHeartbeats(now: number): PeerView[] {
    const due = [...this.links.values()].filter((l) => now - l.lastHbSentAt >= this.heartbeat(l.cfg.name).intervalMs);
    for (const l of due) l.lastHbSentAt = now;
    return due;
  }

  status(now: number): Array<{ name: string; kind: string; peer: string; alive: boolean; carrierUp: boolean; lastHeartbeatAgoMs: number | null; peerLans: Record<string, LanReport> }> {
    return this.all().map((l) => ({
      name: l.cfg.name, kind: l.cfg.kind, peer: l.cfg.peer, alive: l.alive, carrierUp: l.carrierUp,
      lastHeartbeatAgoMs: l.lastHbAt === undefined ? null : now - l.lastHbAt, peerLans: l.lans,
    }));
  }
}

export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
