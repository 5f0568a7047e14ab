// Running commands for the lab: iproute2 (`ip -batch` with the failing line named), sysctls inside a namespace,
// and the root check every lab operation needs. Never throws for a command's exit status unless asked to.
import { spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { HanetError } from '../errors.js';
import { LabError } from './errors.js';

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p)) ?? 'ip';

function signalExitCode(signal: NodeJS.Signals | null): number {
  return signal ? 128 + (osConstants.signals[signal] ?? 0) : 1;
}

/** Runs a command, collecting its output. Never throws for a non-zero exit (only if it cannot be started). */
export function run(file: string, args: string[], opts: { input?: string; timeoutMs?: number; track?: Set<ChildProcess> } = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawnChild(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    opts.track?.add(child);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    const timer = opts.timeoutMs !== undefined ? setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), opts.timeoutMs) : undefined;
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.stdin!.on('error', () => {}); // EPIPE when the command exits without reading its input
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      opts.track?.delete(child);
      reject(new LabError(`cannot run ${file}: ${e.message}`, { cause: e }));
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      opts.track?.delete(child);
      let stderr = Buffer.concat(err).toString('utf8');
      if (timedOut) stderr += `${stderr && !stderr.endsWith('\n') ? '\n' : ''}hanet lab: killed after ${opts.timeoutMs} ms\n`;
      resolve({ code: timedOut ? 124 : (code ?? signalExitCode(signal)), stdout: Buffer.concat(out).toString('utf8'), stderr });
    });
    child.stdin!.end(opts.input ?? '');
  });
}

export function ipFailure(what: string, r: ExecResult, lines?: string[]): HanetError<string> {
  let detail = r.stderr.trim();
  // `ip -batch` reports "Command failed -:N"; show the line it refers to.
  const m = /Command failed -:(\d+)/.exec(detail);
  if (m && lines) detail += ` (line ${m[1]}: ${lines[Number(m[1]) - 1] ?? '?'})`;
  const message = `${what} failed (exit ${r.code}): ${detail || '(no output)'}`;
  return /Operation not permitted|Permission denied/.test(detail) ? new HanetError('HANET_ERR_PERMISSION', message) : new LabError(message);
}

/** `ip [-n ns] -batch -` with the lines on stdin; throws on failure unless `force`. */
export async function ipBatch(ns: string | undefined, lines: string[], opts: { force?: boolean } = {}): Promise<ExecResult> {
  if (lines.length === 0) return { code: 0, stdout: '', stderr: '' };
  const args = [...(ns ? ['-n', ns] : []), ...(opts.force ? ['-force'] : []), '-batch', '-'];
  const r = await run(IP, args, { input: lines.join('\n') + '\n' });
  if (r.code !== 0 && !opts.force) throw ipFailure(`ip ${ns ? `-n ${ns} ` : ''}-batch`, r, lines);
  return r;
}

export async function ip(ns: string | undefined, args: string[]): Promise<string> {
  const r = await run(IP, [...(ns ? ['-n', ns] : []), ...args]);
  if (r.code !== 0) throw ipFailure(`ip ${ns ? `-n ${ns} ` : ''}${args.join(' ')}`, r);
  return r.stdout;
}

/** Writes sysctls inside a namespace with one process: keys as `net.ipv4.ip_forward` or `net/ipv4/ip_forward`. */
export async function applySysctls(ns: string, entries: Array<[string, string]>): Promise<void> {
  const script = 'while [ $# -gt 0 ]; do printf "%s\\n" "$2" > "/proc/sys/$1" || exit 1; shift 2; done';
  const args = entries.flatMap(([k, v]) => [k.includes('/') ? k : k.replaceAll('.', '/'), v]);
  const r = await run(IP, ['netns', 'exec', ns, 'sh', '-c', script, 'sh', ...args]);
  if (r.code !== 0) throw ipFailure(`sysctl in ${ns} (${entries.map(([k, v]) => `${k}=${v}`).join(' ')})`, r);
}

export function requireRootPrivileges(what: string): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    throw new HanetError('HANET_ERR_PERMISSION', `${what} needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN for network namespaces); run it as root, e.g. with sudo`);
}
