// Test helper: runs the kernel/ARP code under test INSIDE a network namespace (`ip netns exec <ns> node
// ns-agent.js --serve`) and talks JSON lines over stdin/stdout; plus namespace setup helpers for lab tests.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

// ---------------- client side (test process, root namespace: only `ip netns` / `ip -n` commands) ----------------

export function sh(argv: string[], opts: { check?: boolean } = {}): string {
  try {
    return execFileSync(argv[0]!, argv.slice(1), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    if (opts.check === false) return '';
    const err = e as { stderr?: string; message: string };
    throw new Error(`${argv.join(' ')}: ${err.stderr ?? err.message}`);
  }
}
/** `ip -n <ns> ...` */
export const ipn = (ns: string, ...args: string[]): string => sh(['ip', '-n', ns, ...args]);
export const nsExec = (ns: string, ...argv: string[]): string => sh(['ip', 'netns', 'exec', ns, ...argv]);

/** Test namespace names: `hn-tk<tag><pid>` so parallel runs do not collide. */
export const nsName = (tag: string): string => `hn-tk${tag}${process.pid % 100000}`;

export function addNs(...names: string[]): void {
  for (const n of names) {
    if (!n.startsWith('hn-t')) throw new Error(`refusing to create namespace '${n}' (test namespaces start with hn-t)`);
    sh(['ip', 'netns', 'del', n], { check: false });
    sh(['ip', 'netns', 'add', n]);
    ipn(n, 'link', 'set', 'lo', 'up');
  }
}
export function delNs(...names: string[]): void {
  for (const n of names) if (n.startsWith('hn-t')) sh(['ip', 'netns', 'del', n], { check: false });
}

export interface AgentEvent { event: string; [k: string]: unknown }

export class Agent {
  private readonly child: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  readonly events: AgentEvent[] = [];
  private stderr = '';
  readonly exited: Promise<number | null>;

  constructor(readonly ns: string) {
    this.child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--enable-source-maps', fileURLToPath(import.meta.url), '--serve'],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      let m: { id?: number; ok?: boolean; value?: unknown; error?: string; event?: string };
      try { m = JSON.parse(line); } catch { this.stderr += `bad line: ${line}\n`; return; }
      if (m.event) { this.events.push(m as AgentEvent); return; }
      const w = m.id !== undefined ? this.waiting.get(m.id) : undefined;
      if (!w) return;
      this.waiting.delete(m.id!);
      if (m.ok) w.resolve(m.value); else w.reject(new Error(m.error));
    });
    this.exited = new Promise((res) => this.child.on('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`agent in ${ns} exited (${code}): ${this.stderr}`));
      this.waiting.clear();
      res(code);
    }));
  }

  call<T = unknown>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin!.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
    });
  }

  /** Simulated crash: SIGKILL, no cleanup. */
  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin!.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(t);
  }
}

// ---------------- server side (inside the namespace) ----------------

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? NaN; };
const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN; };

async function serve(): Promise<void> {
  const { openKernel } = await import('../../src/os/linux/kernel.js');
  const { openArp } = await import('../../src/os/linux/arp.js');
  const { openNdp } = await import('../../src/os/linux/ndp.js');
  const ndpCodec = await import('../../src/proto/ndp.js');
  const native = await import('../../src/os/linux/native.js');
  const { NetlinkSocket } = await import('../../src/os/linux/netlink.js');
  const nl = await import('../../src/proto/netlink.js');
  let kernel = openKernel();
  const arps = new Map<string, ReturnType<typeof openArp>>();
  const ndps = new Map<string, ReturnType<typeof openNdp>>();
  const announcementWatchers = new Map<string, { s: ReturnType<typeof openArp>; seen: string[] }>();
  const watches = new Map<string, { w: { pollAt?: number; notifyAt?: number; polls: number; done: boolean }; off: () => void; loop: Promise<void> }>();
  const out = (o: unknown): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };
  const ctl = NetlinkSocket.open();
  const setUp = async (name: string, up: boolean): Promise<void> => {
    const l = await kernel.getLink(name);
    if (!l) throw new Error(`no link ${name}`);
    await ctl.request(nl.RTM_NEWLINK, 0, nl.encodeLink({ family: 0, ifindex: l.index, type: 0, flags: up ? nl.IFF_UP : 0, change: nl.IFF_UP }), { what: `set ${name} ${up ? 'up' : 'down'}` });
  };
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  /**
   * Probe (ARP or NDP socket), then block the event loop for `blockMs` (a stalled daemon) and call drain(): the reply
   * must be delivered by drain() itself, before any event-loop turn. Waits up to `waitMs` (2 s) for it.
   */
  type Prober = { sendProbe(t: string): void; drain(): void; onReply(cb: (r: { senderIp: string; atMs: number }) => void): () => void };
  const probeOnce = async (s: Prober, a: Record<string, unknown>): Promise<unknown> => {
    const replies: { senderIp: string; atMs: number }[] = [];
    const off = s.onReply((r) => replies.push(r));
    const t0 = performance.now();
    s.sendProbe(a.target as string);
    const until = t0 + ((a.blockMs as number) ?? 0);
    while (performance.now() < until) { /* busy: the event loop cannot run */ }
    const beforeDrain = replies.length;
    s.drain();
    const afterDrain = replies.length;
    const deadline = performance.now() + ((a.waitMs as number) ?? 2000);
    while (!replies.some((r) => r.senderIp === a.target) && performance.now() < deadline) await sleep(1);
    off();
    const r = replies.find((x) => x.senderIp === a.target);
    return { beforeDrain, afterDrain, reply: r ?? null, rttMs: r ? r.atMs - t0 : null };
  };

  const handlers: Record<string, (a: Record<string, unknown>) => Promise<unknown>> = {
    getLink: async (a) => (await kernel.getLink(a.name as string)) ?? null,
    reconcile: async (a) => {
      const t0 = performance.now();
      try {
        const ops = await kernel.reconcile(a.desired as Parameters<typeof kernel.reconcile>[0]);
        return { ops, ms: performance.now() - t0 };
      } catch (e) {
        const err = e as Error & { code?: string; failures?: { error: Error & { extAck?: string; errnoName?: string } }[]; applied?: unknown[] };
        return { error: err.message, code: err.code, applied: err.applied, extAcks: err.failures?.map((f) => f.error.extAck ?? null), errnos: err.failures?.map((f) => f.error.errnoName ?? null) };
      }
    },
    cleanupAll: async () => kernel.cleanupAll(),
    leftovers: async () => kernel.leftovers(),
    flushNeighbors: async (a) => kernel.flushNeighbors(a.name as string),
    /** Two reconciles started together: they must run one after the other. */
    reconcileBoth: async (a) => {
      type D = Parameters<typeof kernel.reconcile>[0];
      const [x, y] = await Promise.all([kernel.reconcile(a.first as D), kernel.reconcile(a.second as D)]);
      return [x, y];
    },
    /** round-trip time of getLink, µs */
    benchGetLink: async (a) => {
      const n = (a.n as number) ?? 1000;
      const xs: number[] = [];
      for (let i = 0; i < 50; i++) await kernel.getLink(a.name as string); // warm-up
      for (let i = 0; i < n; i++) {
        const t0 = performance.now();
        await kernel.getLink(a.name as string);
        xs.push((performance.now() - t0) * 1000);
      }
      return { medianUs: median(xs), p99Us: pct(xs, 0.99), n };
    },
    /** Repeated takeover apply/release, ms per reconcile. */
    benchReconcile: async (a) => {
      const takeover = a.takeover as Parameters<typeof kernel.reconcile>[0];
      const release = a.release as Parameters<typeof kernel.reconcile>[0];
      const apply: number[] = [], rel: number[] = [], noop: number[] = [];
      let opsCount = 0;
      for (let i = 0; i < ((a.n as number) ?? 50); i++) {
        let t0 = performance.now();
        opsCount = (await kernel.reconcile(takeover)).length;
        apply.push(performance.now() - t0);
        t0 = performance.now();
        await kernel.reconcile(takeover);
        noop.push(performance.now() - t0);
        t0 = performance.now();
        await kernel.reconcile(release);
        rel.push(performance.now() - t0);
      }
      return { opsCount, applyMedianMs: median(apply), noopMedianMs: median(noop), releaseMedianMs: median(rel) };
    },
    /** Sets a link admin up/down through netlink; returns the wall-clock ms just before the request. */
    setLink: async (a) => {
      const at = performance.timeOrigin + performance.now();
      await setUp(a.name as string, a.up as boolean);
      return at;
    },
    waitCarrier: async (a) => {
      const deadline = performance.now() + 5000;
      while ((await kernel.getLink(a.name as string))?.carrier !== a.carrier) {
        if (performance.now() > deadline) throw new Error(`carrier of ${a.name} never became ${a.carrier}`);
        await sleep(1);
      }
      return true;
    },
    /**
     * Starts watching `name` for carrier loss two ways at once: getLink polled on every event-loop turn
     * (setImmediate), and RTNLGRP_LINK notifications. Results (wall-clock ms) come from carrierResult.
     */
    carrierWatch: async (a) => {
      const name = a.name as string;
      const w: { pollAt?: number; notifyAt?: number; polls: number; done: boolean } = { polls: 0, done: false };
      const wall = (): number => performance.timeOrigin + performance.now();
      const off = kernel.onLinkChange((l) => { if (l.name === name && !l.carrier && w.notifyAt === undefined) w.notifyAt = wall(); });
      const loop = async (): Promise<void> => {
        while (a.poll !== false && !w.done && w.pollAt === undefined) {
          w.polls++;
          const l = await kernel.getLink(name);
          if (l && !l.carrier) w.pollAt = wall();
          else await new Promise((r) => setImmediate(r));
        }
      };
      watches.set(name, { w, off, loop: loop() });
      return true;
    },
    carrierResult: async (a) => {
      const x = watches.get(a.name as string)!;
      const deadline = performance.now() + ((a.waitMs as number) ?? 3000);
      while ((x.w.pollAt === undefined || x.w.notifyAt === undefined) && performance.now() < deadline) await sleep(2);
      x.w.done = true;
      await x.loop;
      x.off();
      watches.delete(a.name as string);
      return { pollAt: x.w.pollAt ?? null, notifyAt: x.w.notifyAt ?? null, polls: x.w.polls };
    },
    watchLinks: async () => {
      kernel.onLinkChange((l) => out({ event: 'link', link: l, atMs: performance.timeOrigin + performance.now() }));
      return true;
    },
    arpOpen: async (a) => { const s = openArp(a.ifname as string); arps.set(a.ifname as string, s); s.onReply((r) => out({ event: 'arp-reply', ifname: a.ifname, ...r })); return s.mac(); },
    /** An announcements-only ARP socket (kernel-filtered): the announcements it saw, and the frames that passed. */
    arpWatchAnnouncements: async (a) => {
      const s = openArp(a.ifname as string, { announcementsOnly: true });
      const seen: string[] = [];
      s.onAnnouncement((x) => seen.push(x.ip));
      announcementWatchers.set(a.ifname as string, { s, seen });
      return s.takePacketCount();
    },
    arpAnnouncementsSeen: async (a) => { const w = announcementWatchers.get(a.ifname as string)!; w.s.drain(); return { seen: w.seen, frames: w.s.takePacketCount() }; },
    arpGarp: async (a) => { arps.get(a.ifname as string)!.sendGratuitous(a.ip as string); return true; },
    arpProbe: async (a) => probeOnce(arps.get(a.ifname as string)!, a),
    /** Probe RTT through the event loop (no blocking), median over n. */
    arpProbeBench: async (a) => {
      const s = arps.get(a.ifname as string)!;
      const xs: number[] = [];
      for (let i = 0; i < ((a.n as number) ?? 100); i++) {
        let resolve!: (v: number) => void;
        const p = new Promise<number>((r) => { resolve = r; });
        const t0 = performance.now();
        const cb = (r: { senderIp: string; atMs: number }): void => { if (r.senderIp === a.target) resolve(r.atMs - t0); };
        const off = s.onReply(cb);
        s.sendProbe(a.target as string);
        xs.push(await Promise.race([p, sleep(1000).then(() => NaN)]));
        off();
      }
      return { medianMs: median(xs), p99Ms: pct(xs, 0.99) };
    },
    // ---- NDP (test/lab/ndp.test.ts) ----
    ndpOpen: async (a) => {
      ndps.get(a.ifname as string)?.close();
      const s = openNdp(a.ifname as string, a.probeSource ? { probeSource: a.probeSource as 'link-local' | 'unspecified' } : {});
      ndps.set(a.ifname as string, s);
      s.onReply((r) => out({ event: 'na', ifname: a.ifname, ...r }));
      s.onAnnouncement((r) => out({ event: 'ndp-announcement', ifname: a.ifname, ...r }));
      return { mac: s.mac(), linkLocal: s.linkLocal() ?? null };
    },
    ndpNa: async (a) => { ndps.get(a.ifname as string)!.sendUnsolicitedNa(a.address as string); return true; },
    ndpProbe: async (a) => probeOnce(ndps.get(a.ifname as string)!, a),
    /** Sends a unicast NS (what a router whose entry is in PROBE sends) with the codec through a plain packet socket. */
    ndpUnicastNs: async (a) => {
      const n = native.native();
      const fd = n.socket(native.AF_PACKET, native.SOCK_DGRAM, 0);
      try {
        const pkt = ndpCodec.encodeNdp({ kind: 'ns', source: a.source as string, destination: a.target as string, target: a.target as string });
        const { parseMac } = await import('../../src/proto/inet.js');
        n.sendto(fd, Buffer.from(pkt), native.sockaddrLl(n.ifNameToIndex(a.ifname as string), native.ETH_P_IPV6, parseMac(a.dstMac as string)));
      } finally { n.close(fd); }
      return performance.now();
    },
    ndpPacketCount: async (a) => ndps.get(a.ifname as string)!.takePacketCount(),
    fds: async () => {
      const { readdirSync } = await import('node:fs');
      return readdirSync('/proc/self/fd').length;
    },
    closeAll: async () => { for (const s of [...arps.values(), ...ndps.values()]) s.close(); arps.clear(); ndps.clear(); kernel.close(); kernel = openKernel(); return true; },
  };

  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    let req: { id: number; cmd: string } & Record<string, unknown>;
    try { req = JSON.parse(line); } catch { return; }
    const h = handlers[req.cmd];
    if (!h) { out({ id: req.id, ok: false, error: `unknown command ${req.cmd}` }); return; }
    h(req).then((value) => out({ id: req.id, ok: true, value }), (e: Error) => out({ id: req.id, ok: false, error: `${e.name}: ${e.message}` }));
  });
  rl.on('close', () => {
    for (const s of [...arps.values(), ...ndps.values()]) s.close();
    kernel.close();
    ctl.close();
  });
}

if (process.argv[2] === '--serve') {
  serve().catch((e) => { process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
}
