// BIRD 2 in the lab (the `l3` topology, docs/l3.md): a daemon per router and server namespace that has `bgp` in the
// topology, each with its own configuration, control socket and pid file under /run/hanet-lab/<lab>/bird/. Routers
// announce their connected networks and pass on what they learn (eBGP, one AS each); servers get the snippet of
// `hanet config bird` for their generated hanet configuration. Pids go into the lab state so `hanet lab down` stops
// them even after a crash. BGP sessions sit idle for the 120 s default connect retry (measured): the lab sets 1 s.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { birdSnippet } from '../config/bird.js';
import { validateConfig } from '../config/schema.js';
import { ipFamily, parseCidr } from '../core/ip.js';
import { serverConfig } from './cluster.js';
import { procStat, stopDaemon } from './daemon-proc.js';
import { LabError } from './errors.js';
import { IP, run } from './iproute.js';
import { nsName } from './plan.js';
import { birdDir, birdSocket, readState, STATE_DIR, updateState, withLabLock, type DaemonRecord } from './state.js';
import type { BgpSpec, NodeSpec, Topology } from './topology.js';

export { birdDir, birdSocket } from './state.js';

/** Session timers: connect within a second, retry every second (defaults 5 s / 120 s / 60-300 s). */
const FAST = 'connect delay time 1; connect retry time 1; error wait time 1, 10;';

const routerId = (n: NodeSpec): string | undefined =>
  n.ports.flatMap((p) => p.addresses.map((a) => parseCidr(a))).find((c) => c?.family === 4)?.address;

/** One session per neighbour address, with the channel of its family. */
function sessions(bgp: BgpSpec, channel: (f: 4 | 6, address: string) => string): string[] {
  return bgp.neighbors.map((nb, i) => `protocol bgp n${i} {\n  local as ${bgp.as};\n  neighbor ${nb.address} as ${nb.as};\n  ${FAST}\n  ${channel(ipFamily(nb.address) ?? 4, nb.address)}\n}\n`);
}

/** Is `address` a server's (a port address of a server node)? */
const isServer = (t: Topology, address: string): boolean =>
  Object.values(t.nodes).some((n) => n.role === 'server' && n.ports.some((p) => p.addresses.some((a) => parseCidr(a)?.address === address)));

const families = (n: NodeSpec): Array<4 | 6> =>
  ([4, 6] as const).filter((f) => n.ports.some((p) => p.addresses.some((a) => parseCidr(a)?.family === f)));

/** The BIRD configuration of a node with `bgp`. Pure but for the server's generated hanet configuration. */
export function birdConf(t: Topology, lab: string, node: string): string {
  const n = t.nodes[node];
  if (!n?.bgp) throw new LabError(`${node} runs no BGP in the topology`);
  const id = routerId(n);
  if (id === undefined) throw new LabError(`${node} has no IPv4 address for BIRD's router id`);
  const head = [`# BIRD for lab node ${node} (src/lab/bird.ts)`, `router id ${id};`, 'protocol device { scan time 10; }', ''];
  if (n.role === 'router') {
    const fs = families(n);
    return [...head,
      `protocol direct { ${fs.map((f) => `ipv${f};`).join(' ')} }`,
      '# Learnt routes into the kernel (the connected ones are there already).',
      ...fs.map((f) => `protocol kernel { ipv${f} { import none; export where source = RTS_BGP; }; }`), '',
      // From a server only host routes (what the fabric must allow, docs/l3.md: the helper's /32 and /128).
      ...sessions(n.bgp, (f, at) => `ipv${f} { import ${isServer(t, at) ? `where net.len = ${f === 4 ? 32 : 128}` : 'all'}; export all; };`),
    ].join('\n');
  }
  const r = validateConfig(serverConfig(t, node, join(STATE_DIR, lab, 'cluster'), lab));
  if (!r.ok) throw new LabError(`${node}: generated hanet configuration invalid: ${r.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
  return [...head, birdSnippet(r.config)].join('\n');
}

const birdc = (lab: string, node: string, args: string[]) => run('birdc', ['-s', birdSocket(lab, node), ...args]);

/** The daemon's pid from its pid file, written around bird's fork: waits (bounded) until it names a running process. */
async function daemonOf(node: string, pidFile: string): Promise<{ pid: number; st: { startTicks: string } }> {
  const deadline = Date.now() + 5000;
  for (;;) {
    let text = '';
    try { text = readFileSync(pidFile, 'utf8').trim(); } catch { /* not yet */ }
    const pid = Number(text);
    const st = text !== '' && Number.isInteger(pid) && pid > 0 ? procStat(pid) : undefined;
    if (st) return { pid, st };
    if (Date.now() > deadline) throw new LabError(`bird on ${node}: no running daemon in ${pidFile} ("${text}")`);
    await sleep(10);
  }
}

/** Starts BIRD on every node with `bgp` and records the pids; then waits until every BGP session is Established. */
export async function startBirds(t: Topology, lab: string, timeoutMs = 30_000): Promise<void> {
  const nodes = Object.entries(t.nodes).filter(([, n]) => n.bgp).map(([k]) => k);
  if (nodes.length === 0) return;
  if ((await run('sh', ['-c', 'command -v bird && command -v birdc']).catch(() => undefined))?.code !== 0) {
    throw new LabError('the topology runs BGP but BIRD 2 is not installed: apt-get install bird2');
  }
  mkdirSync(birdDir(lab), { recursive: true });
  await Promise.all(nodes.map(async (node) => {
    const conf = join(birdDir(lab), `${node}.conf`);
    const pidFile = join(birdDir(lab), `${node}.pid`);
    writeFileSync(conf, birdConf(t, lab, node));
    // bird forks into the background once its configuration is read; the pid file names the daemon.
    const r = await run(IP, ['netns', 'exec', nsName(lab, node), 'bird', '-c', conf, '-s', birdSocket(lab, node), '-P', pidFile]);
    if (r.code !== 0) throw new LabError(`bird on ${node} did not start: ${r.stderr.trim() || r.stdout.trim()}`);
    const { pid, st } = await daemonOf(node, pidFile);
    await withLabLock(lab, () => updateState(lab, (s) => void ((s.bird ??= {})[node] = { pid, startTicks: st.startTicks })));
  }));
  await waitEstablished(lab, nodes, timeoutMs);
}

/** The BGP sessions of a node that are not Established, from `birdc show protocols`. */
export async function idleSessions(lab: string, node: string): Promise<string[]> {
  const r = await birdc(lab, node, ['show', 'protocols']);
  if (r.code !== 0) return [`(birdc: ${r.stderr.trim() || r.stdout.trim()})`];
  return r.stdout.split('\n').filter((l) => /\sBGP\s/.test(l) && !/\sEstablished\s*$/.test(l)).map((l) => `${node}: ${l.trim()}`);
}

async function waitEstablished(lab: string, nodes: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const idle = (await Promise.all(nodes.map((n) => idleSessions(lab, n)))).flat();
    if (idle.length === 0) return;
    if (Date.now() > deadline) throw new LabError(`BGP sessions not Established after ${timeoutMs} ms:\n${idle.join('\n')}`);
    await sleep(100);
  }
}

/** Stops the lab's BIRD daemons recorded in its state (SIGTERM, bounded wait, SIGKILL). */
export async function stopBirds(lab: string): Promise<void> {
  const st = await readState(lab).catch(() => undefined);
  const daemons: DaemonRecord[] = Object.values(st?.bird ?? {});
  await Promise.all(daemons.map((d) => stopDaemon(d, 'SIGTERM', 2000)));
}
