// Reading hanet's part of the kernel state over rtnetlink (addresses on given interfaces, routes, proxy entries
// marked with hanet's protocol) and building route messages: used by src/os/linux/kernel.ts.
import { HANET_RTPROT, normRoute } from '../../core/kernel-plan.js';
import type { AddrSpec, Family, ProxySpec, RouteSpec } from '../../core/kernel-types.js';
import { afToFamily, familyToAf } from '../../proto/inet.js';
import {
  NTF_PROXY, RTM_GETADDR, RTM_GETNEIGH, RTM_GETROUTE, RTN_LOCAL, RTN_UNICAST, RT_SCOPE_HOST, RT_SCOPE_LINK, RT_SCOPE_UNIVERSE, encodeAddr, encodeNeigh, encodeRoute,
} from '../../proto/netlink.js';
import type { NetlinkSocket } from './netlink.js';

/** Addresses (any owner) on the given interfaces, plus which ones carry IFA_PROTO = HANET_RTPROT. */
export async function readAddresses(nl: NetlinkSocket, byIndex: Map<number, string>, ifnames: Set<string> | 'hanet'): Promise<AddrSpec[]> {
  if (ifnames !== 'hanet' && ifnames.size === 0) return [];
  const replies = await nl.dump(RTM_GETADDR, encodeAddr({ family: 0, prefixLen: 0, flags: 0, scope: 0, ifindex: 0 }), { what: 'dump addresses' });
  const out: AddrSpec[] = [];
  for (const r of replies) {
    if (r.kind !== 'addr') continue;
    const family = afToFamily(r.msg.family);
    const ifname = byIndex.get(r.msg.ifindex);
    const address = r.msg.local ?? r.msg.address;
    if (!family || !ifname || address === undefined) continue;
    if (ifnames === 'hanet' ? r.msg.proto !== HANET_RTPROT : !ifnames.has(ifname)) continue;
    out.push({ family, ifname, address, prefixLen: r.msg.prefixLen });
  }
  return out;
}

export async function readRoutes(nl: NetlinkSocket, byIndex: Map<number, string>): Promise<RouteSpec[]> {
  const out: RouteSpec[] = [];
  for (const family of [4, 6] as Family[]) {
    // Strict-checked dump filtered by the kernel on protocol; table 0 = all tables. Filtered again here.
    const replies = await nl.dump(RTM_GETROUTE, encodeRouteDumpReq(family), { what: `dump IPv${family} routes` });
    for (const r of replies) {
      if (r.kind !== 'route' || r.msg.protocol !== HANET_RTPROT || (r.msg.type !== RTN_UNICAST && r.msg.type !== RTN_LOCAL)) continue;
      const route: RouteSpec = {
        family, dst: r.msg.dst ?? (family === 4 ? '0.0.0.0' : '::'), dstLen: r.msg.dstLen,
        ifname: r.msg.oif !== undefined ? (byIndex.get(r.msg.oif) ?? `if${r.msg.oif}`) : '',
        metric: r.msg.priority ?? 0, table: r.msg.table,
      };
      if (r.msg.type === RTN_LOCAL) route.type = 'local';
      if (r.msg.gateway !== undefined) route.via = r.msg.gateway;
      if (r.msg.prefsrc !== undefined) route.src = r.msg.prefsrc;
      out.push(route);
    }
  }
  return out;
}

export async function readProxies(nl: NetlinkSocket, byIndex: Map<number, string>): Promise<ProxySpec[]> {
  const out: ProxySpec[] = [];
  for (const family of [4, 6] as Family[]) {
    const replies = await nl.dump(RTM_GETNEIGH,
      encodeNeigh({ family: familyToAf(family), ifindex: 0, state: 0, flags: NTF_PROXY, type: 0 }), { what: `dump IPv${family} proxy entries` });
    for (const r of replies) {
      if (r.kind !== 'neigh' || (r.msg.flags & NTF_PROXY) === 0 || r.msg.protocol !== HANET_RTPROT || r.msg.dst === undefined) continue;
      out.push({ family, ifname: byIndex.get(r.msg.ifindex) ?? `if${r.msg.ifindex}`, address: r.msg.dst });
    }
  }
  return out;
}

export function routeMsg(route: RouteSpec, oif: number | undefined): ReturnType<typeof baseRoute> {
  const r = normRoute(route);
  const m = baseRoute(r);
  if (oif !== undefined) m.oif = oif;
  if (r.via !== undefined) m.gateway = r.via;
  if (r.src !== undefined) m.prefsrc = r.src;
  return m;
}

function baseRoute(r: RouteSpec): Parameters<typeof encodeRoute>[0] {
  return {
    family: familyToAf(r.family), dstLen: r.dstLen, srcLen: 0, tos: 0, table: r.table ?? 254, protocol: HANET_RTPROT,
    scope: r.type === 'local' ? RT_SCOPE_HOST : r.via !== undefined ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK, type: r.type === 'local' ? RTN_LOCAL : RTN_UNICAST, flags: 0,
    dst: r.dst, priority: r.metric ?? 0,
  };
}

function encodeRouteDumpReq(family: Family): Uint8Array {
  // Strict dump: header fields other than family/table/protocol/type must be 0; table 0 = every table.
  const m = encodeRoute({ family: familyToAf(family), dstLen: 0, srcLen: 0, tos: 0, table: 0, protocol: HANET_RTPROT, scope: 0, type: 0, flags: 0 });
  return m.subarray(0, 12); // no RTA_TABLE attribute (0 would be read as "table 0")
}
