// The lab's serial cable: a small process owning two pseudo-terminal masters that copies bytes between them at
// the line rate (baud/10 bytes a second each way, 8N1), paced every millisecond like a UART, not in bursts. The
// daemons open the slave ends through symlinks (/run/hanet-lab/<lab>/tty/<node>-<port>). Killing the relay is
// the USB adapter unplugged (the daemons read EOF/EIO); SIGUSR1 cuts the line silently (bytes vanish, like a
// pulled RS232 cable), SIGUSR2 mends it. `hanet lab serial-relay` runs it; lab.ts starts it, plug/unplug.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { openSync, constants as fsc } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { LabError } from './errors.js';
import { native, type NativePoller } from '../os/linux/native.js';

/** Bytes the relay holds per direction before it stops reading (the writer then sees a full tty): ~a UART FIFO + tty buffer. */
const HOLD_BYTES = 4096;
const TICK_MS = 1;

export interface RelayOptions {
  baud: number;
  /** Symlink paths for the two slave ends. */
  ttys: [string, string];
}

/** Points `link` at `target` atomically (rename over an old link). */
function symlinkAtomic(target: string, link: string): void {
  mkdirSync(dirname(link), { recursive: true });
  const tmp = `${link}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, link);
}

/** Runs the relay in this process until SIGTERM/SIGINT. Prints "READY <slaveA> <slaveB>" once the symlinks exist. */
export function runSerialRelay(o: RelayOptions): void {
  const n = native();
  const bytesPerMs = o.baud / 10 / 1000;
  const burst = Math.max(16, bytesPerMs * 4);
  const ends = [n.openPty(), n.openPty()];
  // Hold each slave open ourselves: with no slave open a master polls as hung up (a busy loop) and reads EIO.
  const holders = ends.map((e) => openSync(e.slave, fsc.O_RDWR | fsc.O_NOCTTY | fsc.O_NONBLOCK));
  let cut = false;
  interface Dir { from: number; to: number; pending: Buffer[]; pendingBytes: number; tokens: number; poller?: NativePoller; reading: boolean }
  const dirs: Dir[] = [
    { from: ends[0]!.master, to: ends[1]!.master, pending: [], pendingBytes: 0, tokens: 0, reading: false },
    { from: ends[1]!.master, to: ends[0]!.master, pending: [], pendingBytes: 0, tokens: 0, reading: false },
  ];
  const buf = Buffer.allocUnsafe(HOLD_BYTES);
  const startReading = (d: Dir): void => {
    if (d.reading) return;
    d.reading = true;
    d.poller = new n.Poller(d.from, n.constants.UV_READABLE, () => {
      for (;;) {
        if (d.pendingBytes >= HOLD_BYTES) { stopReading(d); return; }
        let len: number | null;
        try { len = n.read(d.from, buf.subarray(0, HOLD_BYTES - d.pendingBytes)); } catch { return; }
        if (!len) return;
        if (cut) continue;
        d.pending.push(Buffer.from(buf.subarray(0, len)));
        d.pendingBytes += len;
      }
    });
  };
  const stopReading = (d: Dir): void => {
    d.poller?.stop();
    d.poller = undefined;
    d.reading = false;
  };
  let last = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    const dt = now - last;
    last = now;
    for (const d of dirs) {
      // A busy line keeps its credit through a late tick (a UART would have sent those bytes meanwhile), up to
      // 50 ms; an idle line saves no more than a short burst.
      d.tokens = Math.min(d.pendingBytes > 0 ? Math.max(burst, bytesPerMs * 50) : burst, d.tokens + dt * bytesPerMs);
      while (d.pendingBytes > 0 && d.tokens >= 1) {
        const head = d.pending[0]!;
        const take = Math.min(head.length, Math.floor(d.tokens));
        let w = 0;
        try { w = n.write(d.to, head.subarray(0, take)); } catch { w = 0; } // EAGAIN: the reader's buffer is full
        if (w <= 0) break;
        d.tokens -= w;
        d.pendingBytes -= w;
        if (w === head.length) d.pending.shift();
        else d.pending[0] = head.subarray(w);
      }
      if (!d.reading && d.pendingBytes < HOLD_BYTES / 2) startReading(d);
    }
  }, TICK_MS);
  for (const d of dirs) startReading(d);
  symlinkAtomic(ends[0]!.slave, o.ttys[0]);
  symlinkAtomic(ends[1]!.slave, o.ttys[1]);
  const stop = (): void => {
    clearInterval(tick);
    for (const d of dirs) stopReading(d);
    for (const e of ends) n.close(e.master);
    for (const h of holders) n.close(h);
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGUSR1', () => {
    cut = true;
    for (const d of dirs) { d.pending = []; d.pendingBytes = 0; }
  });
  process.on('SIGUSR2', () => { cut = false; });
  process.stdout.on('error', () => { /* the starter closed its end after READY */ });
  process.stdout.write(`READY ${ends[0]!.slave} ${ends[1]!.slave}\n`);
}

/**
 * Starts a relay process (detached, so a `hanet lab up` CLI can exit) and waits until its symlinks exist.
 * `argv` runs hanet's CLI, e.g. `ip netns exec <ns> node main.js`: the relay then lives in a lab namespace and
 * `lab down` ends it with the namespace's other processes, even if its pid were lost.
 */
export async function startRelay(argv: string[], o: RelayOptions, timeoutMs = 10_000): Promise<{ pid: number }> {
  const child: ChildProcess = spawn(argv[0]!, [...argv.slice(1), 'lab', 'serial-relay', '--baud', String(o.baud), '--tty', o.ttys[0], '--tty', o.ttys[1]], {
    detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => { stderr = (stderr + b.toString()).slice(-2000); });
  const ready = await new Promise<boolean>((resolve) => {
    const t = setTimeout(() => resolve(false), timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (l) => { if (l.startsWith('READY ')) { clearTimeout(t); resolve(true); } });
    child.once('exit', () => { clearTimeout(t); resolve(false); });
  });
  if (!ready || child.pid === undefined) {
    child.kill('SIGKILL');
    throw new LabError(`serial relay did not start: ${stderr.trim() || '(no output)'}`);
  }
  child.stdout!.destroy();
  child.stderr!.destroy();
  child.unref();
  return { pid: child.pid };
}

/** True if `pid` is a running serial relay (not a recycled pid of something else). */
export function isRelay(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes('serial-relay');
  } catch {
    return false;
  }
}

/** Ends a relay (SIGTERM, then SIGKILL) and waits until it is gone. */
export async function stopRelay(pid: number, timeoutMs = 2000): Promise<void> {
  if (!isRelay(pid)) return;
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + timeoutMs;
  while (isRelay(pid)) {
    if (Date.now() > deadline) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    if (Date.now() > deadline + 1000) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}
