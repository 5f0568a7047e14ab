// The daemon's local control socket (a Unix socket, JSON lines): `hanet status` and `hanet events` ask it.
// One request line per connection: {"cmd":"status"} or {"cmd":"events","follow":true}; answers are JSON lines.
//
// A `--follow` client that reads slower than events come (or not at all) must not make the daemon buffer without
// limit (issue #11): once more than FOLLOW_BUFFER_BYTES of its events are unread, it gets one last line
// {"type":"follow-dropped","reason":"client-too-slow",...}, no more events, and the connection is closed (destroyed
// after DROP_GRACE_MS if it does not read even that). So a connection holds at most the limit plus one event.
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { mkdirSync, rmSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { HanetError } from '../errors.js';
import type { Daemon } from './daemon.js';

/** Unread bytes a `--follow` client may have queued in the daemon before it is dropped. */
export const FOLLOW_BUFFER_BYTES = 256 * 1024;
/** How long a dropped client has to read the notice before its connection is destroyed. */
const DROP_GRACE_MS = 2000;

export interface ControlServer {
  close(): Promise<void>;
  /** Follow clients now, dropped for reading too slowly, and the most bytes ever queued for one connection. */
  stats(): { followers: number; dropped: number; maxQueuedBytes: number };
}

/** What the control socket needs of the daemon (the Daemon class fits; tests pass fakes). */
export type ControlSource = Pick<Daemon, 'status' | 'recentEvents' | 'onEvent'>;

export async function serveControl(path: string, daemon: ControlSource, opts: { followBufferBytes?: number } = {}): Promise<ControlServer> {
  const limit = opts.followBufferBytes ?? FOLLOW_BUFFER_BYTES;
  const st = { followers: 0, dropped: 0, maxQueuedBytes: 0 };
  mkdirSync(dirname(path), { recursive: true });
  rmSync(path, { force: true }); // a socket file left by a crashed daemon
  const conns = new Set<Socket>();
  const server: Server = createServer((sock) => {
    conns.add(sock);
    sock.on('close', () => conns.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = '';
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0) { if (buf.length > 4096) sock.destroy(); return; }
      let req: { cmd?: string; follow?: boolean };
      try { req = JSON.parse(buf.slice(0, nl)) as typeof req; } catch { sock.end(JSON.stringify({ error: 'bad request' }) + '\n'); return; }
      buf = '';
      if (req.cmd === 'status') sock.end(JSON.stringify(daemon.status()) + '\n');
      else if (req.cmd === 'events') {
        // The backlog is bounded by the daemon's event ring (500 events).
        for (const e of daemon.recentEvents()) sock.write(JSON.stringify(e) + '\n');
        if (!req.follow) { sock.end(); return; }
        st.followers++;
        let following = true;
        const stop = (): void => { if (following) { following = false; st.followers--; off(); } };
        const off = daemon.onEvent((e) => {
          if (!following || sock.destroyed) return;
          if (sock.writableLength > limit) {
            stop();
            st.dropped++;
            sock.end(JSON.stringify({ type: 'follow-dropped', time: new Date().toISOString(), reason: 'client-too-slow', unreadBytes: sock.writableLength, limitBytes: limit }) + '\n');
            setTimeout(() => sock.destroy(), DROP_GRACE_MS).unref();
            return;
          }
          sock.write(JSON.stringify(e) + '\n');
          st.maxQueuedBytes = Math.max(st.maxQueuedBytes, sock.writableLength);
        });
        sock.on('close', stop);
      } else sock.end(JSON.stringify({ error: `unknown command ${String(req.cmd)}` }) + '\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => { server.off('error', reject); resolve(); });
  });
  chmodSync(path, 0o600);
  return {
    stats: () => ({ ...st }),
    close: () => new Promise<void>((resolve) => {
      for (const c of conns) c.destroy();
      server.close(() => { rmSync(path, { force: true }); resolve(); });
    }),
  };
}

/** Sends one request and returns the answer lines (or streams them to `onLine` until the daemon closes). */
export function askControl(path: string, req: object, onLine?: (line: string) => void, signal?: AbortSignal): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    const lines: string[] = [];
    let buf = '';
    signal?.addEventListener('abort', () => { sock.destroy(); resolve(lines); }, { once: true });
    sock.on('connect', () => sock.write(JSON.stringify(req) + '\n'));
    sock.on('data', (d) => {
      buf += d.toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (onLine) onLine(line); else lines.push(line);
      }
    });
    sock.on('error', (err) => reject(new HanetError('HANET_ERR_CONTROL', `cannot reach the hanet daemon at ${path}: ${err.message}`, { cause: err })));
    sock.on('close', () => resolve(lines));
  });
}
