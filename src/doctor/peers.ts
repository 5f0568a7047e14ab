// Doctor: does each configured peer answer on its private link? Ethernet links: an ARP probe from the link's
// interface for the peer's address — the peer's kernel answers whether or not hanet runs there, and nothing is
// sent to the peer's daemon. Serial links: the device exists (a line's far end answers only through its daemon).
// UDP links: the local underlay address exists and the kernel has a route to the remote (a UDP connect, no packet
// sent: the peer's daemon would only count an unauthenticated probe as rejected).
import { statSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { ipFamily } from '../core/ip.js';
import { openArp } from '../os/linux/arp.js';
import type { PrivateLinkConfig } from '../config/schema.js';
import { block, ok, type Finding } from './types.js';

export type PeerResult =
  | { kind: 'answered'; rttMs: number }
  | { kind: 'silent' }
  | { kind: 'present' }
  | { kind: 'error'; error: string };

export interface PeerFacts { link: PrivateLinkConfig; result: PeerResult }

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** ARP-probes `peer` on `iface` up to `tries` times, `gapMs` apart; resolves with the first reply's RTT. */
export async function arpAnswers(iface: string, peer: string, tries = 3, gapMs = 300): Promise<PeerResult> {
  let sock;
  try { sock = openArp(iface); } catch (e) { return { kind: 'error', error: message(e) }; }
  const s = sock;
  try {
    return await new Promise<PeerResult>((resolve) => {
      let t0 = performance.now();
      let sent = 0;
      let timer: NodeJS.Timeout | undefined;
      const off = s.onReply((r) => {
        if (r.senderIp !== peer) return;
        clearTimeout(timer);
        off();
        resolve({ kind: 'answered', rttMs: r.atMs - t0 });
      });
      const next = (): void => {
        if (sent === tries) { off(); resolve({ kind: 'silent' }); return; }
        sent++;
        t0 = performance.now();
        try { s.sendProbe(peer); } catch (e) { off(); resolve({ kind: 'error', error: message(e) }); return; }
        timer = setTimeout(next, gapMs);
      };
      next();
    });
  } finally {
    s.close();
  }
}

function udpPath(local: { address: string }, remote: { host: string; port: number }): Promise<PeerResult> {
  return new Promise((resolve) => {
    const sock = createSocket(ipFamily(local.address) === 6 ? 'udp6' : 'udp4');
    const done = (r: PeerResult): void => { sock.close(); resolve(r); };
    sock.once('error', (e) => done({ kind: 'error', error: message(e) }));
    sock.bind(0, local.address, () => {
      sock.connect(remote.port, remote.host, (err?: Error) => done(err ? { kind: 'error', error: `no route from ${local.address} to ${remote.host}: ${message(err)}` } : { kind: 'present' }));
    });
  });
}

export async function readPeerFacts(links: PrivateLinkConfig[]): Promise<PeerFacts[]> {
  const out: PeerFacts[] = [];
  for (const link of links) {
    let result: PeerResult;
    if (link.kind === 'ethernet') result = await arpAnswers(link.interface, link.peerAddress);
    else if (link.kind === 'serial') {
      try {
        result = statSync(link.device).isCharacterDevice() ? { kind: 'present' } : { kind: 'error', error: `${link.device} is not a character device` };
      } catch (e) { result = { kind: 'error', error: `${link.device}: ${(e as NodeJS.ErrnoException).code ?? message(e)}` }; }
    } else result = await udpPath(link.local, link.remote);
    out.push({ link, result });
  }
  return out;
}

/** Pure: one finding per private link. */
export function peerFindings(facts: PeerFacts[]): Finding[] {
  return facts.map(({ link, result }) => {
    const what = `peer ${link.peer} on ${link.kind} link ${link.name}`;
    switch (result.kind) {
      case 'answered':
        return ok('peer', `${what} answers ARP for ${link.peerAddress} on ${link.interface} (${result.rttMs.toFixed(1)} ms)`, link.name);
      case 'present':
        return ok('peer', link.kind === 'serial' ? `${link.device} is there (not probed: a serial peer answers only through its daemon; hanet status shows its heartbeats)`
          : `${what}: the underlay has a route to the remote (not probed: the peer's daemon drops unauthenticated packets; hanet status shows its heartbeats)`, link.name);
      case 'silent':
        return block('peer', `${what} does not answer ARP for ${link.peerAddress} on ${link.interface}: no takeover can reach it`,
          `check the cable or switch of ${link.interface}, that ${link.peer} has ${link.peerAddress} on its end and that the link is up on both nodes`, link.name);
      case 'error':
        return block('peer', `${what}: ${result.error}`, link.kind === 'serial' ? 'check the device path and that the adapter is plugged in' : link.kind === 'udp' ? 'check local and remote of the udp link and the underlay routes' : `check that ${link.interface} exists and hanet doctor runs as root`, link.name);
    }
  });
}
