// The one place that changes the kernel: KernelPort over rtnetlink (links, addresses, routes, proxy
// neighbours, policy rules: kernel-rules.ts) and /proc/sys (sysctls). reconcile() = read actual state -> pure planKernelOps -> execute.
import { readFileSync, writeFileSync } from 'node:fs';
import { HanetError } from '../../errors.js';
import { HANET_RTPROT, addressInterfaces, applyOpsToActual, formatKernelOp, planCleanupOps, planKernelOps, normRoute } from '../../core/kernel-plan.js';
import type { ActualKernelState, DesiredKernelState, Family, KernelLeftovers, KernelOp, KernelPort, LinkState, SysctlSpec } from '../../core/kernel-types.js';
import { familyToAf } from '../../proto/inet.js';
import {
  IFF_LOWER_UP, IFF_UP, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, NTF_PROXY, NUD_PERMANENT, RTEXT_FILTER_SKIP_STATS,
  RTM_DELADDR, RTM_DELLINK, RTM_DELNEIGH, RTM_DELROUTE, RTM_GETLINK, RTM_GETNEIGH,
  RTM_NEWADDR, RTM_NEWLINK, RTM_NEWNEIGH, RTM_NEWROUTE, RTNLGRP_LINK, RT_SCOPE_UNIVERSE,
  encodeAddr, encodeLink, encodeNeigh, encodeRoute, type LinkMsg, type RtMessage,
} from '../../proto/netlink.js';
import { NetlinkError, NetlinkSocket } from './netlink.js';
import { applyRule, readRules } from './kernel-rules.js';
import { readAddresses, readProxies, readRoutes, routeMsg } from './kernel-read.js';

export { HANET_RTPROT } from '../../core/kernel-plan.js';
export type { KernelPort, KernelOp, LinkState, DesiredKernelState, AddrSpec, RouteSpec, ProxySpec, SysctlSpec } from '../../core/kernel-types.js';

const NUD_NOARP = 0x40;
const ENODEV = 19, EEXIST = 17, ESRCH = 3, ENOENT = 2, EADDRNOTAVAIL = 99, EINVAL = 22, EOPNOTSUPP = 95;

/** Thrown by reconcile() when some ops failed; the others were still applied (listed in `applied`). */
export class ReconcileError extends HanetError {
  readonly applied: KernelOp[];
  readonly failures: { op: KernelOp; error: Error }[];
  constructor(applied: KernelOp[], failures: { op: KernelOp; error: Error }[]) {
    super('HANET_ERR_NETLINK', `reconcile: ${failures.length} of ${applied.length + failures.length} ops failed: ` +
      failures.map((f) => (f.error instanceof HanetError ? f.error.message : `${formatKernelOp(f.op)}: ${f.error.message}`)).join('; '), { cause: failures[0]?.error });
    this.name = 'ReconcileError';
    this.applied = applied;
    this.failures = failures;
  }
}

export function linkStateOf(m: LinkMsg): LinkState {
  const lowerUp = (m.flags & IFF_LOWER_UP) !== 0;
  return {
    index: m.ifindex,
    name: m.name ?? '',
    up: (m.flags & IFF_UP) !== 0,
    lowerUp,
    carrier: m.carrier ?? lowerUp,
    mac: m.address ?? '',
    mtu: m.mtu ?? 0,
  };
}

const SYSCTL_PATH = /^[A-Za-z0-9_][A-Za-z0-9_.:@-]*(\/[A-Za-z0-9_][A-Za-z0-9_.:@-]*)*$/;

/** Linux KernelPort. One request socket (lazy) and one RTNLGRP_LINK socket while someone listens. */
export class LinuxKernel implements KernelPort {
  private nl: NetlinkSocket | undefined;
  private events: NetlinkSocket | undefined;
  private readonly linkListeners = new Set<(l: LinkState) => void>();
  /** IFA_PROTO support, learnt at the first address add (kernels < 5.18 reject it with EINVAL/EOPNOTSUPP). */
  private ifaProto: boolean | undefined;
  private closed = false;
  private queue: Promise<void> = Promise.resolve();
  /** The kernel state this port last left (after a successful reconcile), for the next incremental one. */
  private cache: { actual: ActualKernelState; byName: Map<string, number>; ifaces: string; sysctlPaths: Set<string> } | undefined;

  constructor(private readonly procSys = '/proc/sys') {}

  private sock(): NetlinkSocket {
    if (this.closed) throw new HanetError('HANET_ERR_NETLINK', 'kernel port closed');
    this.nl ??= NetlinkSocket.open();
    return this.nl;
  }

  // ---- links ----

  /** A fresh RTM_GETLINK by name (stats skipped to keep the reply small): ~tens of µs, no event-loop turn. */
  async getLink(name: string): Promise<LinkState | undefined> {
    try {
      const replies = await this.sock().request(RTM_GETLINK, 0,
        encodeLink({ family: 0, ifindex: 0, type: 0, flags: 0, change: 0, name, extMask: RTEXT_FILTER_SKIP_STATS }),
        { what: `get link ${name}` });
      const m = replies.find((r): r is Extract<RtMessage, { kind: 'link' }> => r.kind === 'link');
      return m ? linkStateOf(m.msg) : undefined;
    } catch (e) {
      if (e instanceof NetlinkError && e.errno === ENODEV) return undefined;
      throw e;
    }
  }

  async listLinks(): Promise<LinkState[]> {
    const replies = await this.sock().dump(RTM_GETLINK,
      encodeLink({ family: 0, ifindex: 0, type: 0, flags: 0, change: 0, extMask: RTEXT_FILTER_SKIP_STATS }), { what: 'dump links' });
    return replies.flatMap((r) => (r.kind === 'link' ? [linkStateOf(r.msg)] : []));
  }

  onLinkChange(cb: (l: LinkState) => void): () => void {
    if (this.closed) throw new HanetError('HANET_ERR_NETLINK', 'kernel port closed');
    this.linkListeners.add(cb);
    const emit = (s: LinkState): void => { for (const l of [...this.linkListeners]) l(s); };
    this.events ??= NetlinkSocket.subscribe([RTNLGRP_LINK], (m) => {
      if (m.kind !== 'link') return;
      if (m.header.type === RTM_DELLINK) emit({ ...linkStateOf(m.msg), up: false, lowerUp: false, carrier: false });
      else if (m.header.type === RTM_NEWLINK) emit(linkStateOf(m.msg));
    }, () => {
      // Events were lost (ENOBUFS): report every link's current state so listeners resynchronise.
      this.listLinks().then((ls) => ls.forEach(emit), () => { /* the next poll of getLink covers it */ });
    });
    return () => {
      this.linkListeners.delete(cb);
      if (this.linkListeners.size === 0 && this.events) { this.events.close(); this.events = undefined; }
    };
  }

  // ---- reading actual state ----

  private async indexMaps(): Promise<{ byName: Map<string, number>; byIndex: Map<number, string> }> {
    const links = await this.listLinks();
    return { byName: new Map(links.map((l) => [l.name, l.index])), byIndex: new Map(links.map((l) => [l.index, l.name])) };
  }

  /**
   * Deletes the dynamic neighbour entries of an interface hanet just moved traffic away from. Why: packets a socket
   * sent there between the carrier loss and the route change wait in an INCOMPLETE entry's queue for a link that
   * is gone, and TCP small queues then hold back every later segment of that socket, even on the new route, until
   * the entry resolves or fails (up to 3 s). Measured in the lab: 2 of ~40 takeovers stalled 0.3-0.75 s on this.
   * Permanent, NOARP and proxy entries are kept. Returns how many entries were deleted.
   */
  async flushNeighbors(ifname: string): Promise<number> {
    const link = await this.getLink(ifname);
    if (!link) return 0;
    let deleted = 0;
    for (const family of [4, 6] as Family[]) {
      const replies = await this.sock().dump(RTM_GETNEIGH,
        // Strict dump checking refuses an ifindex in the header: dump all and filter here.
        encodeNeigh({ family: familyToAf(family), ifindex: 0, state: 0, flags: 0, type: 0 }), { what: `dump IPv${family} neighbours of ${ifname}` });
      for (const r of replies) {
        if (r.kind !== 'neigh' || r.msg.ifindex !== link.index || r.msg.dst === undefined) continue;
        if ((r.msg.flags & NTF_PROXY) !== 0 || (r.msg.state & (NUD_PERMANENT | NUD_NOARP)) !== 0) continue;
        try {
          await this.sock().request(RTM_DELNEIGH, 0, encodeNeigh({ family: r.msg.family, ifindex: link.index, state: 0, flags: 0, type: 0, dst: r.msg.dst }), { what: `delete neighbour ${r.msg.dst} dev ${ifname}` });
          deleted++;
        } catch (e) {
          if (!(e instanceof NetlinkError && (e.errno === ENOENT || e.errno === ESRCH))) throw e;
        }
      }
    }
    return deleted;
  }

  private readSysctls(paths: string[]): SysctlSpec[] {
    const out: SysctlSpec[] = [];
    for (const path of paths) {
      try { out.push({ path, value: readFileSync(this.sysctlFile(path), 'utf8').trim() }); } catch { /* absent: planner writes it and the write reports the error */ }
    }
    return out;
  }

  private sysctlFile(path: string): string {
    if (!SYSCTL_PATH.test(path) || path.split('/').includes('..')) throw new HanetError('HANET_ERR_CONFIG', `invalid sysctl path '${path}'`);
    return `${this.procSys}/${path}`;
  }

  /** What the planner needs to see for `desired`. */
  async readActual(desired: DesiredKernelState): Promise<{ actual: ActualKernelState; byName: Map<string, number> }> {
    const { byName, byIndex } = await this.indexMaps();
    const [addresses, routes, proxies, rules] = [
      await readAddresses(this.sock(), byIndex, new Set(addressInterfaces(desired))),
      await readRoutes(this.sock(), byIndex),
      await readProxies(this.sock(), byIndex),
      await readRules(this.sock()),
    ];
    return { actual: { addresses, routes, proxies, rules, sysctls: this.readSysctls(desired.sysctls.map((s) => s.path)) }, byName };
  }

  // ---- applying ----

  /** Concurrent reconcile/cleanup calls run one after the other (each reads the state the previous one left). */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.then(() => undefined, () => undefined);
    return run;
  }

  /**
   * Makes the kernel hold `desired`. The state this port last left is kept: the next reconcile plans from it without
   * reading the kernel again (a takeover's reconcile is then its few changes, not a dozen netlink dumps), unless
   * `full` asks for a fresh read (the daemon's periodic resync, which repairs drift), the interfaces or sysctls of
   * interest changed, or the last reconcile failed.
   */
  reconcile(desired: DesiredKernelState, opts: { full?: boolean } = {}): Promise<KernelOp[]> {
    return this.serial(async () => {
      const ifaces = addressInterfaces(desired).join(' ');
      const c = this.cache;
      const paths = desired.sysctls.map((x) => x.path);
      const fresh = opts.full || !c || c.ifaces !== ifaces || !paths.every((x) => c.sysctlPaths.has(x));
      const { actual, byName } = fresh ? await this.readActual(desired) : { actual: c.actual, byName: c.byName };
      this.cache = undefined; // until this reconcile succeeded
      const ops = planKernelOps(actual, desired);
      const applied = await this.execute(ops, byName);
      this.cache = { actual: applyOpsToActual(actual, ops), byName, ifaces, sysctlPaths: new Set(paths) };
      return applied;
    });
  }

  /** Routes, proxy entries, rules and addresses marked HANET_RTPROT in the kernel now (e.g. from an earlier run). */
  leftovers(): Promise<KernelLeftovers> {
    return this.serial(async () => {
      const { byIndex } = await this.indexMaps();
      return { routes: await readRoutes(this.sock(), byIndex), proxies: await readProxies(this.sock(), byIndex), addresses: await readAddresses(this.sock(), byIndex, 'hanet'), rules: await readRules(this.sock()) };
    });
  }

  /** Removes every route, proxy entry, rule and address marked HANET_RTPROT (sysctls are left alone). */
  cleanupAll(): Promise<KernelOp[]> {
    return this.serial(async () => {
      const { byName, byIndex } = await this.indexMaps();
      const ops = planCleanupOps({
        addresses: await readAddresses(this.sock(), byIndex, 'hanet'),
        routes: await readRoutes(this.sock(), byIndex),
        proxies: await readProxies(this.sock(), byIndex),
        rules: await readRules(this.sock()),
      });
      return this.execute(ops, byName);
    });
  }

  /** Runs ops in the given order; keeps going past a failed op (one bad route must not block the others). */
  async execute(ops: KernelOp[], byName: Map<string, number>): Promise<KernelOp[]> {
    const applied: KernelOp[] = [];
    const failures: { op: KernelOp; error: Error }[] = [];
    for (const op of ops) {
      try {
        if (await this.apply(op, byName)) applied.push(op);
      } catch (e) {
        failures.push({ op, error: e instanceof Error ? e : new Error(String(e)) });
      }
    }
    if (failures.length) throw new ReconcileError(applied, failures);
    return applied;
  }

  private ifindex(byName: Map<string, number>, ifname: string, what: string): number {
    const i = byName.get(ifname);
    if (i === undefined) throw new NetlinkError(`${what}: no interface '${ifname}'`, ENODEV);
    return i;
  }

  /** Applies one op; returns false when the kernel was already in that state (benign race). */
  private async apply(op: KernelOp, byName: Map<string, number>): Promise<boolean> {
    const what = formatKernelOp(op);
    const nl = this.sock();
    const tolerate = async (p: Promise<unknown>, benign: number[]): Promise<boolean> => {
      try { await p; return true; } catch (e) {
        if (e instanceof NetlinkError && benign.includes(e.errno)) return false;
        throw e;
      }
    };
    switch (op.op) {
      case 'sysctl':
        try {
          writeFileSync(this.sysctlFile(op.path), `${op.value}\n`);
        } catch (e) {
          if (e instanceof HanetError) throw e;
          const code = (e as NodeJS.ErrnoException).code;
          // EACCES/EPERM/EROFS: not root or /proc/sys read-only; ENOENT/EINVAL: wrong path or value in the desired state.
          throw new HanetError(code === 'ENOENT' || code === 'EINVAL' ? 'HANET_ERR_CONFIG' : 'HANET_ERR_PERMISSION', `${what}: ${(e as Error).message}`, { cause: e });
        }
        return true;
      case 'addr-add': {
        const a = op.addr;
        const msg = (proto: boolean): Uint8Array => encodeAddr({
          family: familyToAf(a.family), prefixLen: a.prefixLen, flags: a.family === 6 ? 0x02 : 0, scope: RT_SCOPE_UNIVERSE, // IPv6: IFA_F_NODAD, see docs/troubleshooting.md (DAD)
          ifindex: this.ifindex(byName, a.ifname, what), local: a.address, address: a.address,
          ...(proto ? { proto: HANET_RTPROT } : {}),
        });
        if (this.ifaProto !== false) {
          try {
            const r = await tolerate(nl.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, msg(true), { what }), [EEXIST]);
            this.ifaProto = true;
            return r;
          } catch (e) {
            if (!(e instanceof NetlinkError && (e.errno === EINVAL || e.errno === EOPNOTSUPP)) || this.ifaProto === true) throw e;
            this.ifaProto = false; // old kernel: addresses cannot be marked; cleanupAll will not find them
          }
        }
        return tolerate(nl.request(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, msg(false), { what }), [EEXIST]);
      }
      case 'addr-del': {
        const a = op.addr;
        return tolerate(nl.request(RTM_DELADDR, 0, encodeAddr({
          family: familyToAf(a.family), prefixLen: a.prefixLen, flags: 0, scope: 0,
          ifindex: this.ifindex(byName, a.ifname, what), local: a.address, address: a.address,
        }), { what }), [EADDRNOTAVAIL, ENODEV, ENOENT]);
      }
      case 'route-replace':
        await nl.request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, encodeRoute(routeMsg(op.route, this.ifindex(byName, op.route.ifname, what))), { what });
        return true;
      case 'route-del': {
        // Delete by identity + protocol: the kernel skips routes of another protocol, so a foreign route is never removed.
        const r = normRoute(op.route);
        const m = routeMsg(r, byName.get(r.ifname));
        delete m.gateway; delete m.prefsrc;
        return tolerate(nl.request(RTM_DELROUTE, 0, encodeRoute(m), { what }), [ESRCH, ENOENT]);
      }
      case 'proxy-add': {
        const p = op.proxy;
        await nl.request(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, encodeNeigh({
          family: familyToAf(p.family), ifindex: this.ifindex(byName, p.ifname, what), state: NUD_PERMANENT, flags: NTF_PROXY, type: 0,
          dst: p.address, protocol: HANET_RTPROT,
        }), { what });
        return true;
      }
      case 'proxy-del': {
        const p = op.proxy;
        return tolerate(nl.request(RTM_DELNEIGH, 0, encodeNeigh({
          family: familyToAf(p.family), ifindex: this.ifindex(byName, p.ifname, what), state: 0, flags: NTF_PROXY, type: 0, dst: p.address,
        }), { what }), [ENOENT, ESRCH]);
      }
      case 'rule-add': return applyRule(nl, op.rule, true, what);
      case 'rule-del': return applyRule(nl, op.rule, false, what);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.linkListeners.clear();
    this.events?.close();
    this.nl?.close();
    this.events = undefined;
    this.nl = undefined;
  }
}

/** Opens the Linux kernel port (sockets are opened lazily on first use). */
export function openKernel(): LinuxKernel {
  return new LinuxKernel();
}

/** Removes everything marked as hanet's from the current network namespace; returns what it removed. */
export async function cleanupAll(): Promise<KernelOp[]> {
  const k = openKernel();
  try { return await k.cleanupAll(); } finally { k.close(); }
}
