// One episode of the chaos run: an optional takeover first (an owner's public ports fail and a helper carries it),
// then the fault (hitting the owner, its helper, their link or a bystander when a takeover is under way), held,
// healed, and the cluster watched until it has settled: every daemon ready, every address served by its owner, no
// claim held, the watcher seeing exactly one answer per address and delivery from every viewer.
import { setTimeout as sleep } from 'node:timers/promises';
import type { DaemonStatus } from '../../../src/daemon/daemon.js';
import { monoMs, type Watcher } from '../../../src/lab/watch/watcher.js';
import type { ChaosHands } from './actions.js';
import { GATEWAY_PORT } from './actions.js';
import { prng, type Episode, type PortMode } from './schedule.js';

export interface EpisodeRecord {
  index: number;
  kind: Episode['kind'];
  /** What was hit, resolved (e.g. "link a:eth2-b:eth1 (helper's link to owner b)"). */
  what: string;
  start: number;
  faultAt: number;
  healedAt: number;
  settledAt: number;
  /** Set when the cluster did not settle in time: what was still wrong. */
  unsettled?: string;
}

const SETTLE_TIMEOUT_MS = 25_000;

async function statuses(h: ChaosHands): Promise<Map<string, DaemonStatus | string>> {
  const out = new Map<string, DaemonStatus | string>();
  await Promise.all(h.cluster.servers.map(async (n) => {
    if (!h.cluster.running(n)) { out.set(n, 'daemon not running'); return; }
    try { out.set(n, await h.cluster.status(n)); } catch (e) { out.set(n, (e as Error).message); }
  }));
  return out;
}

/** What keeps the cluster from being settled now ('' when settled). */
async function unsettled(h: ChaosHands, w: Watcher): Promise<string> {
  const problems: string[] = [];
  for (const [n, s] of await statuses(h)) {
    if (typeof s === 'string') { problems.push(`${n}: ${s}`); continue; }
    if (!s.ready) problems.push(`${n}: not ready`);
    for (const p of s.publics) if (!p.health.healthy || p.placement.kind !== 'own') problems.push(`${n}:${p.iface} ${p.health.healthy ? 'healthy' : 'unhealthy'} placed ${p.placement.kind}`);
    if (s.claims.length) problems.push(`${n}: claims ${s.claims.map((c) => `${c.helper}${c.acked ? '' : '?'}`).join(',')}`);
    const live = s.helping.filter((x) => !x.lingering);
    if (live.length) problems.push(`${n}: helping ${live.map((x) => x.owner).join(',')}`);
  }
  for (const v of w.verdicts()) {
    if (v.answerers.length !== 1 || v.answerers[0] !== v.owner || v.staleAnswerers.length) problems.push(`${v.address} answered by [${[...v.answerers, ...v.staleAnswerers].join(',')}]`);
    for (const [viewer, ok] of Object.entries(v.delivers)) if (!ok) problems.push(`${viewer} does not deliver to ${v.address}`);
  }
  return problems.join('; ');
}

/**
 * Waits until settled; returns '' or what was still wrong after the timeout. `stuck` says which workloads still
 * have requests hanging (TCP backing off after an outage), so their stall is not blamed on the next fault.
 */
export async function settle(h: ChaosHands, w: Watcher, stuck: () => string = () => '', timeoutMs = SETTLE_TIMEOUT_MS): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = [await unsettled(h, w), stuck()].filter(Boolean).join('; ');
    if (last === '') return '';
    if (Date.now() > deadline) return last;
    await sleep(100);
  }
}

/** The helper carrying `owner` now, from the owner's claims (undefined when none is acknowledged). */
async function helperOf(h: ChaosHands, owner: string): Promise<{ helper: string; link: string } | undefined> {
  try {
    const s = await h.cluster.status(owner);
    const c = s.claims.find((x) => x.acked);
    return c ? { helper: c.helper, link: c.link } : undefined;
  } catch { return undefined; }
}

export async function runEpisode(h: ChaosHands, w: Watcher, ep: Episode, seed: number, log: (s: string) => void, stuck: () => string = () => ''): Promise<EpisodeRecord> {
  const rnd = prng((seed * 1_000_003 + ep.index) >>> 0); // runtime choices (a bystander, a link) stay reproducible
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  await sleep(ep.gapMs);
  const start = monoMs();
  const servers = h.cluster.servers;
  let owner: string | undefined;
  let helper: { helper: string; link: string } | undefined;
  const bgPorts: string[] = [];
  if (ep.background) {
    owner = ep.background.owner;
    for (const p of h.publics(owner)) bgPorts.push(`${owner}:${p}`);
    await Promise.all(bgPorts.map((p) => h.failPort(p, ep.background!.mode)));
    const deadline = Date.now() + 5000;
    while (!(helper = await helperOf(h, owner)) && Date.now() < deadline) await sleep(20);
  }
  const roleNode = (): string => {
    if (!owner || !ep.role) return ep.target;
    if (ep.role === 'owner') return owner;
    if (ep.role === 'helper' && helper) return helper.helper;
    return pick(servers.filter((n) => n !== owner && n !== helper?.helper));
  };
  const roleLink = (): string => {
    if (owner && helper && ep.role !== 'other') return h.linkByName(helper.link)?.id ?? ep.target;
    return ep.target;
  };
  let what = '';
  const faultAt = monoMs();
  let heal: () => Promise<void> = async () => {};
  switch (ep.kind) {
    case 'port-carrier': case 'port-silent': case 'port-admin': {
      what = `${ep.target} ${ep.mode}`;
      await h.failPort(ep.target, ep.mode as PortMode);
      heal = () => h.healPort(ep.target);
      break;
    }
    case 'port-flap': what = ep.target; await h.flap(ep.target); heal = () => h.healPort(ep.target); break;
    case 'gateway-down': what = `${GATEWAY_PORT} for ${ep.holdMs} ms`; await h.failPort(GATEWAY_PORT, 'carrier'); heal = () => h.healPort(GATEWAY_PORT); break;
    case 'link-cut': case 'link-silent': case 'link-oneway': {
      const id = roleLink();
      const fault = ep.kind === 'link-cut' ? 'cut' : ep.kind === 'link-silent' ? 'silent' : 'oneway';
      const l = h.link(id);
      what = `${id}${fault === 'oneway' ? ` towards ${l.ends[ep.towards ?? 1].node}` : ''}`;
      await h.failLink(id, fault, ep.towards ?? 1);
      heal = () => h.healLink(id, fault, ep.towards ?? 1);
      break;
    }
    case 'serial-unplug': what = `${ep.target} ${ep.mode}`; await h.unplugSerial(ep.target, ep.mode as 'hangup' | 'silent'); heal = () => h.plugSerial(ep.target); break;
    case 'daemon-kill9': case 'daemon-term': {
      const n = roleNode();
      what = `${n}, down ${ep.downMs} ms`;
      await h.stopDaemon(n, ep.kind === 'daemon-kill9' ? 'SIGKILL' : 'SIGTERM');
      await sleep(ep.downMs ?? 0);
      await h.startDaemon(n);
      break;
    }
    case 'daemon-stop-short': case 'daemon-stop-long': {
      const n = roleNode();
      what = n;
      h.freeze(n);
      heal = async () => h.thaw(n);
      break;
    }
    case 'helper-cascade': {
      if (!helper) { what = `no helper for ${owner}`; break; }
      const hn = helper.helper;
      what = `${owner} helped by ${hn}, then ${hn} ${ep.mode === 'port' ? `port ${ep.second}` : 'kill -9'}`;
      if (ep.mode === 'port') {
        const ports = h.publics(hn).map((p) => `${hn}:${p}`);
        await Promise.all(ports.map((p) => h.failPort(p, ep.second as PortMode)));
        heal = async () => { await Promise.all(ports.map((p) => h.healPort(p))); };
      } else {
        await h.stopDaemon(hn, 'SIGKILL');
        heal = () => h.startDaemon(hn);
      }
      break;
    }
    case 'two-at-once': {
      what = `${ep.target} + ${ep.second} ${ep.mode}`;
      await Promise.all([h.failPort(ep.target, ep.mode as PortMode), h.failPort(ep.second!, ep.mode as PortMode)]);
      heal = async () => { await Promise.all([h.healPort(ep.target), h.healPort(ep.second!)]); };
      break;
    }
    case 'clock-step': {
      const n = roleNode();
      what = `${n} ${ep.offsetMs! > 0 ? '+' : ''}${ep.offsetMs! / 1000} s for ${ep.holdMs} ms`;
      h.cluster.setClockOffset(n, ep.offsetMs!);
      heal = async () => h.cluster.setClockOffset(n, 0);
      break;
    }
    case 'slow-start': {
      const n = roleNode();
      what = n;
      await h.stopDaemon(n, 'SIGTERM');
      await h.nodeLinksDown(n);
      await h.startDaemon(n, false);
      heal = async () => { await h.nodeLinksUp(n); await h.cluster.waitFor(n, (s) => s.ready, { timeoutMs: 15_000, what: `${n} ready` }); h.daemonReady(n); };
      break;
    }
  }
  if (owner) what += ` (during takeover of ${owner}${helper ? ` by ${helper.helper}` : ', no helper'}${ep.role ? `, hits ${ep.role}` : ''})`;
  await sleep(ep.holdMs);
  await heal();
  if (bgPorts.length) {
    await sleep(200 + Math.floor(rnd() * 600));
    await Promise.all(bgPorts.map((p) => h.healPort(p)));
  }
  const healedAt = monoMs();
  const problem = await settle(h, w, stuck);
  const rec: EpisodeRecord = { index: ep.index, kind: ep.kind, what, start, faultAt, healedAt, settledAt: monoMs() };
  if (problem) rec.unsettled = problem;
  log(`#${ep.index} ${ep.kind} ${what} [fault at ${new Date(Date.now() - (monoMs() - faultAt)).toISOString().slice(11, 23)}]: settled ${problem ? `NOT after ${((rec.settledAt - healedAt) / 1000).toFixed(1)} s: ${problem}` : `in ${((rec.settledAt - healedAt) / 1000).toFixed(1)} s`}`);
  return rec;
}
