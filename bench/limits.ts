// `npm run bench:limits`: detection and takeover at 1 ms resolution with a breakdown, the idle daemon's footprint
// (native link monitor vs the portable loop) and false failures with both cores saturated (issue #13). Root; prints
// a summary and, with --json, one object. Options: --runs N (failovers per mode, default 5), --idle S (seconds of
// idling per measurement, default 20), --saturate M (minutes with both cores busy, default 2; 0 skips),
// --probe-ms N (also measure with probes and carrier reads every N ms, e.g. 5).
import { labUp } from '../src/lab/lab.js';
import { defaultTopology } from '../src/lab/topology.js';
import { serverConfig, startCluster, type Cluster } from '../src/lab/cluster.js';
import { gapFailovers, type CutMode, type GapSummary } from './lib/gap1ms-bench.js';
import { clusterWith, falseFailures, idleFootprint, medianOf, type DaemonFootprint, type SaturationResult, type WatcherKind } from './lib/idle.js';

export interface LimitsResult {
  gap_1ms: Record<CutMode, GapSummary>;
  gap_1ms_fast_probes?: { probeMs: number } & Record<CutMode, GapSummary>;
  footprint: Record<WatcherKind, { daemons: DaemonFootprint[]; idle_cpu_pct: number; rss_mib: number; pss_mib: number; private_mib: number }>;
  saturation?: SaturationResult;
}

const arg = (k: string): string | undefined => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? process.argv[i + 1] : undefined; };

/** Runs the measurements on a fresh `pair` lab named `name`. */
export async function runLimits(o: { runs: number; idleSeconds: number; saturateMinutes: number; probeMs?: number; name?: string; log: (s: string) => void }): Promise<LimitsResult> {
  const lab = await labUp(defaultTopology('pair'), { name: o.name ?? 'blim', replace: true });
  let cluster: Cluster | undefined;
  try {
    const footprint = {} as LimitsResult['footprint'];
    for (const w of ['native', 'poll'] as const) {
      cluster = await clusterWith(lab, w);
      const daemons = await idleFootprint(cluster, o.idleSeconds);
      footprint[w] = { daemons, idle_cpu_pct: medianOf(daemons, 'cpuPct'), rss_mib: medianOf(daemons, 'rssMiB'), pss_mib: medianOf(daemons, 'pssMiB'), private_mib: medianOf(daemons, 'privateMiB') };
      o.log(`idle, ${w} watcher: CPU ${footprint[w].idle_cpu_pct} % of a core per daemon, RSS ${footprint[w].rss_mib} MiB (PSS ${footprint[w].pss_mib}, private ${footprint[w].private_mib})`);
      await cluster.stop();
      cluster = undefined;
    }
    cluster = await clusterWith(lab, 'native');
    const gap_1ms = await gapFailovers(lab, cluster, { runs: o.runs, modes: ['carrier', 'silent'], log: o.log });
    let saturation: SaturationResult | undefined;
    if (o.saturateMinutes > 0) {
      saturation = await falseFailures(cluster, o.saturateMinutes);
      o.log(`${o.saturateMinutes} min with both cores saturated: ${saturation.falseFailures} false failures (${saturation.perHour}/h) ${JSON.stringify(saturation.events)}`);
    }
    await cluster.stop();
    cluster = undefined;
    let fast: LimitsResult['gap_1ms_fast_probes'];
    if (o.probeMs !== undefined) {
      // The same cluster with every public port's carrier reads and probes at o.probeMs.
      const dir = `/run/hanet-lab/${lab.name}/cluster`;
      const probe = { carrier_interval_ms: o.probeMs, arp_interval_ms: o.probeMs };
      const overrides = Object.fromEntries(['a', 'b'].map((n) => [n, { public: (serverConfig(lab.topology, n, dir, lab.name).public ?? []).map((p) => ({ ...p, probe })) }]));
      cluster = await startCluster(lab, { overrides });
      await cluster.waitFor('a', (st) => st.ready && st.links.every((l) => l.alive), { timeoutMs: 15_000, what: 'the cluster ready' });
      fast = { probeMs: o.probeMs, ...(await gapFailovers(lab, cluster, { runs: o.runs, modes: ['carrier', 'silent'], log: (s) => o.log(`${o.probeMs} ms probes: ${s}`) })) };
    }
    return { gap_1ms, ...(fast ? { gap_1ms_fast_probes: fast } : {}), footprint, ...(saturation ? { saturation } : {}) };
  } finally {
    await cluster?.stop();
    await lab.down();
  }
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const log = (s: string) => (json ? process.stderr : process.stdout).write(`${s}\n`);
  const probe = arg('probe-ms');
  const r = await runLimits({ runs: Number(arg('runs') ?? 5), idleSeconds: Number(arg('idle') ?? 20), saturateMinutes: Number(arg('saturate') ?? 2), ...(probe ? { probeMs: Number(probe) } : {}), log });
  if (json) process.stdout.write(`${JSON.stringify(r)}\n`);
  else for (const m of ['carrier', 'silent'] as const) log(`${m}: largest round-trip gap median ${r.gap_1ms[m].medianMs} ms (max ${r.gap_1ms[m].maxMs}), detection ${r.gap_1ms[m].detectMedianMs} ms, handshake ${r.gap_1ms[m].handshakeMedianMs} ms`);
}

if (process.argv[1] && import.meta.url === new URL(process.argv[1], 'file:').href) {
  main().catch((e) => { process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
}
