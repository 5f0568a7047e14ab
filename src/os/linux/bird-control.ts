// BIRD 2's control socket (what birdc speaks): asks `show protocols` on one kept connection and tells, per watched
// interface, whether one of its BGP sessions is Established (L3 mode: a helper's host route reaches the fabric only
// then). The reply parser is pure and exported for tests. Protocol: a greeting `0001 BIRD <version> ready.`, then per
// command lines `<4-digit code>-<text>` (more follow), ` <text>` (more of the same code) and `<code> <text>` (last).
import { createConnection, type Socket } from 'node:net';

export interface BirdWatchTarget { iface: string; socket: string; sessions: string[] }
export type BirdState = (iface: string, established: boolean, error?: string) => void;

/** The BGP protocols of a `show protocols` reply: name -> Established or not. */
export function parseProtocols(reply: string): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const raw of reply.split('\n')) {
    const line = raw.replace(/^\d{4}[- ]/, '').replace(/^ /, '');
    const cols = line.trim().split(/\s+/);
    if (cols.length >= 4 && cols[1] === 'BGP') out.set(cols[0]!, /\bEstablished\b/.test(line));
  }
  return out;
}

/** Whether `buf` holds a whole reply: its last line has a code followed by a space (or is an error). */
const complete = (buf: string): boolean => /(^|\n)\d{4} [^\n]*\n$/.test(buf);

/** One BIRD control socket, asked every `intervalMs`; each answer (or failure) goes to every target on it. */
class BirdConnection {
  private sock: Socket | undefined;
  private buf = '';
  private greeted = false;
  private pending: { resolve: (s: string) => void; reject: (e: Error) => void } | undefined;
  constructor(private readonly path: string) {}

  /** `show protocols` on the kept connection (opened on demand); rejects on any failure (the next call reconnects). */
  async ask(timeoutMs: number): Promise<string> {
    const sock = this.sock ?? this.open();
    const reply = new Promise<string>((resolve, reject) => { this.pending = { resolve, reject }; });
    const timer = setTimeout(() => this.fail(new Error(`no answer from BIRD within ${timeoutMs} ms`)), timeoutMs);
    if (this.greeted) sock.write('show protocols\n');
    try { return await reply; } finally { clearTimeout(timer); }
  }

  private open(): Socket {
    this.buf = '';
    this.greeted = false;
    const sock = createConnection(this.path);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      if (this.sock !== sock) return;
      this.buf += d;
      if (!complete(this.buf)) return;
      const text = this.buf;
      this.buf = '';
      if (!this.greeted) {
        this.greeted = true;
        if (this.pending) sock.write('show protocols\n');
        return;
      }
      const p = this.pending;
      this.pending = undefined;
      p?.resolve(text);
    });
    // A socket given up (a timeout) still closes later: only the current one's end fails the question.
    sock.on('error', (e) => { if (this.sock === sock) this.fail(e); });
    sock.on('close', () => { if (this.sock === sock) this.fail(new Error('BIRD closed the control connection')); });
    this.sock = sock;
    return sock;
  }

  private fail(e: Error): void {
    this.sock?.destroy();
    this.sock = undefined;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
  }

  close(): void { this.fail(new Error('closed')); }
}

/**
 * Asks BIRD every `intervalMs` about the watched interfaces' sessions and reports each interface's state when it
 * changes (and once at first). A session missing from BIRD's answer counts as not Established. A failed question
 * (no socket, no answer) reports the interface down only after `failuresBeforeDown` in a row: a BIRD that is busy once
 * is no reason to move every claim elsewhere, while a session BIRD itself reports down is believed at once.
 */
export function startBirdWatch(targets: readonly BirdWatchTarget[], onState: BirdState, o: { intervalMs?: number; failuresBeforeDown?: number } = {}): { close(): void } {
  const intervalMs = o.intervalMs ?? 1000;
  const failuresBeforeDown = o.failuresBeforeDown ?? 2;
  const conns = new Map<string, BirdConnection>();
  for (const t of targets) if (!conns.has(t.socket)) conns.set(t.socket, new BirdConnection(t.socket));
  const last = new Map<string, boolean>();
  const failures = new Map<string, number>();
  let closed = false;
  let busy = false;
  const report = (iface: string, up: boolean, error?: string): void => {
    if (last.get(iface) === up) return;
    last.set(iface, up);
    onState(iface, up, error);
  };
  const round = async (): Promise<void> => {
    if (busy || closed) return;
    busy = true;
    try {
      await Promise.all([...conns].map(async ([path, c]) => {
        const mine = targets.filter((t) => t.socket === path);
        try {
          const protocols = parseProtocols(await c.ask(Math.max(200, intervalMs - 50)));
          failures.set(path, 0);
          for (const t of mine) report(t.iface, t.sessions.some((s) => protocols.get(s) === true));
        } catch (e) {
          const n = (failures.get(path) ?? 0) + 1;
          failures.set(path, n);
          if (closed) return;
          if (n >= failuresBeforeDown || mine.some((t) => !last.has(t.iface))) for (const t of mine) report(t.iface, false, `${path}: ${(e as Error).message}`);
        }
      }));
    } finally { busy = false; }
  };
  void round();
  const timer = setInterval(() => void round(), intervalMs);
  timer.unref();
  return {
    close(): void {
      closed = true;
      clearInterval(timer);
      for (const c of conns.values()) c.close();
    },
  };
}
