// The lab workload's TCP service (`hanet lab serve`): answers P/N/S requests and echoes the B stream.
// Runs in a server node's namespace as its own process, or in-process on loopback for unit tests. Listens on both
// address families by default, so one service answers a dual-stack server's IPv4 and IPv6 clients.
//
// Per connection, the first frame is a HELLO naming the kind (see protocol.ts):
//   P  persistent: every REQ is answered at once with a REP carrying the same payload.
//   N  one request per connection: REP, then the service closes its side (FIN).
//   S  slow: each REP is sent holdMs (from the HELLO) after its REQ arrived.
//   B  bulk: every byte after the HELLO is echoed back unchanged; the service ends its side when the client does.
// A malformed stream is answered with a reset (the client then reports it as a failure, never as a success).
import net from 'node:net';
import { FrameDecoder, encodeReply, type StreamKind } from './protocol.js';

export interface ServiceOptions {
  port: number;          // 0 picks a free port (tests)
  /** Default: every address of both families (`::`, which also takes IPv4 clients; `0.0.0.0` where IPv6 is off). */
  bind?: string;
}

export interface ServiceStats {
  connections: Record<StreamKind, number>;
  open: number;
  replies: number;
  bulk_bytes: number;
  protocol_errors: number;
}

export interface ServiceHandle {
  readonly port: number;
  readonly address: string;
  stats(): ServiceStats;
  /** Stops accepting, ends every connection (FIN after pending writes) and resolves once all are closed. */
  close(): Promise<void>;
  /** Test hook: resets every open connection at once (RST, as if the server crashed). */
  destroyAllSockets(): void;
  /** Test hook: stops answering (requests are read and dropped, bulk echo stops) without closing anything. */
  pause(): void;
  resume(): void;
}

interface Conn {
  sock: net.Socket;
  kind: StreamKind | undefined;
  holdMs: number;
  holds: Set<NodeJS.Timeout>;
  clientEnded: boolean;
  waitingDrain: boolean;
}

export async function startService(opts: ServiceOptions): Promise<ServiceHandle> {
  const conns = new Set<Conn>();
  let paused = false;
  const stats: ServiceStats = { connections: { P: 0, N: 0, S: 0, B: 0 }, open: 0, replies: 0, bulk_bytes: 0, protocol_errors: 0 };

  const endWhenIdle = (c: Conn): void => {
    if (c.clientEnded && c.holds.size === 0 && !c.sock.writableEnded) c.sock.end();
  };

  const onConnection = (sock: net.Socket): void => {
    sock.setNoDelay(true);
    const c: Conn = { sock, kind: undefined, holdMs: 0, holds: new Set(), clientEnded: false, waitingDrain: false };
    conns.add(c);
    stats.open++;
    const dec = new FrameDecoder();

    const protocolError = (): void => {
      stats.protocol_errors++;
      sock.resetAndDestroy();
    };
    const reply = (payload: Buffer): void => {
      if (sock.destroyed || sock.writableEnded) return;
      sock.write(encodeReply(payload));
      stats.replies++;
    };
    const echo = (chunk: Buffer): void => {
      if (chunk.length === 0 || sock.destroyed || sock.writableEnded) return;
      stats.bulk_bytes += chunk.length;
      // Backpressure: stop reading while the echo is queued, so an unread client does not grow our memory.
      if (!sock.write(chunk) && !c.waitingDrain) {
        c.waitingDrain = true;
        sock.pause();
        sock.once('drain', () => { c.waitingDrain = false; if (!paused) sock.resume(); });
      }
    };

    const onData = (chunk: Buffer): void => {
      if (c.kind === 'B') { echo(chunk); return; }
      dec.push(chunk);
      for (;;) {
        const f = dec.next();
        if (f === undefined) return;
        if (f.type === 'error') { protocolError(); return; }
        if (c.kind === undefined) {
          if (f.type !== 'hello') { protocolError(); return; }
          c.kind = f.kind;
          stats.connections[f.kind]++;
          if (f.kind === 'B') {
            // Leave framing: bytes that came in the same segment as the HELLO are the start of the stream.
            echo(dec.takeRest());
            return;
          }
          c.holdMs = f.holdMs;
          continue;
        }
        if (f.type !== 'req') { protocolError(); return; }
        if (paused) continue; // "stops answering": the request is swallowed
        if (c.kind === 'S') {
          const t = setTimeout(() => {
            c.holds.delete(t);
            if (!paused) reply(f.payload);
            endWhenIdle(c);
          }, c.holdMs);
          c.holds.add(t);
        } else {
          reply(f.payload);
          if (c.kind === 'N') sock.end();
        }
      }
    };
    sock.on('data', onData);
    sock.on('end', () => { c.clientEnded = true; endWhenIdle(c); });
    sock.on('error', () => { /* reset by peer etc.: the close handler cleans up */ });
    sock.on('close', () => {
      for (const t of c.holds) clearTimeout(t);
      c.holds.clear();
      if (conns.delete(c)) stats.open--;
    });
    if (paused) sock.pause();
  };

  // allowHalfOpen: the service decides when to end its side (after the last held S reply / the last echoed byte).
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: opts.port, ...(opts.bind !== undefined ? { host: opts.bind } : {}) }, () => { server.off('error', reject); resolve(); });
  });
  const addr = server.address() as net.AddressInfo;

  return {
    port: addr.port,
    address: addr.address,
    stats: () => ({ ...stats, connections: { ...stats.connections } }),
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const c of conns) {
        for (const t of c.holds) clearTimeout(t);
        c.holds.clear();
        c.sock.end();
        // A peer that never reads or never closes must not keep us from exiting.
        setTimeout(() => c.sock.destroy(), 1000).unref();
      }
    }),
    destroyAllSockets: () => { for (const c of conns) c.sock.resetAndDestroy(); },
    pause: () => {
      paused = true;
      for (const c of conns) if (c.kind === 'B') c.sock.pause();
    },
    resume: () => {
      paused = false;
      for (const c of conns) c.sock.resume();
    },
  };
}
