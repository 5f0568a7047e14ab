// One client TCP connection of the lab workload, with the bookkeeping every stream needs: who ended it and why
// it failed (the failure reasons report.ts defines), and the reconnect backoff after a failure. Either address
// family: the host is an IPv4 or IPv6 address (node connects to a literal of either).
import net from 'node:net';
import { ipFamily } from '../../core/ip.js';
import type { FailReason } from './report.js';

/** `host:port` as the workload writes targets: an IPv6 address in brackets (`[2001:db8::11]:7100`, RFC 3986). */
export const hostPort = (host: string, port: number): string => (ipFamily(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`);

/** Backoff before reconnecting a P/S/B slot after a failure: 10 ms doubling to 1 s, reset by a success. */
export const backoffMs = (failures: number): number => Math.min(1000, 10 * 2 ** Math.max(0, failures - 1));

/** The failure reason of a socket error (report.ts defines the reasons). */
export function reasonOf(err: unknown): FailReason {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ECONNRESET': case 'EPIPE': return 'reset';
    case 'ECONNREFUSED': return 'refused';
    case 'ETIMEDOUT': return 'timeout';
    case 'EHOSTUNREACH': case 'ENETUNREACH': case 'ENETDOWN': case 'EHOSTDOWN': return 'unreachable';
    default: return 'error';
  }
}

export interface LinkClose { byClient: boolean; established: boolean; reason: FailReason; serverEnded: boolean }
export interface LinkEvents {
  onConnect(): void;
  onData(buf: Buffer): void;
  onServerEnd?(): void;
  onClose(c: LinkClose): void;
}

/** One client TCP connection with the bookkeeping every stream needs: who ended it and why it failed. */
export class Link {
  readonly sock: net.Socket;
  established = false;
  serverEnded = false;
  private byClient = false;
  private reason: FailReason | undefined;
  private connectTimer: NodeJS.Timeout | undefined;

  constructor(host: string, port: number, connectTimeoutMs: number | undefined, ev: LinkEvents) {
    const sock = net.connect({ host, port, noDelay: true });
    this.sock = sock;
    if (connectTimeoutMs !== undefined) this.connectTimer = setTimeout(() => this.abort('connect_timeout'), connectTimeoutMs);
    sock.on('connect', () => {
      clearTimeout(this.connectTimer);
      this.established = true;
      sock.setNoDelay(true);
      ev.onConnect();
    });
    sock.on('data', (b: Buffer) => ev.onData(b));
    sock.on('end', () => {
      this.serverEnded = true;
      ev.onServerEnd?.();
    });
    sock.on('error', (e) => { this.reason ??= reasonOf(e); });
    sock.on('close', () => {
      clearTimeout(this.connectTimer);
      ev.onClose({ byClient: this.byClient, established: this.established, reason: this.reason ?? 'closed', serverEnded: this.serverEnded });
    });
  }
  get open(): boolean { return this.established && !this.sock.destroyed && !this.byClient; }
  write(b: Buffer): boolean { return this.sock.write(b); }
  /** Client-initiated clean close (FIN after pending writes); a peer that never answers is cut after 2 s. */
  end(): void {
    if (this.byClient) return;
    this.byClient = true;
    this.sock.end();
    setTimeout(() => this.sock.destroy(), 2000).unref();
  }
  /** Half-close only (bulk stream at stop): keeps reading the echo. Not a client end: a later failure still counts. */
  halfClose(): void { this.sock.end(); }
  /** The client gives up on the connection because of `reason` (counts as a failure, not a client end). */
  abort(reason: FailReason): void {
    if (this.sock.destroyed) return;
    this.reason ??= reason;
    this.sock.destroy();
  }
  /** Client end without waiting for FIN (after the report, or requests already settled). */
  destroy(): void { this.byClient = true; this.sock.destroy(); }
}
