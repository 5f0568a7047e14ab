// The daemon's local control socket (a Unix socket, JSON lines): `hanet status` and `hanet events` ask it.
// One request line per connection: {"cmd":"status"} or {"cmd":"events","follow":true}; answers are JSON lines.
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { mkdirSync, rmSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { HanetError } from '../errors.js';
import type { Daemon } from './daemon.js';

export interface ControlServer { close(): Promise<void> }

export async function serveControl(path: string, daemon: Daemon): Promise<ControlServer> {
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
        for (const e of daemon.recentEvents()) sock.write(JSON.stringify(e) + '\n');
        if (!req.follow) { sock.end(); return; }
        const off = daemon.onEvent((e) => sock.write(JSON.stringify(e) + '\n'));
        sock.on('close', off);
      } else sock.end(JSON.stringify({ error: `unknown command ${String(req.cmd)}` }) + '\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => { server.off('error', reject); resolve(); });
  });
  chmodSync(path, 0o600);
  return {
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
