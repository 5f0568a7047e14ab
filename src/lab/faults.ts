// Fault injection on a lab's private links (the chaos run, issue #10; public ports: handle.ts fail/heal):
// cut (carrier: one end taken down, the other sees its carrier go), silent (carrier up, every packet dropped both
// ways) and one-way loss (dropped in one direction only) on Ethernet veth links; the same on udp links through their
// underlay ports; hangup and silent on serial lines through their relay. Drops are nftables netdev ingress chains
// with `policy drop` (this kernel has no netem and no tc drop action: /work/shared/KERNEL-FACTS.md), installed from
// Debian when missing. healAllLinks() undoes every private-link fault of the lab, records or not.
import { LabError } from './errors.js';
import type { LabHandle } from './handle.js';
import { ipBatch, run, type ExecResult } from './iproute.js';
import { nodeLines, nsName } from './plan.js';
import { parsePortRef, tunPorts, type LinkKind, type PortRef, type Topology } from './topology.js';

export type LinkFault = 'cut' | 'silent' | 'oneway';

/** A private link between two servers, as the chaos run names it: its ends, and for udp the ports that carry it. */
export interface PrivateLinkInfo {
  /** `a:eth2-b:eth1`: the ends as in the topology. */
  id: string;
  kind: LinkKind;
  ends: [PortRef, PortRef];
  underlay?: [PortRef, PortRef];
}

/** The links between two servers (veth between servers, serial, udp), in topology order. */
export function privateLinks(t: Topology): PrivateLinkInfo[] {
  const out: PrivateLinkInfo[] = [];
  for (const l of t.links) {
    const ends = l.ends.map((e) => parsePortRef(e)!) as [PortRef, PortRef];
    if (!ends.every((e) => t.nodes[e.node]?.role === 'server')) continue;
    const info: PrivateLinkInfo = { id: l.ends.join('-'), kind: l.kind, ends };
    if (l.underlay) info.underlay = l.underlay.map((e) => parsePortRef(e)!) as [PortRef, PortRef];
    out.push(info);
  }
  return out;
}

const NFT_TABLE_PREFIX = 'hnlab_';
const tableOf = (dev: string): string => `${NFT_TABLE_PREFIX}${dev.replace(/[^A-Za-z0-9_]/g, '_')}`;

let nftChecked: Promise<void> | undefined;
/** nft must be there for silent and one-way faults; installs Debian's nftables once if it is missing. */
export function ensureNft(): Promise<void> {
  nftChecked ??= (async () => {
    if ((await run('sh', ['-c', 'command -v nft']).catch(() => undefined))?.code === 0) return;
    const r = await run('sh', ['-c', 'DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nftables || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nftables)']);
    if (r.code !== 0) throw new LabError(`nftables is needed for silent and one-way link faults and could not be installed: ${r.stderr.trim()}`);
  })();
  return nftChecked;
}

async function nft(lab: LabHandle, node: string, script: string): Promise<ExecResult> {
  return lab.exec(node, ['nft', '-f', '-'], { input: script });
}

/** Drops every packet arriving on `node`'s `dev` (its ingress), carrier untouched. Idempotent. */
export async function dropIngress(lab: LabHandle, ref: PortRef): Promise<void> {
  await ensureNft();
  const t = tableOf(ref.port);
  // Re-creating the table resets it to exactly one drop chain.
  const r = await nft(lab, ref.node, `table netdev ${t}\ndelete table netdev ${t}\ntable netdev ${t} {\n  chain in {\n    type filter hook ingress device "${ref.port}" priority 0; policy drop;\n  }\n}\n`);
  if (r.code !== 0) throw new LabError(`nft on ${ref.node}:${ref.port}: ${r.stderr.trim()}`);
}

/** Removes the drop on `node`'s `dev`, if any. */
export async function passIngress(lab: LabHandle, ref: PortRef): Promise<void> {
  const t = tableOf(ref.port);
  await nft(lab, ref.node, `table netdev ${t}\ndelete table netdev ${t}\n`);
}

/** Takes a node's own port down (admin), or back up with its addresses and routes re-applied. */
async function portAdmin(lab: LabHandle, ref: PortRef, up: boolean): Promise<void> {
  const ns = nsName(lab.name, ref.node);
  if (!up) {
    await ipBatch(ns, [`link set ${ref.port} down`]);
    return;
  }
  const node = lab.topology.nodes[ref.node]!;
  // -force: routes of other ports that are still down may fail; this port's own lines are what matters.
  await ipBatch(ns, [`link set ${ref.port} up`, ...nodeLines(node, 'replace', ref.port, tunPorts(lab.topology, ref.node)).filter((l) => !l.startsWith('link set'))], { force: true });
}

function findLink(lab: LabHandle, id: string): PrivateLinkInfo {
  const all = privateLinks(lab.topology);
  const l = all.find((x) => x.id === id || x.ends.some((e) => `${e.node}:${e.port}` === id));
  if (!l) throw new LabError(`"${id}" is not a private link or one of its ends (links: ${all.map((x) => x.id).join(', ')})`);
  return l;
}

/**
 * Injects a fault on a private link (given by its id or either end). `cut`: the carrier goes (the end `at`, default
 * the second, is taken down; udp: that end's underlay port; serial: the relay hangs up). `silent`: carrier stays,
 * nothing passes either way. `oneway`: packets towards the end `at` (default the second) are lost, the other
 * direction passes (not on serial lines: their relay cuts both ways).
 */
export async function failLink(lab: LabHandle, id: string, fault: LinkFault, at: 0 | 1 = 1): Promise<void> {
  const l = findLink(lab, id);
  const end = l.ends[at];
  if (l.kind === 'serial') {
    if (fault === 'oneway') throw new LabError(`serial link ${l.id}: one-way loss is not supported (the relay cuts both ways)`);
    await lab.unplug(`${end.node}:${end.port}`, fault === 'cut' ? 'hangup' : 'silent');
    return;
  }
  const ports = l.kind === 'udp' ? l.underlay! : l.ends;
  if (fault === 'cut') await portAdmin(lab, ports[at], false);
  else if (fault === 'silent') await Promise.all(ports.map((p) => dropIngress(lab, p)));
  else await dropIngress(lab, ports[at]);
}

/** Undoes any fault on a private link (all kinds, so it also mends what a lost record left). */
export async function healLink(lab: LabHandle, id: string): Promise<void> {
  const l = findLink(lab, id);
  if (l.kind === 'serial') {
    await lab.plug(`${l.ends[0].node}:${l.ends[0].port}`);
    return;
  }
  const ports = l.kind === 'udp' ? l.underlay! : l.ends;
  await Promise.all(ports.map(async (p) => { await passIngress(lab, p); await portAdmin(lab, p, true); }));
}

/** Mends every private link of the lab. */
export async function healAllLinks(lab: LabHandle): Promise<void> {
  for (const l of privateLinks(lab.topology)) await healLink(lab, l.id);
}

/**
 * A node's private links down (`up` false) or back (`up` true): its own Ethernet ends and udp underlay ports taken
 * down, its serial lines unplugged (the chaos run's slow start: the daemon comes up before its links).
 */
export async function nodeLinks(lab: LabHandle, node: string, up: boolean): Promise<void> {
  for (const l of privateLinks(lab.topology)) {
    const i = l.ends.findIndex((e) => e.node === node);
    if (i < 0) continue;
    if (l.kind === 'serial') {
      if (up) await lab.plug(`${l.ends[i]!.node}:${l.ends[i]!.port}`);
      else await lab.unplug(`${l.ends[i]!.node}:${l.ends[i]!.port}`, 'hangup');
    } else {
      await portAdmin(lab, (l.kind === 'udp' ? l.underlay! : l.ends)[i]!, up);
    }
  }
}
