// Doctor: the sysctls that would defeat a takeover — proxy_delay on the public interfaces (proxy ARP answers up to
// 0.8 s late by default, measured), rp_filter on the private links (strict mode dropped packets at failback,
// measured), forwarding on the interfaces a takeover uses (proxy ARP answers only there; hanet never switches it on
// globally). hanet sets them itself at start and re-checks them every second, so a wrong value is a
// problem only when hanet cannot write it, or when something else keeps resetting it while hanet runs.
import { accessSync, constants as fsConstants, readFileSync } from 'node:fs';
import { block, ok, warn, type Finding } from './types.js';

export interface SysctlFact {
  /** Relative to /proc/sys, e.g. net/ipv4/neigh/eth0/proxy_delay. */
  path: string;
  /** undefined: the file does not exist (e.g. the interface is missing, or is a TUN device hanet creates). */
  value: string | undefined;
  writable: boolean;
}

export interface SysctlFacts {
  /** The hanet daemon of this configuration answers on its control socket. */
  daemonRunning: boolean;
  /** conf/<if>/forwarding of the public interfaces and private links (a helper's). */
  forwarding: SysctlFact[];
  proxyDelay: SysctlFact[];
  /** Per private interface, and conf/all (the kernel uses the maximum of the two). */
  rpFilter: Array<{ iface: string; own: SysctlFact; all: SysctlFact }>;
}

export function readSysctl(path: string, procSys = '/proc/sys'): SysctlFact {
  const file = `${procSys}/${path}`;
  let value: string | undefined;
  try { value = readFileSync(file, 'utf8').trim(); } catch { value = undefined; }
  let writable = false;
  try { accessSync(file, fsConstants.W_OK); writable = true; } catch { /* read-only /proc/sys, not root, or missing */ }
  return { path, value, writable };
}

const dotted = (path: string): string => path.replace(/^net\//, 'net.').replaceAll('/', '.');

/** Judges one sysctl hanet sets: `good` says whether a value is fine; `want` is what hanet writes. */
function judge(id: 'forwarding' | 'proxy-delay' | 'rp-filter', subject: string | undefined, f: SysctlFact, now: string | undefined, good: boolean, want: string, why: string, running: boolean): Finding {
  const name = dotted(f.path);
  if (good) return ok(id, `${name} = ${now ?? '(absent)'}`, subject);
  if (f.value === undefined) {
    return ok(id, `${name} does not exist yet (hanet sets ${want} when the interface exists)`, subject);
  }
  if (!f.writable) {
    return block(id, `${name} = ${now}: ${why}, and hanet cannot change it here (read-only /proc/sys or not root)`,
      `sysctl -w ${name}=${want} where hanet runs, or give hanet a writable /proc/sys/net`, subject);
  }
  if (running) {
    return warn(id, `${name} = ${now} although hanet runs and sets ${want}: something else resets it (${why} until hanet repairs it, within a second)`,
      `find what sets it (grep -rn ${name.split('.').pop()} /etc/sysctl.conf /etc/sysctl.d /usr/lib/sysctl.d /run/sysctl.d; network managers; configuration management) and stop it`, subject);
  }
  return ok(id, `${name} = ${now} now; hanet sets ${want} when it starts`, subject);
}

/** Pure: the findings for the sysctls hanet depends on. */
export function sysctlFindings(f: SysctlFacts): Finding[] {
  const out: Finding[] = [];
  for (const w of f.forwarding) {
    out.push(judge('forwarding', w.path.split('/')[3], w, w.value, w.value === '1', '1', 'a helper would not forward the owner\'s packets and proxy ARP would not answer', f.daemonRunning));
  }
  for (const p of f.proxyDelay) {
    const iface = p.path.split('/')[3];
    out.push(judge('proxy-delay', iface, p, p.value, p.value === '0', '0', 'proxy ARP answers up to 0.8 s late and clients time out', f.daemonRunning));
  }
  for (const r of f.rpFilter) {
    // The kernel uses max(conf/all, conf/<if>): hanet's 2 on the interface wins over an `all` of 1.
    const own = Number(r.own.value ?? '0');
    const all = Number(r.all.value ?? '0');
    const effective = String(Math.max(own, all));
    out.push(judge('rp-filter', r.iface, r.own, r.own.value === undefined ? undefined : `${effective} (max of all=${r.all.value ?? '?'} and ${r.iface}=${r.own.value})`,
      effective !== '1', '2', 'strict reverse-path filtering drops the owner\'s relayed packets', f.daemonRunning));
  }
  return out;
}
