// The chaos run (issue #10): builds the quad lab, runs hanet on its four servers, the P/N/S/B workload against every
// server at once (from the routed client and from the LAN host), the invariant watcher, then the seeded schedule of
// faults, episode by episode; heals everything, stops the daemons, looks for leftovers and returns the numbers.
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { labUp, type LabHandle } from '../../../src/lab/lab.js';
import { defaultTopology } from '../../../src/lab/topology.js';
import { runCluster, type LiveCluster } from '../../../src/lab/live-cluster.js';
import { ensureNft, healAllLinks } from '../../../src/lab/faults.js';
import { FaultRecord } from '../../../src/lab/watch/conditions.js';
import { findLeftovers, sysctlBaseline } from '../../../src/lab/watch/leftovers.js';
import { monoMs, Watcher, watchTopology } from '../../../src/lab/watch/watcher.js';
import { startWorkload, type WorkloadHandle } from '../../../src/lab/workload/index.js';
import type { ConfigInput } from '../../../src/config/schema.js';
import { ChaosHands, GATEWAY_PORT } from './actions.js';
import { runEpisode, settle, type EpisodeRecord } from './episode.js';
import { buildResult, type ChaosResult, type WorkloadRun } from './report.js';
import { drawSchedule, type ChaosTopology } from './schedule.js';

export interface ChaosOptions {
  seed: number;
  faults: number;
  /** Lab name (default "chaos"). */
  name?: string;
  /** Bulk stream rate per workload (bytes/s; default 256 KiB/s: six workloads share two cores). */
  bulkRate?: number;
  /** Leave the lab up afterwards (to look around). */
  keep?: boolean;
  /** Where the daemons' logs are copied at the end (default /tmp/hanet-chaos-<seed>). */
  logsDir?: string;
  log?: (line: string) => void;
}

/** hanet's heartbeat timeout in the cluster (the default): double answering beyond it is summed apart. */
const HEARTBEAT_TIMEOUT_MS = 200;
const REQUEST_TIMEOUT_MS = 10_000;
/** More requests outstanding than this (10 slow ones, a few more in flight) means some hang. */
const STUCK_INFLIGHT = 30;

/** The udp link b-d is made the cheapest way between b and d, so takeovers of b and d go over the udp tunnel. */
function cheapUdp(_node: string, cfg: ConfigInput): ConfigInput {
  return { ...cfg, private: (cfg.private ?? []).map((l) => (l.kind === 'udp' ? { ...l, cost: 5 } : l)) };
}

function chaosTopology(h: ChaosHands): ChaosTopology {
  return {
    servers: h.cluster.servers.map((node) => ({ node, publics: h.publics(node) })),
    links: h.links.map((l) => ({ id: l.id, kind: l.kind, ends: [l.ends[0].node, l.ends[1].node] as [string, string] })),
  };
}

/** Undoes every fault there may be (after an episode that did not settle, and at the end). */
async function healEverything(lab: LabHandle, h: ChaosHands): Promise<void> {
  for (const n of h.cluster.servers) h.cluster.setClockOffset(n, 0);
  for (const n of h.cluster.servers) h.thaw(n);
  const ports = [GATEWAY_PORT, ...h.cluster.servers.flatMap((n) => h.publics(n).map((p) => `${n}:${p}`))];
  for (const p of ports) await lab.heal(p);
  await healAllLinks(lab);
  for (const n of h.cluster.servers) if (!h.cluster.running(n)) await h.startDaemon(n).catch(() => undefined);
  h.rec.reset();
  for (const n of h.cluster.servers) if (h.cluster.running(n)) h.down.delete(n); else h.rec.daemonDown(n);
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const log = o.log ?? (() => {});
  await ensureNft();
  const name = o.name ?? 'chaos';
  const logsDir = o.logsDir ?? `/tmp/hanet-chaos-${o.seed}`;
  const lab = await labUp(defaultTopology('quad'), { name, replace: true });
  let cluster: LiveCluster | undefined;
  const handles: WorkloadHandle[] = [];
  try {
    const servers = Object.entries(lab.topology.nodes).filter(([, n]) => n.role === 'server').map(([k]) => k);
    const baseline = await sysctlBaseline(lab, servers);
    cluster = await runCluster(lab, { tweak: cheapUdp });
    const rec = new FaultRecord();
    const hands = new ChaosHands(lab, cluster, rec);
    const watcher = new Watcher(lab, await watchTopology(lab), rec, { timeoutMs: HEARTBEAT_TIMEOUT_MS });
    watcher.start();
    // The workload: from the routed client to every server's address, from the LAN host to a's second address and c.
    const targets: Array<Omit<WorkloadRun, 'progress'> & { server: string; port: number }> = [
      ...servers.map((s, i) => ({ client: 'cl', server: s, address: `10.0.0.${11 + i}`, viewer: 'r', port: 7100 })),
      { client: 'h', server: 'a', address: '10.0.0.21', viewer: 'h', port: 7101 },
      { client: 'h', server: 'c', address: '10.0.0.13', viewer: 'h', port: 7101 },
    ];
    const runs: WorkloadRun[] = [];
    const progressAt = new Map<WorkloadRun, number>();
    for (const t of targets) {
      const run: WorkloadRun = { client: t.client, address: t.address, viewer: t.viewer, progress: [] };
      runs.push(run);
      handles.push(await startWorkload(lab, {
        server: t.server, address: t.address, client: t.client, port: t.port, requestTimeoutMs: REQUEST_TIMEOUT_MS,
        persistent: { connections: 4, intervalMs: 10 }, perRequest: { intervalMs: 20 }, slow: { concurrency: 10, holdMs: 2000 },
        bulk: { rateBytesPerSec: o.bulkRate ?? 256 * 1024 }, onProgress: (p) => { run.progress.push(p); progressAt.set(run, monoMs()); },
      }));
    }
    // A workload is stuck while requests hang (normally ~11 outstanding: 10 slow ones and one more) or its
    // progress lines stopped: TCP is still backing off after an outage.
    for (const r of runs) progressAt.set(r, monoMs());
    const stuck = (): string => runs.filter((r) => {
      const p = r.progress[r.progress.length - 1];
      return !p || p.inflight > STUCK_INFLIGHT || monoMs() - progressAt.get(r)! > 1000;
    }).map((r) => `${r.client}->${r.address} has requests hanging`).join('; ');
    const startedAt = monoMs();
    const first = await settle(hands, watcher, stuck);
    if (first) log(`not settled before the first fault: ${first}`);
    const schedule = drawSchedule(o.seed, o.faults, chaosTopology(hands));
    const episodes: EpisodeRecord[] = [];
    for (const ep of schedule) {
      let r: EpisodeRecord;
      try {
        r = await runEpisode(hands, watcher, ep, o.seed, log, stuck);
      } catch (e) {
        const now = monoMs();
        r = { index: ep.index, kind: ep.kind, what: `failed to run: ${(e as Error).message}`, start: now, faultAt: now, healedAt: now, settledAt: now, unsettled: (e as Error).message };
        log(`#${ep.index} ${ep.kind}: ${(e as Error).message}`);
      }
      episodes.push(r);
      if (r.unsettled) {
        await healEverything(lab, hands);
        const again = await settle(hands, watcher, stuck);
        if (again) log(`  still not settled after healing everything: ${again}`);
      }
    }
    await healEverything(lab, hands);
    const last = await settle(hands, watcher, stuck);
    if (last) log(`not settled at the end: ${last}`);
    await sleep(500);
    const reports = await Promise.all(handles.splice(0).map((hd) => hd.stop()));
    reports.forEach((r, i) => { runs[i]!.report = r; });
    const endedAt = monoMs();
    const watch = await watcher.stop();
    await cluster.stop();
    const leftovers = await findLeftovers(lab, servers, baseline);
    const input = { seed: o.seed, startedAt, endedAt, episodes, workloads: runs, watch, leftovers, timeoutMs: HEARTBEAT_TIMEOUT_MS, requestTimeoutMs: REQUEST_TIMEOUT_MS };
    // Everything the numbers come from, to look into an episode later (buildResult(JSON.parse(raw)) gives them again).
    mkdirSync(logsDir, { recursive: true });
    writeFileSync(join(logsDir, 'raw.json'), JSON.stringify(input));
    return buildResult(input);
  } finally {
    await Promise.all(handles.map((hd) => hd.stop().catch(() => undefined)));
    if (cluster) {
      mkdirSync(logsDir, { recursive: true });
      for (const n of cluster.servers) cpSync(cluster.logPath(n), join(logsDir, `${n}.log`), { force: true });
      log(`daemon logs and raw data: ${logsDir}`);
    }
    if (!o.keep) {
      await cluster?.stop().catch(() => undefined);
      await lab.down();
    }
  }
}
