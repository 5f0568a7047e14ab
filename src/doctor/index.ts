// `hanet doctor`: a preflight on the real machine. Gathers the facts (kernel, interfaces, sysctls, other software,
// clock, file permissions, peers) and turns them into findings with their fixes; see each module for how.
import { existsSync } from 'node:fs';
import { askControl } from '../daemon/control-socket.js';
import { loadConfig } from '../config/load.js';
import { HanetError } from '../errors.js';
import type { Config } from '../config/schema.js';
import { BIRD_DEFAULT_SOCKET, birdFindings, readBirdFacts } from './bird.js';
import { birdSessionNames } from '../config/bird.js';
import { clockFindings, readClockFacts } from './clock.js';
import { fileFindings, type SafeFile } from './files.js';
import { interfaceFindings, listBonds, readIfaceFacts, type IfaceRole } from './interfaces.js';
import { kernelFindings, readKernelFacts } from './kernel.js';
import { peerFindings, readPeerFacts } from './peers.js';
import { listProcesses, readSoftwareFacts, softwareFindings } from './software.js';
import { readSysctl, sysctlFindings, type SysctlFacts } from './sysctl.js';
import { block, ok, type Finding } from './types.js';

export type { Finding, Severity, CheckId } from './types.js';
export { summarise } from './types.js';

export interface DoctorOptions {
  /** Configuration file; undefined: node-specific checks are skipped. */
  configPath?: string;
  /** BIRD's control socket, asked when an interface is mode l3 (default /run/bird/bird.ctl). */
  birdSocket?: string;
}

/** Whether a daemon answers on the control socket within `timeoutMs`. */
async function daemonAnswers(socket: string, timeoutMs = 1000): Promise<boolean> {
  if (!existsSync(socket)) return false;
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), timeoutMs);
  try {
    const lines = await askControl(socket, { cmd: 'status' }, undefined, ac.signal);
    return lines.length > 0;
  } catch {
    return false;
  } finally {
    clearTimeout(t);
  }
}

function configFiles(path: string, c: Config): SafeFile[] {
  const files: SafeFile[] = [{ path, role: 'config' }, { path: c.keyFile, role: 'key' }];
  if (c.notify) files.push({ path: c.notify.command, role: 'hook' });
  return files;
}

function ifaceRoles(c: Config): IfaceRole[] {
  const roles: IfaceRole[] = c.public.map((p) => ({ name: p.interface, role: 'public', probes: p.probe.arp && p.gateways.length > 0 }));
  // Serial and udp links' interfaces are TUN devices hanet creates: only ethernet links' interfaces must exist.
  for (const l of c.private) if (l.kind === 'ethernet' && !roles.some((r) => r.name === l.interface)) roles.push({ name: l.interface, role: 'private' });
  return roles;
}

async function sysctlFacts(c: Config): Promise<SysctlFacts> {
  const f: SysctlFacts = { daemonRunning: await daemonAnswers(c.controlSocket), forwarding: [], proxyDelay: [], rpFilter: [] };
  if (c.takeover.canHelp) {
    f.forwarding = [...c.public.map((p) => p.interface), ...c.private.map((l) => l.interface)].map((i) => readSysctl(`net/ipv4/conf/${i}/forwarding`));
    f.proxyDelay = c.public.map((p) => readSysctl(`net/ipv4/neigh/${p.interface}/proxy_delay`));
  }
  const all = readSysctl('net/ipv4/conf/all/rp_filter');
  f.rpFilter = c.private.map((l) => ({ iface: l.interface, own: readSysctl(`net/ipv4/conf/${l.interface}/rp_filter`), all }));
  return f;
}

/** Runs every check. Never throws for what it finds on the machine: that is what findings are for. */
export async function runDoctor(opts: DoctorOptions = {}): Promise<Finding[]> {
  const findings: Finding[] = [];
  let config: Config | undefined;
  if (opts.configPath === undefined) {
    findings.push(ok('config', 'no configuration given (hanet doctor -c FILE): interface, sysctl, file and peer checks skipped'));
  } else {
    try {
      config = loadConfig(opts.configPath);
      findings.push(ok('config', `${opts.configPath} is valid (node ${config.node})`, opts.configPath));
    } catch (e) {
      if (!(e instanceof HanetError)) throw e;
      findings.push(block('config', e.message, `hanet check -c ${opts.configPath} shows every problem with its field`, opts.configPath));
    }
  }

  const kernel = await readKernelFacts();
  findings.push(...kernelFindings(kernel, {
    tun: config ? config.private.some((l) => l.kind !== 'ethernet') : 'unknown',
    ipv6: config ? config.public.some((p) => p.addresses.some((a) => a.family === 6)) : 'unknown',
  }));
  const netlinkWorks = kernel.addon === undefined && kernel.netlink === undefined;

  if (config && netlinkWorks) {
    const roles = ifaceRoles(config);
    findings.push(...interfaceFindings(roles, await readIfaceFacts(roles.map((r) => r.name))));
  }
  const bonds = listBonds();
  if (bonds.length > 0) findings.push(ok('bonding', `bonds here: ${bonds.join(', ')} (hanet works on a bond; not on its ports)`));
  if (config) findings.push(...sysctlFindings(await sysctlFacts(config)));

  const procs = listProcesses();
  const scope = config ? {
    addresses: config.public.flatMap((p) => p.addresses.map((a) => a.address)),
    interfaces: [...new Set([...config.public.map((p) => p.interface), ...config.private.map((l) => l.interface)])],
  } : undefined;
  findings.push(...softwareFindings(readSoftwareFacts(procs), scope));
  findings.push(...clockFindings(readClockFacts(procs)));
  const l3 = config?.public.filter((p) => p.mode === 'l3') ?? [];
  if (l3.length > 0) {
    const families = ([4, 6] as const).filter((x) => l3.some((p) => p.addresses.some((a) => a.family === x)));
    const socket = opts.birdSocket ?? l3.find((p) => p.bgp)?.bgp?.birdSocket ?? BIRD_DEFAULT_SOCKET;
    const checked = l3.filter((p) => p.bgp?.check === true).map((p) => ({ iface: p.interface, names: birdSessionNames(p) })).filter((c) => c.names.length > 0);
    findings.push(...birdFindings(await readBirdFacts(socket), families, socket, checked));
  }

  if (config && opts.configPath !== undefined) {
    findings.push(...fileFindings(configFiles(opts.configPath, config)));
    if (kernel.addon === undefined) findings.push(...peerFindings(await readPeerFacts(config.private)));
  }
  return findings;
}
