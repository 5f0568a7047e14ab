// The chaos watcher's judgement of one sample, pure: for each service address, which servers answer for it on the
// LAN, whether a working path to its owner exists, and whether the router and the LAN host would deliver to it now.
//
// Definitions (bench/CHAOS.md repeats them):
// - A server ANSWERS for address X when (a) it holds a proxy neighbour entry for X on a public port that works, or
//   (b) it is X's owner, X is on one of its public ports that works, and its routing does not steer its traffic
//   to a helper (no route of hanet's out of a private link: only a helped owner has those): a helped owner stays
//   silent on the LAN (its kernel answers ARP, but it does not announce, and it is not yet serving from its port).
//   Only a server whose hanet daemon is up (running, not frozen, ready since its last start) counts: a killed or
//   frozen daemon's kernel keeps answering with the state it had, which nothing on that server can change until
//   the daemon runs again (that time is summed apart as STALE answering).
//   DOUBLE ANSWERING: two or more servers answer for X at once.
// - A PATH to X exists (for a viewer: the router r, or the LAN host h) when the viewer's own LAN port works and
//   either X's owner has a working public port, or another server has a working public port and a private link to
//   the owner that works both ways. No path: nothing any HA software could do (e.g. the gateway's port is down).
// - The viewer DELIVERS to X when its ARP entry for X (any state with a MAC) names a working public port of a server
//   that is the owner, or that routes X over a private link that works towards the owner (a server without such a
//   route drops it: hanet's forwarding rules let through only a held claim's traffic); with no usable entry, when
//   some answering server would deliver.
//   And the owner's replies have a way back: through the helper its hanet routes point at (the link works that way
//   and the helper's public port works), or, with no such routes, out of a working public port of its own.
//   BLACK HOLE: a path exists but the viewer does not deliver.
export interface WatchServer {
  node: string;
  publics: Array<{ port: string; mac: string; addresses: string[] }>;
}

export interface WatchLink {
  id: string;
  ends: [{ node: string; iface: string }, { node: string; iface: string }];
}

export interface WatchTopology {
  servers: WatchServer[];
  links: WatchLink[];
  /** Nodes whose ARP cache is read, and their own LAN port (its failure means no path from them). */
  viewers: Array<{ node: string; port: string }>;
}

/** What the lab's faults make of ports and links right now (the chaos runner's record). */
export interface Conditions {
  portWorking(node: string, port: string): boolean;
  /** Packets from `from` towards the other end of link `id` arrive. */
  linkWorking(id: string, from: string): boolean;
  /** The node's hanet daemon is up (running, not frozen, ready since its last start). */
  daemonUp(node: string): boolean;
}

export interface ServerReading {
  proxies: Array<{ dst: string; dev: string }>;
  routes: Array<{ dst: string; dev: string; prefsrc?: string }>;
  /** Addresses per interface. */
  addrs: Map<string, string[]>;
}

export interface ArpEntry { lladdr?: string; state: string[] }

export interface AddressVerdict {
  address: string;
  owner: string;
  /** Servers answering whose daemon is up (double answering: two or more). */
  answerers: string[];
  /** Servers answering whose daemon is down: their kernels still answer (stale answering: with anyone else). */
  staleAnswerers: string[];
  /** Per viewer: a path exists. */
  path: Record<string, boolean>;
  /** Per viewer: the viewer delivers now. */
  delivers: Record<string, boolean>;
  /** Per viewer: the server its ARP entry points at (undefined: none usable). */
  arpPointsAt: Record<string, string | undefined>;
}

const hostOf = (dst: string): string => dst.replace(/\/32$/, '');

export class WatchModel {
  readonly addresses: Array<{ address: string; owner: string }> = [];
  private readonly macOwner = new Map<string, { node: string; port: string }>();
  private readonly linkByIface = new Map<string, { link: WatchLink; peer: string }>();

  constructor(readonly topo: WatchTopology) {
    for (const s of topo.servers) {
      for (const p of s.publics) {
        this.macOwner.set(p.mac.toLowerCase(), { node: s.node, port: p.port });
        for (const a of p.addresses) this.addresses.push({ address: a, owner: s.node });
      }
    }
    for (const l of topo.links) {
      this.linkByIface.set(`${l.ends[0].node}/${l.ends[0].iface}`, { link: l, peer: l.ends[1].node });
      this.linkByIface.set(`${l.ends[1].node}/${l.ends[1].iface}`, { link: l, peer: l.ends[0].node });
    }
  }

  private server(node: string): WatchServer { return this.topo.servers.find((s) => s.node === node)!; }

  private workingPublic(cond: Conditions, node: string): boolean {
    return this.server(node).publics.some((p) => cond.portWorking(node, p.port));
  }

  private linkBothWays(cond: Conditions, a: string, b: string): boolean {
    return this.topo.links.some((l) => {
      const ns = [l.ends[0].node, l.ends[1].node];
      return ns.includes(a) && ns.includes(b) && cond.linkWorking(l.id, a) && cond.linkWorking(l.id, b);
    });
  }

  /** The owner holds X on a working public port. */
  private ownerDirect(cond: Conditions, x: string, owner: string, r: ServerReading | undefined): boolean {
    if (!r) return false;
    return this.server(owner).publics.some((p) => cond.portWorking(owner, p.port) && (r.addrs.get(p.port) ?? []).includes(x));
  }

  /** A server routes X over a private link that works towards X's owner (a helper's /32 route). */
  private routesToOwner(cond: Conditions, node: string, x: string, owner: string, r: ServerReading | undefined): boolean {
    if (!r) return false;
    return r.routes.some((rt) => {
      if (hostOf(rt.dst) !== x) return false;
      const l = this.linkByIface.get(`${node}/${rt.dev}`);
      return l !== undefined && l.peer === owner && cond.linkWorking(l.link.id, node);
    });
  }

  evaluate(cond: Conditions, servers: ReadonlyMap<string, ServerReading>, arp: ReadonlyMap<string, ReadonlyMap<string, ArpEntry>>): AddressVerdict[] {
    const out: AddressVerdict[] = [];
    for (const { address: x, owner } of this.addresses) {
      const answering: string[] = [];
      const ownR = servers.get(owner);
      // The owner answers unless hanet steers its traffic through a private link (it is being helped).
      // (Its helper routes to others' addresses go out of private links too, but carry no source of its own.)
      const mine = this.addresses.filter((a) => a.owner === owner).map((a) => a.address);
      const steered = ownR?.routes.some((rt) => this.linkByIface.has(`${owner}/${rt.dev}`) && rt.prefsrc !== undefined && mine.includes(rt.prefsrc)) ?? false;

      if (!steered && this.ownerDirect(cond, x, owner, ownR)) answering.push(owner);
      for (const s of this.topo.servers) {
        if (s.node === owner) continue;
        const r = servers.get(s.node);
        if (r?.proxies.some((p) => hostOf(p.dst) === x && cond.portWorking(s.node, p.dev))) answering.push(s.node);
      }
      const answerers = answering.filter((n) => cond.daemonUp(n));
      const staleAnswerers = answering.filter((n) => !cond.daemonUp(n));
      const anyPath = this.workingPublic(cond, owner) ||
        this.topo.servers.some((s) => s.node !== owner && this.workingPublic(cond, s.node) && this.linkBothWays(cond, s.node, owner));
      const delivers = (s: string): boolean =>
        s === owner ? this.ownerDirect(cond, x, owner, ownR) : this.routesToOwner(cond, s, x, owner, servers.get(s));
      const steering = ownR?.routes.filter((rt) => this.linkByIface.has(`${owner}/${rt.dev}`) && rt.prefsrc !== undefined && mine.includes(rt.prefsrc)) ?? [];
      const replies = steering.length
        ? steering.every((rt) => { const l = this.linkByIface.get(`${owner}/${rt.dev}`)!; return cond.linkWorking(l.link.id, owner) && this.workingPublic(cond, l.peer); })
        : this.workingPublic(cond, owner);
      const v: AddressVerdict = { address: x, owner, answerers, staleAnswerers, path: {}, delivers: {}, arpPointsAt: {} };
      for (const viewer of this.topo.viewers) {
        const up = cond.portWorking(viewer.node, viewer.port);
        v.path[viewer.node] = up && anyPath;
        const e = arp.get(viewer.node)?.get(x);
        const usable = e?.lladdr !== undefined && !e.state.includes('FAILED') && !e.state.includes('INCOMPLETE');
        const at = usable ? this.macOwner.get(e.lladdr!.toLowerCase()) : undefined;
        v.arpPointsAt[viewer.node] = at?.node;
        let ok: boolean;
        if (!up) ok = false;
        else if (usable) {
          // An entry naming a MAC that is no server's public port (or a failed port) delivers nowhere.
          ok = at !== undefined && cond.portWorking(at.node, at.port) && delivers(at.node);
        } else {
          ok = answering.some((s) => delivers(s));
        }
        v.delivers[viewer.node] = ok && replies;
      }
      out.push(v);
    }
    return out;
  }
}
