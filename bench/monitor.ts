// Benchmark of the native link monitor (src/os/linux/monitor.ts) against the daemon's JS loop (setInterval 10 ms:
// RTM_GETLINK + ARP probe per interface, as src/daemon/daemon.ts polls): idle CPU and RSS, carrier-cut and
// silent-cut detection latency, and false misses while both cores are saturated. Lab `pair`, server a, 2 interfaces.
// Run as root: scripts/isolated.sh node dist/bench/monitor.js [--runs 5] [--seconds 10] [--saturate 15] [--interval 10] [--json]
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { spawn, type ChildProcess } from 'node:child_process';
import { median, r2, sleep, until } from './lib/common.js';
import { labUp } from '../src/lab/lab.js';
import { defaultTopology } from '../src/lab/topology.js';
import type { ChildMode, Obs } from './lib/monitor-child.js';

const CHILD = fileURLToPath(new URL('./lib/monitor-child.js', import.meta.url));

type Mode = ChildMode;
interface Detect { latency: number[]; thread: number[]; sources: Record<string, number> }
const print = (o: unknown): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };
// ---------------- orchestration (root namespace) ----------------


/** CPU time of every thread of a process, ns, by thread name (/proc/<pid>/task/<tid>/schedstat: exact, unlike
 * the 10 ms ticks of /proc/<pid>/stat). */
function threadCpuNs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      out.set(name, (out.get(name) ?? 0) + ns);
    } catch { /* exited */ }
  }
  return out;
}
const rssMiB = (pid: number): number => Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN) / 1024;

class Child {
  readonly obs: Obs[] = [];
  readonly lines: Array<Record<string, unknown>> = [];
  readonly proc: ChildProcess;
  constructor(ns: string, args: string[]) {
    this.proc = spawn('ip', ['netns', 'exec', ns, process.execPath, CHILD, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: this.proc.stdout! }).on('line', (l) => {
      const m = JSON.parse(l) as { obs?: Obs } & Record<string, unknown>;
      if (m.obs) this.obs.push(m.obs); else this.lines.push(m);
    });
  }
  async next(): Promise<Record<string, unknown>> {
    const n = this.lines.length;
    const v = await until(() => this.lines[n], 10_000, 2);
    if (!v) throw new Error('child did not answer');
    return v;
  }
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null) return;
    this.proc.kill('SIGTERM');
    await new Promise((r) => this.proc.once('exit', r));
  }
}

async function startChild(ns: string, mode: Mode, extra: string[] = []): Promise<Child> {
  const c = new Child(ns, [mode, ...extra]);
  if (mode !== 'node') await c.next(); // { ready }
  return c;
}

const stats = (xs: number[]): string => (xs.length ? `${r2(median(xs))} [${r2(Math.min(...xs))}–${r2(Math.max(...xs))}]` : '–');

async function main(): Promise<void> {
  const arg = (k: string, d: number): number => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? Number(process.argv[i + 1]) : d; };
  const runs = arg('runs', 5), seconds = arg('seconds', 10), saturate = arg('saturate', 15);
  process.env.HANET_BENCH_INTERVAL_MS = String(arg('interval', 10)); // read by the children (INTERVAL_MS)
  const interval = Number(process.env.HANET_BENCH_INTERVAL_MS);
  const json = process.argv.includes('--json');
  const lab = await labUp(defaultTopology('pair'), { name: 'monb', replace: true });
  const log = (s: string): void => { if (!json) process.stderr.write(`${s}\n`); };
  const out = {
    runs, seconds, saturate_s: saturate, interval_ms: interval,
    footprint: {} as Record<Mode, { cpu_pct: number[]; rss_mib: number[]; monitor_thread_pct: number[]; main_thread_pct: number[] }>,
    /** cut -> observation in JavaScript (`thread`: -> seen by the monitor thread; the same for the JS loop) */
    carrier_ms: {} as Record<string, Detect>,
    /** the same on a veth whose ends share their ifindex: events held back as for a physical NIC */
    carrier_nonurgent_ms: {} as Record<string, Detect>,
    silent_ms: {} as Record<string, { miss1: number[]; miss2: number[] }>,
    saturated: {} as Record<string, { misses: number; link_changes: number; probes_ok: boolean }>,
  };
  // A veth whose two ends have the same ifindex: linkwatch holds its carrier events back (up to 1 s), as for a
  // physical NIC, so only the direct read sees a cut quickly (KERNEL-FACTS.md).
  const { execFileSync } = await import('node:child_process');
  execFileSync('ip', ['link', 'add', 'nu0', 'netns', lab.ns('a'), 'index', '77', 'type', 'veth', 'peer', 'name', 'nu1', 'netns', lab.ns('b'), 'index', '77']);
  await lab.exec('a', ['ip', 'link', 'set', 'nu0', 'up'], { check: true });
  await lab.exec('b', ['ip', 'link', 'set', 'nu1', 'up'], { check: true });
  const cutterProc = new Child(lab.ns('sw'), ['cutter']);
  const cutterB = new Child(lab.ns('b'), ['cutter']);
  const cut = async (c: Child, mode: 'carrier' | 'silent' | 'up', port: string): Promise<number> => {
    c.proc.stdin!.write(`${JSON.stringify({ mode, port })}\n`);
    const r = await c.next();
    if (typeof r.t0 !== 'number') throw new Error(`cut failed: ${JSON.stringify(r)}`);
    return r.t0;
  };
  const tally = (rec: Detect, o: Obs | undefined, t0: number): void => {
    if (!o) return;
    rec.latency.push(r2(o.jsMs - t0));
    rec.thread.push(r2(o.monoMs - t0));
    rec.sources[o.source ?? '?'] = (rec.sources[o.source ?? '?'] ?? 0) + 1;
  };
  try {
    // 1. idle footprint, modes interleaved so that machine noise spreads over all of them
    const modes: Mode[] = ['native', 'js', 'node'];
    for (const m of modes) out.footprint[m] = { cpu_pct: [], rss_mib: [], monitor_thread_pct: [], main_thread_pct: [] };
    for (let r = 0; r < runs; r++) {
      for (const m of [...modes.slice(r % 3), ...modes.slice(0, r % 3)]) {
        const c = await startChild(lab.ns('a'), m);
        await sleep(2000); // warm-up: module loading and JIT are not idle cost
        const pid = c.proc.pid!;
        const t0 = process.hrtime.bigint(), c0 = threadCpuNs(pid);
        await sleep(seconds * 1000);
        const t1 = process.hrtime.bigint(), c1 = threadCpuNs(pid);
        const pct = (name?: string): number => {
          let ns = 0;
          for (const [k, v] of c1) if (name === undefined || k === name) ns += v - (c0.get(k) ?? 0);
          return r2((ns / Number(t1 - t0)) * 100);
        };
        const f = out.footprint[m];
        f.cpu_pct.push(pct());
        f.monitor_thread_pct.push(pct('hanet-monitor'));
        f.main_thread_pct.push(pct('node'));
        f.rss_mib.push(r2(rssMiB(pid)));
        log(`footprint ${m} run ${r + 1}: ${pct()}% CPU (main thread ${pct('node')}%, monitor thread ${pct('hanet-monitor')}%), ${r2(rssMiB(pid))} MiB`);
        await c.stop();
      }
    }
    // 2. detection latency: cut a's switch port, time from the netlink call to the observation in JS
    for (const m of ['native', 'js'] as const) {
      const c = await startChild(lab.ns('a'), m, ['nu0']);
      out.carrier_ms[m] = { latency: [], thread: [], sources: {} };
      out.carrier_nonurgent_ms[m] = { latency: [], thread: [], sources: {} };
      out.silent_ms[m] = { miss1: [], miss2: [] };
      const replied = (from: number) => until(() => c.obs.slice(from).some((o) => o.type === 'reply' && o.iface === 'eth0'), 5000, 2);
      await replied(0);
      for (let r = 0; r < runs; r++) {
        for (const mode of ['carrier', 'silent'] as const) {
          await sleep(300 + Math.random() * interval); // random phase against the probe grid
          const i = c.obs.length;
          const t0 = await cut(cutterProc, mode, 'a-eth0');
          if (mode === 'carrier') {
            tally(out.carrier_ms[m], await until(() => c.obs.slice(i).find((x) => x.type === 'link' && x.iface === 'eth0' && !x.lowerUp), 5000, 2), t0);
          } else {
            const m2 = await until(() => c.obs.slice(i).find((x) => x.type === 'miss' && x.iface === 'eth0' && x.misses === 2), 5000, 2);
            const m1 = c.obs.slice(i).find((x) => x.type === 'miss' && x.iface === 'eth0' && x.misses === 1);
            if (m1) out.silent_ms[m].miss1.push(r2(m1.jsMs - t0));
            if (m2) out.silent_ms[m].miss2.push(r2(m2.jsMs - t0));
          }
          const j = c.obs.length;
          await lab.heal('a:eth0');
          await replied(j);
        }
        await sleep(300 + Math.random() * interval);
        const k = c.obs.length;
        const t0 = await cut(cutterB, 'carrier', 'nu1');
        tally(out.carrier_nonurgent_ms[m], await until(() => c.obs.slice(k).find((x) => x.type === 'link' && x.iface === 'nu0' && !x.lowerUp), 5000, 2), t0);
        const l = c.obs.length;
        await cut(cutterB, 'up', 'nu1');
        await until(() => c.obs.slice(l).some((x) => x.type === 'link' && x.iface === 'nu0' && x.lowerUp), 5000, 2);
      }
      log(`detection ${m}: carrier ${stats(out.carrier_ms[m].latency)} ms, silent miss1 ${stats(out.silent_ms[m].miss1)} miss2 ${stats(out.silent_ms[m].miss2)} ms`);
      // 3. both cores saturated by two busy processes: no miss, no link change may be reported
      if (saturate > 0) {
        const i = c.obs.length;
        const hogs = [0, 1].map(() => spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
        await sleep(saturate * 1000);
        for (const h of hogs) h.kill('SIGKILL');
        const after = c.obs.slice(i);
        out.saturated[m] = { misses: after.filter((o) => o.type === 'miss').length, link_changes: after.filter((o) => o.type === 'link').length, probes_ok: true };
        log(`saturated ${saturate} s, ${m}: ${out.saturated[m].misses} miss observations, ${out.saturated[m].link_changes} link changes`);
      }
      await c.stop();
    }
  } finally {
    await cutterProc.stop();
    await cutterB.stop();
    await lab.down();
  }
  if (json) { print(out); return; }
  const f = out.footprint;
  console.log(`\nIdle footprint, 2 interfaces, carrier read + ARP probe every ${interval} ms; median [min–max] of ${runs} runs of ${seconds} s:`);
  console.log(`  native monitor : CPU ${stats(f.native.cpu_pct)} % of a core (monitor thread ${stats(f.native.monitor_thread_pct)}, main thread ${stats(f.native.main_thread_pct)}), RSS ${stats(f.native.rss_mib)} MiB`);
  console.log(`  JS loop        : CPU ${stats(f.js.cpu_pct)} % of a core (main thread ${stats(f.js.main_thread_pct)}), RSS ${stats(f.js.rss_mib)} MiB`);
  console.log(`  bare node      : CPU ${stats(f.node.cpu_pct)} % of a core, RSS ${stats(f.node.rss_mib)} MiB`);
  for (const m of ['native', 'js']) {
    console.log(`Detection (${m}), cut by netlink in the peer's namespace -> observation in JS (ms), median [min–max] of ${runs}:`);
    const d = (x: Detect | undefined): string => `${stats(x?.latency ?? [])}${m === 'native' ? ` (thread: ${stats(x?.thread ?? [])})` : ''} by ${JSON.stringify(x?.sources ?? {})}`;
    console.log(`  carrier cut -> link down seen : ${d(out.carrier_ms[m])}`);
    console.log(`  same, events held back (NIC)  : ${d(out.carrier_nonurgent_ms[m])}`);
    console.log(`  silent cut  -> 1st miss       : ${stats(out.silent_ms[m]?.miss1 ?? [])}`);
    console.log(`  silent cut  -> 2nd miss       : ${stats(out.silent_ms[m]?.miss2 ?? [])}`);
    if (out.saturated[m]) console.log(`  both cores saturated ${saturate} s: ${out.saturated[m]!.misses} miss observations, ${out.saturated[m]!.link_changes} link changes`);
  }
}

main().catch((e) => { process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
