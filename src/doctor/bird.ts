// Doctor: BIRD for L3 mode (docs/l3.md). When a public interface is mode l3, BIRD must run and hold the kernel
// protocols of `hanet config bird`, or a helper's host routes reach no router: asked through birdc on its socket.
import { execFile } from 'node:child_process';
import { BIRD_KERNEL_PROTOCOLS } from '../config/bird.js';
import { parseProtocols } from '../os/linux/bird-control.js';
import { block, ok, warn, type Finding } from './types.js';

/** BIRD's default control socket (Debian bird2). */
export const BIRD_DEFAULT_SOCKET = '/run/bird/bird.ctl';

export interface BirdFacts {
  /** `birdc show status` output, or the error running it. */
  status: { out: string } | { error: string };
  /** `birdc show protocols` output (when status answered). */
  protocols?: string;
}

function birdc(socket: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('birdc', ['-s', socket, ...args], { timeout: 2000 }, (e, stdout, stderr) => {
      if (e) reject(new Error(`${(stderr || stdout || e.message).trim().split('\n').at(-1)}`));
      else resolve(stdout);
    });
  });
}

export async function readBirdFacts(socket = BIRD_DEFAULT_SOCKET): Promise<BirdFacts> {
  try {
    const out = await birdc(socket, ['show', 'status']);
    let protocols: string | undefined;
    try { protocols = await birdc(socket, ['show', 'protocols']); } catch { /* status answered: reported below */ }
    return { status: { out }, ...(protocols !== undefined ? { protocols } : {}) };
  } catch (e) {
    return { status: { error: (e as Error).message } };
  }
}

/** An L3 interface whose BGP sessions hanet checks before helping (public[].bgp.check), and their BIRD names. */
export interface CheckedSessions { iface: string; names: string[] }

/**
 * Findings from what birdc said. Pure. `families`: the address families of the L3 interfaces' addresses; `checked`:
 * the interfaces whose sessions must be Established for this server to help (none: nothing more checked).
 */
export function birdFindings(f: BirdFacts, families: readonly (4 | 6)[], socket = BIRD_DEFAULT_SOCKET, checked: readonly CheckedSessions[] = []): Finding[] {
  const fix = `start BIRD 2 (apt-get install bird2; systemctl enable --now bird) with the protocols \`hanet config bird\` prints`;
  if ('error' in f.status) return [block('bird', `a public interface is mode l3 but BIRD does not answer on ${socket}: ${f.status.error}`, fix)];
  if (!/Daemon is up and running/.test(f.status.out)) return [block('bird', `BIRD on ${socket} is not up: ${f.status.out.trim().split('\n').at(-1)}`, fix)];
  const missing = families.map((x) => BIRD_KERNEL_PROTOCOLS[x]).filter((p) => !new RegExp(`^${p}\\s`, 'm').test(f.protocols ?? ''));
  if (missing.length > 0) {
    return [warn('bird', `BIRD runs but has no ${missing.join(', ')}: the host routes a helper installs (route protocol 78) would not be announced`,
      'add the output of `hanet config bird` to bird.conf and run birdc configure')];
  }
  const out = [ok('bird', `BIRD runs and learns hanet's host routes (${families.map((x) => BIRD_KERNEL_PROTOCOLS[x]).join(', ')})`)];
  const bgp = parseProtocols(f.protocols ?? '');
  for (const c of checked) {
    const known = c.names.filter((n) => bgp.has(n));
    if (known.length === 0) {
      out.push(warn('bird-session', `${c.iface}: BIRD has no BGP protocol ${c.names.join(' or ')}: with public[].bgp.check on, this server never helps on the fabric`,
        'add the BGP sessions `hanet config bird` prints, or name yours in public[].bgp.sessions', c.iface));
    } else if (!known.some((n) => bgp.get(n) === true)) {
      out.push(warn('bird-session', `${c.iface}: no BGP session Established (${known.join(', ')}): this server helps nobody on the fabric until one is`,
        `birdc -s ${socket} show protocols all ${known[0]!} says why`, c.iface));
    } else {
      out.push(ok('bird-session', `${c.iface}: BGP session Established (${known.filter((n) => bgp.get(n) === true).join(', ')})`, c.iface));
    }
  }
  return out;
}
