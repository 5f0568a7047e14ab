// In-memory KernelPort for unit tests: same planner as the Linux applier, state printed as sorted
// `ip ...` lines so tests read as diffs (Tailscale router_linux_test.go style). No I/O.
import {
  HANET_RTPROT, formatAddr, formatKernelOp, formatProxy, formatRoute, formatRule, normAddr, normProxy, normRoute, normRule, addrKey, proxyKey, routeKey, ruleKey,
  planCleanupOps, planKernelOps,
} from '../../src/core/kernel-plan.js';
import type { AddrSpec, DesiredKernelState, KernelOp, KernelPort, LinkState, ProxySpec, RouteSpec, RuleSpec } from '../../src/core/kernel-types.js';

export { HANET_RTPROT };

interface FakeAddr extends AddrSpec { hanet: boolean }

/** A fake kernel. Seed it with links, foreign addresses and sysctls; read it back with `lines()`. */
export class FakeKernel implements KernelPort {
  readonly links = new Map<string, LinkState>();
  readonly addresses = new Map<string, FakeAddr>();
  readonly routes = new Map<string, RouteSpec>();   // hanet routes only (keyed by identity)
  readonly proxies = new Map<string, ProxySpec>();  // hanet proxy entries only
  readonly rules = new Map<string, RuleSpec>();     // hanet policy rules only
  readonly sysctls = new Map<string, string>();
  /** Every op applied, in order (across reconcile calls). */
  readonly log: KernelOp[] = [];
  /** Number of reconcile() calls. */
  reconcileCount = 0;
  /** Interfaces whose neighbour entries were flushed, in order (the fake holds no neighbour table). */
  readonly neighborFlushes: string[] = [];
  private readonly listeners = new Set<(l: LinkState) => void>();
  private readonly failing = new Map<string, Error>();
  private closed = false;

  constructor(init: { links?: Partial<LinkState>[]; addresses?: AddrSpec[]; sysctls?: Record<string, string> } = {}) {
    for (const l of init.links ?? []) this.setLink(l.name ?? 'eth0', l, { silent: true });
    for (const a of init.addresses ?? []) this.addresses.set(addrKey(a), { ...normAddr(a), hanet: false });
    for (const [k, v] of Object.entries(init.sysctls ?? {})) this.sysctls.set(k, v);
  }

  /** Creates or changes a link and notifies onLinkChange listeners (unless silent). */
  setLink(name: string, patch: Partial<LinkState>, opts: { silent?: boolean } = {}): LinkState {
    const prev = this.links.get(name) ?? { index: this.links.size + 1, name, up: true, lowerUp: true, carrier: true, mac: fakeMac(this.links.size + 1), mtu: 1500 };
    const next: LinkState = { ...prev, ...patch, name };
    this.links.set(name, next);
    if (!opts.silent) for (const l of [...this.listeners]) l({ ...next });
    return next;
  }

  /** Makes the next op whose `ip` text starts with `prefix` fail with `error` (once). */
  failNext(prefix: string, error: Error = new Error('injected failure')): void {
    this.failing.set(prefix, error);
  }

  async getLink(name: string): Promise<LinkState | undefined> {
    this.check();
    const l = this.links.get(name);
    return l ? { ...l } : undefined;
  }

  onLinkChange(cb: (l: LinkState) => void): () => void {
    this.check();
    this.listeners.add(cb);
    return () => { this.listeners.delete(cb); };
  }

  /** What the Linux applier would read for `desired`. */
  actualFor(desired: DesiredKernelState): Parameters<typeof planKernelOps>[0] {
    const ifs = new Set([...desired.addresses, ...desired.managedAddresses].map((a) => a.ifname));
    return {
      addresses: [...this.addresses.values()].filter((a) => ifs.has(a.ifname)).map(stripHanet),
      routes: [...this.routes.values()],
      proxies: [...this.proxies.values()],
      rules: [...this.rules.values()],
      sysctls: desired.sysctls.flatMap((s) => { const v = this.sysctls.get(s.path); return v === undefined ? [] : [{ path: s.path, value: v }]; }),
    };
  }

  async reconcile(desired: DesiredKernelState): Promise<KernelOp[]> {
    this.check();
    this.reconcileCount++;
    return this.execute(planKernelOps(this.actualFor(desired), desired));
  }

  async leftovers(): Promise<{ routes: RouteSpec[]; proxies: ProxySpec[]; addresses: AddrSpec[]; rules: RuleSpec[] }> {
    this.check();
    return { routes: [...this.routes.values()], proxies: [...this.proxies.values()], addresses: [...this.addresses.values()].filter((a) => a.hanet).map(stripHanet), rules: [...this.rules.values()] };
  }

  async flushNeighbors(ifname: string): Promise<number> {
    this.check();
    this.neighborFlushes.push(ifname);
    return 0;
  }

  async cleanupAll(): Promise<KernelOp[]> {
    this.check();
    return this.execute(planCleanupOps({
      addresses: [...this.addresses.values()].filter((a) => a.hanet).map(stripHanet),
      routes: [...this.routes.values()],
      proxies: [...this.proxies.values()],
      rules: [...this.rules.values()],
    }));
  }

  private execute(ops: KernelOp[]): KernelOp[] {
    const applied: KernelOp[] = [];
    for (const op of ops) {
      const text = formatKernelOp(op);
      for (const [prefix, err] of this.failing) {
        if (text.startsWith(prefix)) { this.failing.delete(prefix); throw err; }
      }
      this.apply(op);
      applied.push(op);
      this.log.push(op);
    }
    return applied;
  }

  private apply(op: KernelOp): void {
    switch (op.op) {
      case 'sysctl': this.sysctls.set(op.path, op.value); break;
      case 'addr-add': this.addresses.set(addrKey(op.addr), { ...normAddr(op.addr), hanet: true }); break;
      case 'addr-del': {
        this.addresses.delete(addrKey(op.addr));
        // Like Linux: removing an address flushes routes that use it as src.
        const gone = normAddr(op.addr).address;
        for (const [k, r] of this.routes) if (r.src !== undefined && normRoute(r).src === gone && !this.hasAddress(gone)) this.routes.delete(k);
        break;
      }
      case 'route-replace': this.routes.set(routeKey(op.route), normRoute(op.route)); break;
      case 'route-del': this.routes.delete(routeKey(op.route)); break;
      case 'proxy-add': this.proxies.set(proxyKey(op.proxy), normProxy(op.proxy)); break;
      case 'proxy-del': this.proxies.delete(proxyKey(op.proxy)); break;
      case 'rule-add': this.rules.set(ruleKey(op.rule), normRule(op.rule)); break;
      case 'rule-del': this.rules.delete(ruleKey(op.rule)); break;
    }
  }

  private hasAddress(address: string): boolean {
    for (const a of this.addresses.values()) if (a.address === address) return true;
    return false;
  }

  /** The state as sorted `ip`-style lines: addresses, routes, proxies (hanet's marked `proto hanet`), sysctls. */
  lines(): string[] {
    const out: string[] = [];
    for (const a of this.addresses.values()) out.push(`ip ${a.family === 6 ? '-6 ' : ''}addr add ${formatAddr(a)}${a.hanet ? ' proto hanet' : ''}`);
    for (const r of this.routes.values()) out.push(`ip ${r.family === 6 ? '-6 ' : ''}route add ${formatRoute(r)} proto hanet`);
    for (const p of this.proxies.values()) out.push(`ip ${p.family === 6 ? '-6 ' : ''}neigh add ${formatProxy(p)} proto hanet`);
    for (const r of this.rules.values()) out.push(`ip ${r.family === 6 ? '-6 ' : ''}rule add ${formatRule(r)} proto hanet`);
    for (const [k, v] of this.sysctls) out.push(`sysctl ${k}=${v}`);
    return out.sort();
  }

  /** lines() joined with newlines (plus a trailing one), for assert.equal diffs. */
  dump(): string {
    const l = this.lines();
    return l.length ? `${l.join('\n')}\n` : '';
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
  }

  private check(): void {
    if (this.closed) throw new Error('FakeKernel: closed');
  }
}

const stripHanet = (a: FakeAddr): AddrSpec => ({ family: a.family, ifname: a.ifname, address: a.address, prefixLen: a.prefixLen });
const fakeMac = (i: number): string => `02:00:00:00:00:${i.toString(16).padStart(2, '0')}`;
