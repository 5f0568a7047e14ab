// One public interface's neighbour protocols, by address family: ARP for IPv4, Neighbor Discovery for IPv6 — probes,
// announcements (gratuitous ARP / unsolicited NA), replies and other hosts' announcements, behind one shape so the
// daemon dispatches by the family of the address and handles both alike.
import { ipFamily, type Family } from '../core/ip.js';
import type { ArpAnnouncement, ArpReplyEvent, ArpSocket } from '../os/linux/arp.js';
import type { NdpSocket } from '../os/linux/ndp.js';

export interface NeighbourSocket {
  /** Gratuitous ARP / unsolicited NA: "`ip` is at this interface's MAC". */
  announce(ip: string): void;
  probe(target: string): void;
  onReply(cb: (r: ArpReplyEvent) => void): () => void;
  onAnnouncement(cb: (a: ArpAnnouncement) => void): () => void;
  drain(): void;
  close(): void;
  /** The interface's MAC (fakes may leave it out). */
  mac?(): string | undefined;
}

export const fromArp = (s: ArpSocket): NeighbourSocket => ({
  announce: (ip) => s.sendGratuitous(ip), probe: (t) => s.sendProbe(t), onReply: (cb) => s.onReply(cb), onAnnouncement: (cb) => s.onAnnouncement(cb),
  drain: () => s.drain(), close: () => s.close(), mac: () => s.mac?.(),
});

export const fromNdp = (s: NdpSocket): NeighbourSocket => ({
  announce: (ip) => s.sendUnsolicitedNa(ip), probe: (t) => s.sendProbe(t), onReply: (cb) => s.onReply(cb), onAnnouncement: (cb) => s.onAnnouncement(cb),
  drain: () => s.drain(), close: () => s.close(), mac: () => s.mac?.(),
});

/** The sockets of one interface, by family (a family the interface does not use has none). */
export class Neighbours {
  private readonly byFamily = new Map<Family, NeighbourSocket>();

  add(family: Family, s: NeighbourSocket): void { this.byFamily.set(family, s); }

  /** The socket for `ip`'s family, if the interface has one. */
  for(ip: string): NeighbourSocket | undefined {
    const f = ipFamily(ip);
    return f === undefined ? undefined : this.byFamily.get(f);
  }

  all(): NeighbourSocket[] { return [...this.byFamily.values()]; }

  drain(): void { for (const s of this.byFamily.values()) s.drain(); }
  close(): void { for (const s of this.byFamily.values()) s.close(); }
}
