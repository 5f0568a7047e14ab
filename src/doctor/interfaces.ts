// Doctor: the configured interfaces — present, carrier on the public ones, a driver that reports its state, and not
// a port of a bond or bridge — read through rtnetlink and /sys/class/net, judged purely (interfaceFindings).
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { NetlinkError, NetlinkSocket } from '../os/linux/netlink.js';
import { IFF_UP, RTEXT_FILTER_SKIP_STATS, RTM_GETLINK, encodeLink, type LinkMsg } from '../proto/netlink.js';
import { block, ok, warn, type Finding } from './types.js';

const IF_OPER_UNKNOWN = 0;
const ENODEV = 19;

export type MasterKind = 'bond' | 'bridge' | 'team' | 'other';

export interface IfaceFacts {
  name: string;
  /** undefined: no such interface in this network namespace. */
  link?: { up: boolean; carrier: boolean; operstate: number | undefined; kind: string | undefined };
  /** The device this one is a port of (bond, bridge, team), if any. */
  master?: { name: string; kind: MasterKind };
  /** This interface is itself a bond. */
  isBond: boolean;
}

/** How the configuration uses an interface. */
export interface IfaceRole {
  name: string;
  role: 'public' | 'private';
  /** Public: the silent-failure probe (ARP to the gateway) is on; a driver without carrier reporting needs it. */
  probes?: boolean;
}

function masterKind(sysNet: string, master: string): MasterKind {
  if (existsSync(`${sysNet}/${master}/bonding`)) return 'bond';
  if (existsSync(`${sysNet}/${master}/bridge`)) return 'bridge';
  if (existsSync(`${sysNet}/${master}/team`)) return 'team';
  return 'other';
}

/** Bond masters of this namespace (from /sys/class/net/X/bonding; right under `ip netns exec`, which remounts /sys). */
export function listBonds(sysNet = '/sys/class/net'): string[] {
  try { return readdirSync(sysNet).filter((n) => existsSync(`${sysNet}/${n}/bonding`)).sort(); } catch { return []; }
}

export async function readIfaceFacts(names: string[], sysNet = '/sys/class/net'): Promise<IfaceFacts[]> {
  if (names.length === 0) return [];
  const nl = NetlinkSocket.open();
  try {
    const out: IfaceFacts[] = [];
    for (const name of names) {
      const f: IfaceFacts = { name, isBond: existsSync(`${sysNet}/${name}/bonding`) };
      let msg: LinkMsg | undefined;
      try {
        const replies = await nl.request(RTM_GETLINK, 0, encodeLink({ family: 0, ifindex: 0, type: 0, flags: 0, change: 0, name, extMask: RTEXT_FILTER_SKIP_STATS }), { what: `get link ${name}` });
        for (const r of replies) if (r.kind === 'link') msg = r.msg;
      } catch (e) {
        if (!(e instanceof NetlinkError && e.errno === ENODEV)) throw e;
      }
      if (msg) f.link = { up: (msg.flags & IFF_UP) !== 0, carrier: msg.carrier ?? false, operstate: msg.operstate, kind: msg.kind };
      try {
        const m = basename(readlinkSync(`${sysNet}/${name}/master`));
        f.master = { name: m, kind: masterKind(sysNet, m) };
      } catch { /* not a port of anything */ }
      out.push(f);
    }
    return out;
  } finally {
    nl.close();
  }
}

/** Pure: findings for the configured interfaces (one role per interface name). */
export function interfaceFindings(roles: IfaceRole[], facts: IfaceFacts[]): Finding[] {
  const out: Finding[] = [];
  for (const r of roles) {
    const f = facts.find((x) => x.name === r.name);
    if (!f?.link) {
      out.push(block('interface', `${r.role} interface ${r.name} does not exist`, `fix the interface name in the configuration (ip link shows them), or create ${r.name}`, r.name));
      continue;
    }
    if (f.master) {
      out.push(block('enslaved', `${r.name} is a port of ${f.master.kind} ${f.master.name}: addresses, ARP and routes on a port bypass the ${f.master.kind}, which fights hanet over the same traffic`,
        `configure hanet on ${f.master.name} instead of ${r.name}`, r.name));
    } else if (f.isBond) {
      out.push(ok('enslaved', `${r.name} is a bond: hanet acts on the bond, the bond handles its ports`, r.name));
    }
    if (r.role !== 'public') continue;
    if (!f.link.up) out.push(block('carrier', `public interface ${r.name} is administratively down`, `ip link set ${r.name} up (and make it come up at boot)`, r.name));
    else if (!f.link.carrier) out.push(block('carrier', `public interface ${r.name} reports no carrier: this node cannot serve or help on its LAN`, `check the cable, the switch port and the NIC of ${r.name}`, r.name));
    else if (f.link.operstate === IF_OPER_UNKNOWN && !r.probes) {
      out.push(warn('carrier', `public interface ${r.name}'s driver does not report its operational state (operstate unknown${f.link.kind ? `, ${f.link.kind}` : ''}): a failure may never show as carrier loss, and its ARP probe is off`,
        `give ${r.name} a gateway and keep probe.arp on, so that silent failures are found`, r.name));
    } else out.push(ok('carrier', `public interface ${r.name} has carrier${f.link.operstate === IF_OPER_UNKNOWN ? ' (driver without operstate: the ARP probe finds failures)' : ''}`, r.name));
  }
  return out;
}
