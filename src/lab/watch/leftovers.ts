// What hanet leaves in a lab's servers after its daemons stopped (the chaos run's final check): routes with hanet's
// protocol (78), proxy neighbour entries, TUN devices, and sysctls whose value differs from a baseline taken before
// the daemons first started. Read with one `ip -batch`, one `sysctl -a` and one link dump per server.
import type { LabHandle } from '../handle.js';

/** net.ipv4 and net.ipv6.conf sysctls of a node (what hanet may change: forwarding, proxy_delay, rp_filter, ...). */
export type SysctlBaseline = Map<string, Map<string, string>>;

async function sysctls(lab: LabHandle, node: string): Promise<Map<string, string>> {
  const r = await lab.exec(node, ['sysctl', '-a', '-r', '^net\\.(ipv4|ipv6\\.conf)\\.'], { check: false });
  const m = new Map<string, string>();
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf(' = ');
    if (i > 0) m.set(line.slice(0, i), line.slice(i + 3).trim());
  }
  return m;
}

export async function sysctlBaseline(lab: LabHandle, servers: string[]): Promise<SysctlBaseline> {
  return new Map(await Promise.all(servers.map(async (n) => [n, await sysctls(lab, n)] as const)));
}

export interface Leftover { node: string; what: 'route' | 'proxy' | 'sysctl' | 'tun'; detail: string }

/** Everything of hanet's still in the servers; `baseline` from sysctlBaseline() before the daemons started. */
export async function findLeftovers(lab: LabHandle, servers: string[], baseline?: SysctlBaseline): Promise<Leftover[]> {
  const out: Leftover[] = [];
  await Promise.all(servers.map(async (node) => {
    const script = 'for f in -4 -6; do ip $f route show table all proto 78; ip $f neigh show proxy; done; echo; ip -d -j link show';
    const r = await lab.exec(node, ['sh', '-c', script], { check: true });
    const lines = r.stdout.split('\n');
    const json = lines.find((l) => l.startsWith('[')) ?? '[]';
    for (const l of lines) {
      if (l.trim() === '' || l.startsWith('[')) continue;
      out.push({ node, what: / proxy\b/.test(l) ? 'proxy' : 'route', detail: l.trim() });
    }
    const links = JSON.parse(json) as Array<{ ifname: string; linkinfo?: { info_kind?: string } }>;
    for (const l of links) if (l.linkinfo?.info_kind === 'tun') out.push({ node, what: 'tun', detail: l.ifname });
    const base = baseline?.get(node);
    if (base) {
      const now = await sysctls(lab, node);
      for (const [k, v] of base) {
        const cur = now.get(k);
        if (cur !== undefined && cur !== v) out.push({ node, what: 'sysctl', detail: `${k} = ${cur} (was ${v})` });
      }
    }
  }));
  return out.sort((a, b) => a.node.localeCompare(b.node) || a.what.localeCompare(b.what) || a.detail.localeCompare(b.detail));
}
