// Notify hooks: an operator's executable run on state changes (like keepalived's notify scripts), with the event
// described in environment variables. Hooks never delay failover: they are queued from the daemon's event
// listener and started on a later turn of the event loop (after the effects of the transition ran), run at most
// `maxConcurrent` at a time (default 1: a script sees events in order), each killed with its process group after
// `timeoutMs`; a full queue drops the oldest waiting event (a flapping link cannot fork-bomb the machine).
// docs/hooks.md documents the variables.
import { spawn } from 'node:child_process';
import type { CoreEventType, CoreLogEvent } from '../core/types.js';
import type { HookResult } from './metrics.js';
import type { Logger } from './daemon.js';

export interface HookRunnerOptions {
  command: string;
  args?: string[];
  timeoutMs: number;
  events: readonly CoreEventType[];
  maxConcurrent: number;
  maxQueue: number;
  node: string;
  /** Service addresses of this node per LAN: HANET_ADDRESSES of owner events that do not list them (failback ...). */
  lanAddresses?: Record<string, string[]>;
  log: Logger;
  onResult?: (event: string, result: HookResult, ms?: number) => void;
  /** Grace between SIGTERM and SIGKILL at the timeout. */
  killGraceMs?: number;
}

/** Events of the owner side (this node's addresses) and of the helper side (a peer's addresses). */
const OWNER_EVENTS = new Set<string>(['iface-failed', 'iface-recovered', 'local-backup', 'takeover-requested', 'takeover-acked', 'takeover-refused', 'helper-switch', 'unserved', 'failback', 'release-acked']);
const HELPER_EVENTS = new Set<string>(['help-start', 'help-renewed-adopted', 'help-release', 'help-refused', 'lease-expired', 'help-link-down', 'help-route-removed']);

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The environment a hook gets for an event (besides PATH). */
export function hookEnv(node: string, ev: CoreLogEvent, lanAddresses: Record<string, string[]> = {}): Record<string, string> {
  const role = OWNER_EVENTS.has(ev.type) ? 'owner' : HELPER_EVENTS.has(ev.type) ? 'helper' : 'node';
  const lan = str(ev.lan);
  const listed = Array.isArray(ev.addresses) ? ev.addresses.filter((a): a is string => typeof a === 'string') : undefined;
  const addresses = listed ?? (role === 'owner' && lan ? lanAddresses[lan] ?? [] : []);
  const env: Record<string, string> = {
    HANET_EVENT: ev.type,
    HANET_NODE: node,
    HANET_ROLE: role,
    HANET_TIME: str(ev.time) ?? new Date().toISOString(),
    HANET_LAN: lan ?? '',
    // The other node involved: the helper (owner events), the owner (helper events), the peer (peer-up/down).
    HANET_PEER: str(ev.helper) ?? str(ev.owner) ?? str(ev.peer) ?? str(ev.to) ?? '',
    HANET_ADDRESSES: addresses.map((a) => a.split('/')[0]).join(' '),
    HANET_IFACE: str(ev.iface) ?? '',
    HANET_LINK: str(ev.link) ?? '',
    HANET_REASON: str(ev.reason) ?? str(ev.why) ?? '',
    HANET_CLAIM_ID: str(ev.claimId) ?? '',
    HANET_EVENT_JSON: JSON.stringify(ev),
  };
  if (ev.type === 'helper-switch') env.HANET_PREVIOUS_PEER = str(ev.from) ?? '';
  return env;
}

interface Job { ev: CoreLogEvent }

export class HookRunner {
  private readonly queue: Job[] = [];
  private running = 0;
  private scheduled = false;
  private closed = false;
  private readonly events: Set<string>;
  private readonly idleWaiters: Array<() => void> = [];
  private lastDropLogAt = -Infinity;

  constructor(private readonly o: HookRunnerOptions) {
    this.events = new Set(o.events);
  }

  /** Daemon event listener: queues the hook if the event is one of the configured ones. Never blocks. */
  handle = (ev: CoreLogEvent): void => {
    if (this.closed || !this.events.has(ev.type)) return;
    this.queue.push({ ev });
    while (this.queue.length > this.o.maxQueue) {
      const dropped = this.queue.shift()!;
      this.o.onResult?.(dropped.ev.type, 'dropped');
      const now = Date.now();
      if (now - this.lastDropLogAt > 10_000) {
        this.lastDropLogAt = now;
        this.o.log.warn({ event: dropped.ev.type, queue: this.o.maxQueue }, 'notify hook queue full: dropped the oldest waiting event');
      }
    }
    this.schedule();
  };

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Not in the daemon's effect loop: spawning is a fork, and the kernel changes of this transition go first.
    setImmediate(() => { this.scheduled = false; this.pump(); });
  }

  private pump(): void {
    while (!this.closed && this.running < this.o.maxConcurrent && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      void this.run(job).finally(() => {
        this.running--;
        this.pump();
        if (this.running === 0 && this.queue.length === 0) for (const w of this.idleWaiters.splice(0)) w();
      });
    }
  }

  private run(job: Job): Promise<void> {
    const { ev } = job;
    const t0 = performance.now();
    return new Promise<void>((resolve) => {
      let out = '';
      const keep = (d: Buffer) => { out = (out + d.toString('utf8')).slice(-2048); };
      let timedOut = false;
      let child;
      try {
        child = spawn(this.o.command, [...(this.o.args ?? []), ev.type], {
          env: { PATH: process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', ...hookEnv(this.o.node, ev, this.o.lanAddresses) },
          stdio: ['ignore', 'pipe', 'pipe'],
          // Its own process group, so that the timeout kills what the script started too.
          detached: true,
        });
      } catch (err) {
        this.o.log.error({ event: ev.type, hook: this.o.command, err: String(err) }, 'notify hook could not be started');
        this.o.onResult?.(ev.type, 'error');
        resolve();
        return;
      }
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      const killGroup = (sig: NodeJS.Signals) => {
        try { if (child.pid !== undefined) process.kill(-child.pid, sig); } catch { /* already gone */ }
      };
      let killTimer: NodeJS.Timeout | undefined;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup('SIGTERM');
        killTimer = setTimeout(() => killGroup('SIGKILL'), this.o.killGraceMs ?? 1000);
      }, this.o.timeoutMs);
      let done = false;
      const finish = (result: HookResult, detail: Record<string, unknown>) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (killTimer) clearTimeout(killTimer);
        const ms = Math.round(performance.now() - t0);
        const output = out.trim() || undefined;
        if (result === 'ok') this.o.log.debug({ event: ev.type, hook: this.o.command, ms, output }, 'notify hook ran');
        else if (result === 'error') this.o.log.error({ event: ev.type, hook: this.o.command, ...detail }, 'notify hook could not be started');
        else this.o.log.warn({ event: ev.type, hook: this.o.command, ms, ...detail, output }, result === 'timeout' ? 'notify hook timed out and was killed' : 'notify hook failed');
        this.o.onResult?.(ev.type, result, ms);
        resolve();
      };
      child.once('error', (err) => finish('error', { err: err.message }));
      child.once('close', (code, signal) => {
        if (timedOut) finish('timeout', { timeoutMs: this.o.timeoutMs, signal });
        else if (code === 0) finish('ok', {});
        else finish('failed', { code, signal });
      });
    });
  }

  /** Resolves when no hook runs and none waits (tests). */
  idle(): Promise<void> {
    if (this.running === 0 && this.queue.length === 0 && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Starts no more hooks; the running ones go on (in their own process groups) until they end or time out. */
  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }
}
