// Pure planner of the kernel applier: planKernelOps(actual, desired) -> ordered KernelOp[] (no I/O),
// plus keys/normalisation shared with the executor and the fake, and `ip`-style text for logs and tests.
import { canonicalIp } from './ip.js';
import type { ActualKernelState, AddrSpec, DesiredKernelState, Family, KernelOp, ProxySpec, RouteSpec, RuleSpec, SysctlSpec } from './kernel-types.js';

/** rtm_protocol / IFA_PROTO / NDA_PROTOCOL value marking what hanet installed. 0x4e (78) is unused in
 * include/uapi/linux/rtnetlink.h and in iproute2's rt_protos (reserved: 0-4, 8-18, 42, 99, 186-192). */
export const HANET_RTPROT = 0x4e;

export const RT_TABLE_MAIN = 254;
/** IPv4 routes without a metric have priority 0; IPv6 ones get 1024 from the kernel. */
export const defaultMetric = (f: Family): number => (f === 4 ? 0 : 1024);

// Address text normalisation: canonical form (IPv6 lower-case, longest zero run compressed), so
// '2001:DB8::0:1' and '2001:db8::1' are one address. Unparsable text is kept as given.
const canon = (family: Family, s: string): string => canonicalIp(s.trim(), family) ?? s.trim();

export function normAddr(a: AddrSpec): AddrSpec {
  return { family: a.family, ifname: a.ifname, address: canon(a.family, a.address), prefixLen: a.prefixLen };
}
export function normRoute(r: RouteSpec): RouteSpec {
  const out: RouteSpec = { family: r.family, dst: canon(r.family, r.dst), dstLen: r.dstLen, ifname: r.ifname, metric: r.metric ?? defaultMetric(r.family), table: r.table ?? RT_TABLE_MAIN };
  if (r.via !== undefined) out.via = canon(r.family, r.via);
  if (r.src !== undefined) out.src = canon(r.family, r.src);
  if (r.type === 'local') out.type = 'local';
  return out;
}
export function normProxy(p: ProxySpec): ProxySpec {
  return { family: p.family, ifname: p.ifname, address: canon(p.family, p.address) };
}
/** Sysctl values compare after collapsing whitespace (the kernel prints vectors tab-separated). */
export const normSysctlValue = (v: string): string => v.trim().split(/\s+/).join(' ');

export const addrKey = (a: AddrSpec): string => { const n = normAddr(a); return `${n.family}|${n.ifname}|${n.address}/${n.prefixLen}`; };
/** The kernel's identity of an IPv4 route for NLM_F_REPLACE: table, dst/len, tos (always 0 here), priority. */
export const routeKey = (r: RouteSpec): string => { const n = normRoute(r); return `${n.family}|${n.table}|${n.dst}/${n.dstLen}|${n.metric}`; };
const routeFull = (r: RouteSpec): string => { const n = normRoute(r); return `${routeKey(n)}|${n.type ?? ''}|${n.ifname}|${n.via ?? ''}|${n.src ?? ''}`; };
export const proxyKey = (p: ProxySpec): string => { const n = normProxy(p); return `${n.family}|${n.ifname}|${n.address}`; };
export function normRule(r: RuleSpec): RuleSpec {
  const out: RuleSpec = { family: r.family, priority: r.priority, action: r.action };
  if (r.iif !== undefined) out.iif = r.iif;
  if (r.dst !== undefined) { out.dst = canon(r.family, r.dst); out.dstLen = r.dstLen ?? (r.family === 4 ? 32 : 128); }
  if (r.src !== undefined) { out.src = canon(r.family, r.src); out.srcLen = r.srcLen ?? (r.family === 4 ? 32 : 128); }
  return out;
}
export const ruleKey = (r: RuleSpec): string => { const n = normRule(r); return `${n.family}|${n.priority}|${n.iif ?? ''}|${n.dst ?? ''}/${n.dstLen ?? ''}|${n.src ?? ''}/${n.srcLen ?? ''}|${n.action}`; };

// ---- the planner ----

/**
 * Ops that turn `actual` into `desired`, in a safe order:
 * sysctls (forwarding/proxy_delay before anything depends on them), address adds (a route's `src` must be
 * local first), route adds/replaces (the new path exists before the old goes), rule adds (forwarding allowed),
 * proxy adds (attract traffic only once the route exists), then proxy deletes, rule deletes, route deletes,
 * address deletes (the reverse).
 * A desired route whose identity matches an actual one but differs is one atomic `route-replace`.
 * Duplicates in `desired` are collapsed. Each group is sorted by key, so output is deterministic.
 */
export function planKernelOps(actual: ActualKernelState, desired: DesiredKernelState): KernelOp[] {
  const ops: KernelOp[] = [];

  // sysctls, sorted by path except that accept_ra comes first (it must be 2 before IPv6 forwarding is switched on,
  // or the RA-learned default routes are dropped: measured); the last value of a path wins
  const cur = new Map<string, string>(actual.sysctls.map((s) => [s.path, s.value]));
  const wantSys = new Map<string, SysctlSpec>();
  for (const s of desired.sysctls) wantSys.set(s.path, s);
  const rank = (path: string): number => (path.endsWith('/accept_ra') ? 0 : 1);
  for (const { path, value, onlyIf } of [...wantSys.values()].sort((a, b) => rank(a.path) - rank(b.path) || cmp(a.path, b.path))) {
    const prev = cur.get(path);
    if (prev !== undefined && normSysctlValue(prev) === normSysctlValue(value)) continue;
    if (onlyIf !== undefined && (prev === undefined || normSysctlValue(prev) !== normSysctlValue(onlyIf))) continue;
    ops.push(prev === undefined ? { op: 'sysctl', path, value } : { op: 'sysctl', path, value, previous: prev });
  }

  // addresses
  const haveAddr = new Set(actual.addresses.map(addrKey));
  const wantAddr = uniqBy(desired.addresses.map(normAddr), addrKey);
  const wantAddrKeys = new Set(wantAddr.map(addrKey));
  const addrAdds = wantAddr.filter((a) => !haveAddr.has(addrKey(a)));
  const addrDels = uniqBy(desired.managedAddresses.map(normAddr), addrKey).filter((a) => !wantAddrKeys.has(addrKey(a)) && haveAddr.has(addrKey(a)));

  // routes
  const haveRoute = new Map<string, RouteSpec[]>();
  for (const r of actual.routes.map(normRoute)) {
    const k = routeKey(r);
    haveRoute.set(k, [...(haveRoute.get(k) ?? []), r]);
  }
  const wantRoute = uniqBy(desired.routes.map(normRoute), routeKey); // one route per identity: the first wins
  const wantRouteKeys = new Set(wantRoute.map(routeKey));
  const routeAdds = wantRoute.filter((r) => {
    const have = haveRoute.get(routeKey(r));
    return !have || have.length !== 1 || routeFull(have[0]!) !== routeFull(r);
  });
  const routeDels: RouteSpec[] = [];
  for (const [k, rs] of haveRoute) {
    if (!wantRouteKeys.has(k)) routeDels.push(...rs);
    // Several kernel routes with one identity (e.g. made by `ip route append`): replace keeps one, delete the rest.
    else if (rs.length > 1) routeDels.push(...rs.filter((r) => routeFull(r) !== routeFull(wantRoute.find((w) => routeKey(w) === k)!)));
  }

  // proxies
  const haveProxy = new Set(actual.proxies.map(proxyKey));
  const wantProxy = uniqBy(desired.proxies.map(normProxy), proxyKey);
  const wantProxyKeys = new Set(wantProxy.map(proxyKey));
  const proxyAdds = wantProxy.filter((p) => !haveProxy.has(proxyKey(p)));
  const proxyDels = uniqBy(actual.proxies.map(normProxy), proxyKey).filter((p) => !wantProxyKeys.has(proxyKey(p)));

  // rules
  const haveRule = new Set((actual.rules ?? []).map(ruleKey));
  const wantRule = uniqBy((desired.rules ?? []).map(normRule), ruleKey);
  const wantRuleKeys = new Set(wantRule.map(ruleKey));
  const ruleAdds = wantRule.filter((r) => !haveRule.has(ruleKey(r)));
  const ruleDels = uniqBy((actual.rules ?? []).map(normRule), ruleKey).filter((r) => !wantRuleKeys.has(ruleKey(r)));

  const byAddr = (a: AddrSpec, b: AddrSpec): number => cmp(addrKey(a), addrKey(b));
  const byRule = (a: RuleSpec, b: RuleSpec): number => a.priority - b.priority || cmp(ruleKey(a), ruleKey(b));
  const byRoute = (a: RouteSpec, b: RouteSpec): number => cmp(routeFull(a), routeFull(b));
  const byProxy = (a: ProxySpec, b: ProxySpec): number => cmp(proxyKey(a), proxyKey(b));
  for (const addr of addrAdds.sort(byAddr)) ops.push({ op: 'addr-add', addr });
  for (const route of routeAdds.sort(byRoute)) ops.push({ op: 'route-replace', route });
  // Rules before proxy entries: proxy ARP answers only for an address the input interface may forward to.
  for (const rule of ruleAdds.sort(byRule)) ops.push({ op: 'rule-add', rule });
  for (const proxy of proxyAdds.sort(byProxy)) ops.push({ op: 'proxy-add', proxy });
  for (const proxy of proxyDels.sort(byProxy)) ops.push({ op: 'proxy-del', proxy });
  for (const rule of ruleDels.sort(byRule)) ops.push({ op: 'rule-del', rule });
  for (const route of routeDels.sort(byRoute)) ops.push({ op: 'route-del', route });
  for (const addr of addrDels.sort(byAddr)) ops.push({ op: 'addr-del', addr });
  return ops;
}

/** The actual state after `ops` were applied to `actual` (what an incremental reconcile plans from next). Pure. */
export function applyOpsToActual(actual: ActualKernelState, ops: readonly KernelOp[]): ActualKernelState {
  let addresses = [...actual.addresses];
  let routes = [...actual.routes];
  let proxies = [...actual.proxies];
  let rules = [...(actual.rules ?? [])];
  const sysctls = new Map(actual.sysctls.map((s) => [s.path, s.value]));
  for (const op of ops) {
    switch (op.op) {
      case 'sysctl': sysctls.set(op.path, op.value); break;
      case 'addr-add': addresses = [...addresses.filter((a) => addrKey(a) !== addrKey(op.addr)), normAddr(op.addr)]; break;
      case 'addr-del': addresses = addresses.filter((a) => addrKey(a) !== addrKey(op.addr)); break;
      case 'route-replace': routes = [...routes.filter((r) => routeKey(r) !== routeKey(op.route)), normRoute(op.route)]; break;
      case 'route-del': routes = routes.filter((r) => routeFull(r) !== routeFull(op.route)); break;
      case 'proxy-add': proxies = [...proxies.filter((p) => proxyKey(p) !== proxyKey(op.proxy)), normProxy(op.proxy)]; break;
      case 'proxy-del': proxies = proxies.filter((p) => proxyKey(p) !== proxyKey(op.proxy)); break;
      case 'rule-add': rules = [...rules.filter((r) => ruleKey(r) !== ruleKey(op.rule)), normRule(op.rule)]; break;
      case 'rule-del': rules = rules.filter((r) => ruleKey(r) !== ruleKey(op.rule)); break;
    }
  }
  return { addresses, routes, proxies, rules, sysctls: [...sysctls].map(([path, value]) => ({ path, value })) };
}

/** Ops removing everything hanet marked as its own (used by cleanupAll). Sysctls are left as they are. */
export function planCleanupOps(actual: { addresses: AddrSpec[]; routes: RouteSpec[]; proxies: ProxySpec[]; rules?: RuleSpec[] }): KernelOp[] {
  return planKernelOps(
    { addresses: actual.addresses, routes: actual.routes, proxies: actual.proxies, rules: actual.rules ?? [], sysctls: [] },
    { addresses: [], managedAddresses: actual.addresses, routes: [], proxies: [], rules: [], sysctls: [] },
  );
}

/** All interface names a desired state refers to for addresses (the executor dumps addresses only there). */
export function addressInterfaces(d: DesiredKernelState): string[] {
  return [...new Set([...d.addresses, ...d.managedAddresses].map((a) => a.ifname))].sort();
}

// ---- text (iproute2 style) ----
const PROTO = 'proto hanet';
export const formatAddr = (a: AddrSpec): string => `${a.address}/${a.prefixLen} dev ${a.ifname}`;
export function formatRoute(r: RouteSpec): string {
  const n = normRoute(r);
  let s = `${n.type === 'local' ? 'local ' : ''}${n.dst}/${n.dstLen}`;
  if (n.via !== undefined) s += ` via ${n.via}`;
  s += ` dev ${n.ifname}`;
  if (n.src !== undefined) s += ` src ${n.src}`;
  if (n.metric !== defaultMetric(n.family)) s += ` metric ${n.metric}`;
  if (n.table !== RT_TABLE_MAIN) s += ` table ${n.table === 255 ? 'local' : n.table}`;
  return s;
}
export const formatProxy = (p: ProxySpec): string => `proxy ${p.address} dev ${p.ifname}`;
export function formatRule(r: RuleSpec): string {
  const n = normRule(r);
  return [n.iif !== undefined && `iif ${n.iif}`, n.src !== undefined && `from ${n.src}/${n.srcLen}`, n.dst !== undefined && `to ${n.dst}/${n.dstLen}`,
    n.action === 'lookup-main' ? 'lookup main' : n.action, `prio ${n.priority}`].filter(Boolean).join(' ');
}
const ipf = (f: Family): string => (f === 6 ? 'ip -6' : 'ip');

/** One line per op, like the `ip` command that would do it (for logs, events and test diffs). */
export function formatKernelOp(op: KernelOp): string {
  switch (op.op) {
    case 'sysctl': return `sysctl ${op.path}=${op.value}${op.previous !== undefined ? ` (was ${normSysctlValue(op.previous)})` : ''}`;
    case 'addr-add': return `${ipf(op.addr.family)} addr add ${formatAddr(op.addr)} ${PROTO}`;
    case 'addr-del': return `${ipf(op.addr.family)} addr del ${formatAddr(op.addr)}`;
    case 'route-replace': return `${ipf(op.route.family)} route replace ${formatRoute(op.route)} ${PROTO}`;
    case 'route-del': return `${ipf(op.route.family)} route del ${formatRoute(op.route)} ${PROTO}`;
    case 'proxy-add': return `${ipf(op.proxy.family)} neigh add ${formatProxy(op.proxy)} ${PROTO}`;
    case 'proxy-del': return `${ipf(op.proxy.family)} neigh del ${formatProxy(op.proxy)}`;
    case 'rule-add': return `${ipf(op.rule.family)} rule add ${formatRule(op.rule)} ${PROTO}`;
    case 'rule-del': return `${ipf(op.rule.family)} rule del ${formatRule(op.rule)}`;
  }
}

function uniqBy<T>(xs: T[], key: (x: T) => string): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const x of xs) {
    const k = key(x);
    if (!seen.has(k)) { seen.add(k); out.push(x); }
  }
  return out;
}
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
