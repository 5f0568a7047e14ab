// Doctor: other software that fights hanet over the same addresses and routes — keepalived (VRRP), NetworkManager,
// systemd-networkd — found as running processes (/proc/<pid>/comm of this PID namespace) and judged with what their
// own configuration says (keepalived's addresses, NetworkManager's unmanaged devices, networkd's ManageForeignRoutes).
import { readdirSync, readFileSync } from 'node:fs';
import { canonicalIp } from '../core/ip.js';
import { block, ok, warn, type Finding } from './types.js';

export interface ProcessInfo { pid: number; comm: string; argv: string[] }

/** Every process of this PID namespace (comm and argv), from `procRoot` (default /proc). */
export function listProcesses(procRoot = '/proc'): ProcessInfo[] {
  const out: ProcessInfo[] = [];
  let names: string[];
  try { names = readdirSync(procRoot); } catch { return out; }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    try {
      const comm = readFileSync(`${procRoot}/${n}/comm`, 'utf8').trim();
      let argv: string[] = [];
      try { argv = readFileSync(`${procRoot}/${n}/cmdline`, 'utf8').split('\0').filter((a) => a !== ''); } catch { /* kernel thread or gone */ }
      out.push({ pid: Number(n), comm, argv });
    } catch { /* exited meanwhile */ }
  }
  return out;
}

const readText = (path: string): string | undefined => {
  try { return readFileSync(path, 'utf8'); } catch { return undefined; }
};
const confFiles = (main: string, dir: string): string[] => {
  let extra: string[] = [];
  try { extra = readdirSync(dir).filter((n) => n.endsWith('.conf')).sort().map((n) => `${dir}/${n}`); } catch { /* none */ }
  return [main, ...extra];
};

/** keepalived's configuration file: `-f FILE` / `--use-file=FILE` on its command line, else the default. */
export function keepalivedConfPath(argv: string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === '-f' || a === '--use-file') && argv[i + 1]) return argv[i + 1]!;
    if (a.startsWith('--use-file=')) return a.slice('--use-file='.length);
  }
  return '/etc/keepalived/keepalived.conf';
}

/** The service addresses that appear in a keepalived configuration's text (e.g. in virtual_ipaddress). Pure. */
export function addressesIn(text: string, addresses: string[]): string[] {
  const wanted = new Set(addresses.map((a) => canonicalIp(a)).filter((a): a is string => a !== undefined));
  const found = new Set<string>();
  for (const token of text.replace(/#.*$/gm, '').split(/[\s{}]+/)) {
    const ip = canonicalIp(token.split('/')[0] ?? '');
    if (ip !== undefined && wanted.has(ip)) found.add(ip);
  }
  return [...found].sort();
}

/** NetworkManager's `unmanaged-devices=interface-name:X;...` entries in its configuration text. Pure. */
export function nmUnmanaged(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*unmanaged-devices\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    for (const item of m[1]!.split(/[;,]/)) {
      const t = item.trim();
      if (t.startsWith('interface-name:')) out.push(t.slice('interface-name:'.length));
    }
  }
  return out;
}

/** Does a networkd.conf text turn ManageForeignRoutes off? Pure (later files override earlier ones: pass them in order). */
export function networkdKeepsForeignRoutes(texts: string[]): boolean {
  let keeps = false;
  for (const t of texts) {
    for (const line of t.split('\n')) {
      const m = /^\s*ManageForeignRoutes\s*=\s*(\S+)/.exec(line);
      if (m) keeps = ['no', 'false', '0', 'off'].includes(m[1]!.toLowerCase());
    }
  }
  return keeps;
}

export interface SoftwareFacts {
  keepalived?: { pid: number; confPath: string; confText: string | undefined };
  networkManager?: { pid: number; unmanaged: string[] };
  networkd?: { pid: number; keepsForeignRoutes: boolean };
}

// comm is at most 15 characters: systemd-networkd shows as systemd-network.
const COMM = { keepalived: 'keepalived', networkManager: 'NetworkManager', networkd: 'systemd-network' } as const;

export function readSoftwareFacts(procs: ProcessInfo[]): SoftwareFacts {
  const f: SoftwareFacts = {};
  const ka = procs.find((p) => p.comm === COMM.keepalived);
  if (ka) {
    const confPath = keepalivedConfPath(ka.argv);
    f.keepalived = { pid: ka.pid, confPath, confText: readText(confPath) };
  }
  const nm = procs.find((p) => p.comm === COMM.networkManager);
  if (nm) {
    const texts = confFiles('/etc/NetworkManager/NetworkManager.conf', '/etc/NetworkManager/conf.d').map(readText);
    f.networkManager = { pid: nm.pid, unmanaged: texts.flatMap((t) => (t === undefined ? [] : nmUnmanaged(t))) };
  }
  const nd = procs.find((p) => p.comm === COMM.networkd);
  if (nd) {
    const texts = confFiles('/etc/systemd/networkd.conf', '/etc/systemd/networkd.conf.d').map(readText).filter((t): t is string => t !== undefined);
    f.networkd = { pid: nd.pid, keepsForeignRoutes: networkdKeepsForeignRoutes(texts) };
  }
  return f;
}

/** What the configuration puts at stake: its service addresses and interfaces (undefined: no configuration). */
export interface SoftwareScope { addresses: string[]; interfaces: string[] }

/** Pure: findings for other network software running here. */
export function softwareFindings(f: SoftwareFacts, scope: SoftwareScope | undefined): Finding[] {
  const out: Finding[] = [];
  if (!f.keepalived) out.push(ok('keepalived', 'keepalived (VRRP) is not running'));
  else {
    const k = f.keepalived;
    const shared = scope && k.confText !== undefined ? addressesIn(k.confText, scope.addresses) : [];
    if (shared.length > 0) {
      out.push(block('keepalived', `keepalived (pid ${k.pid}) manages ${shared.join(', ')} in ${k.confPath}: hanet's service address(es) — both would answer ARP for them`,
        `take ${shared.join(', ')} out of keepalived's virtual_ipaddress (keepalived guards other addresses; hanet keeps these on their server)`));
    } else if (scope && k.confText !== undefined) {
      out.push(ok('keepalived', `keepalived (pid ${k.pid}) runs; ${k.confPath} names none of hanet's service addresses`));
    } else {
      out.push(warn('keepalived', `keepalived (pid ${k.pid}) runs${k.confText === undefined ? ` and its configuration ${k.confPath} is unreadable` : ''}: if its VRRP instances hold hanet's service addresses, both answer ARP for them`,
        'make sure no virtual_ipaddress of keepalived is a hanet service address (run hanet doctor -c with the configuration to check)'));
    }
  }
  if (!f.networkManager) out.push(ok('network-manager', 'NetworkManager is not running'));
  else {
    const ifs = scope?.interfaces ?? [];
    const managed = ifs.filter((i) => !f.networkManager!.unmanaged.includes(i));
    if (scope && managed.length === 0) out.push(ok('network-manager', `NetworkManager runs; hanet's interfaces are unmanaged (${ifs.join(', ')})`));
    else {
      const list = managed.length ? managed.join(', ') : 'hanet\'s interfaces';
      out.push(warn('network-manager', `NetworkManager (pid ${f.networkManager.pid}) runs and may manage ${list}: on a reconnect or DHCP renewal it rewrites their addresses and routes under hanet`,
        `mark them unmanaged: [keyfile] unmanaged-devices=${(managed.length ? managed : ['IFACE']).map((i) => `interface-name:${i}`).join(';')} in /etc/NetworkManager/conf.d/hanet.conf, then systemctl reload NetworkManager`));
    }
  }
  if (!f.networkd) out.push(ok('systemd-networkd', 'systemd-networkd is not running'));
  else if (f.networkd.keepsForeignRoutes) out.push(ok('systemd-networkd', 'systemd-networkd runs with ManageForeignRoutes=no: it leaves hanet\'s routes alone'));
  else {
    out.push(warn('systemd-networkd', `systemd-networkd (pid ${f.networkd.pid}) runs with ManageForeignRoutes=yes (the default): when it reconfigures a link it removes routes it did not make — hanet's takeover routes`,
      'set ManageForeignRoutes=no under [Network] in /etc/systemd/networkd.conf.d/hanet.conf, then systemctl restart systemd-networkd'));
  }
  return out;
}
