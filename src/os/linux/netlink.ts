// rtnetlink socket client over the native addon: request/ack with sequence numbers, dumps, and
// multicast subscriptions, all driven by uv_poll readiness (no child processes, no threads).
//
// rtnetlink handles a request synchronously inside sendto(): when sendto returns, the reply (or the
// first dump chunk; later chunks are produced by each recvmsg) is already queued on our socket. So
// request() drains the socket right after sending and usually settles without an event-loop turn;
// uv_poll is the fallback and the path for multicast events.
import { constants as osConstants } from 'node:os';
import { HanetError } from '../../errors.js';
import {
  NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST, NLMSG_DONE, NLMSG_ERROR, NLMSG_NOOP, NLMSG_OVERRUN,
  decodeMessages, decodeRtMessage, encodeMessage, type RtMessage,
} from '../../proto/netlink.js';
import {
  AF_NETLINK, NETLINK_ADD_MEMBERSHIP, NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK, NETLINK_ROUTE,
  SOCK_RAW, SOL_NETLINK, SOL_SOCKET, SO_RCVBUF, SO_RCVBUFFORCE, isNativeError, native, sockaddrNl, type NativePoller,
} from './native.js';

const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([k, v]) => [v, k]));
export const errnoName = (n: number): string => ERRNO_NAMES.get(n) ?? `E${n}`;

/** Thrown when the kernel answers a netlink request with an error (errno + extended ack text). */
export class NetlinkError extends HanetError {
  readonly errno: number;
  readonly errnoName: string;
  readonly extAck: string | undefined;
  constructor(what: string, errno: number, extAck?: string, options?: { cause?: unknown }) {
    super('HANET_ERR_NETLINK', `${what}: ${errnoName(errno)}${extAck ? ` (${extAck})` : ''}`, options);
    this.name = 'NetlinkError';
    this.errno = errno;
    this.errnoName = errnoName(errno);
    this.extAck = extAck;
  }
}

export interface RequestOptions {
  /** Label for error messages, e.g. 'add route 10.0.0.0/24'. */
  what?: string;
  /** Default 5000 ms: the kernel answers in microseconds; a silent socket means something is badly wrong. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

interface Pending {
  seq: number;
  what: string;
  dump: boolean;
  replies: RtMessage[];
  interrupted: boolean;
  resolve: (m: RtMessage[]) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | undefined;
  onAbort: (() => void) | undefined;
  signal: AbortSignal | undefined;
}

const RECV_BUF = 64 * 1024; // the kernel caps dump skbs at 32 KiB (netlink_recvmsg clamps max_recvmsg_len)

/** One AF_NETLINK/NETLINK_ROUTE socket. Use `open()` for requests, `subscribe()` for events. */
export class NetlinkSocket {
  private fd: number;
  private readonly poller: NativePoller;
  private readonly buf = Buffer.allocUnsafe(RECV_BUF);
  private readonly pending = new Map<number, Pending>();
  private seq: number;
  private closed = false;
  private listener: ((m: RtMessage) => void) | undefined;
  private overrunListener: ((e: Error) => void) | undefined;

  private constructor(groups: number[], rcvbuf: number | undefined) {
    const n = native();
    this.fd = n.socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE);
    try {
      for (const [opt, v] of [[NETLINK_EXT_ACK, 1], [NETLINK_CAP_ACK, 1], [NETLINK_GET_STRICT_CHK, 1]] as const) {
        try { n.setsockopt(this.fd, SOL_NETLINK, opt, v); } catch { /* older kernels: best effort */ }
      }
      if (rcvbuf) {
        try { n.setsockopt(this.fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf); } catch { n.setsockopt(this.fd, SOL_SOCKET, SO_RCVBUF, rcvbuf); }
      }
      n.bind(this.fd, sockaddrNl(0, 0));
      for (const g of groups) n.setsockopt(this.fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, g);
      this.poller = new n.Poller(this.fd, n.constants.UV_READABLE, (status) => this.onReadable(status));
    } catch (e) {
      n.close(this.fd);
      throw wrapSocketError('open netlink socket', e);
    }
    // Random start so a restarted daemon does not mistake a stale reply for a fresh one.
    this.seq = (Math.random() * 0x7fffffff) >>> 0;
  }

  /** A request socket (no multicast groups). */
  static open(): NetlinkSocket {
    return new NetlinkSocket([], undefined);
  }

  /** A subscription socket joined to rtnetlink multicast groups (RTNLGRP_*). Events go to `onMessage`. */
  static subscribe(groups: number[], onMessage: (m: RtMessage) => void, onOverrun?: (e: Error) => void): NetlinkSocket {
    // 1 MiB: a burst of link/route events must not overflow (ENOBUFS means we lost events and must resync).
    const s = new NetlinkSocket(groups, 1 << 20);
    s.listener = onMessage;
    s.overrunListener = onOverrun;
    return s;
  }

  /** Let the process exit while this socket is open (for event sockets that should not hold the loop). */
  unref(): this { this.poller.unref(); return this; }
  ref(): this { this.poller.ref(); return this; }

  /** Sends one request with NLM_F_ACK; resolves with the reply messages (all dump parts, without DONE/ack). */
  request(type: number, flags: number, payload: Uint8Array, opts: RequestOptions = {}): Promise<RtMessage[]> {
    return this.requestOnce(type, flags, payload, opts);
  }

  /** A dump request (NLM_F_DUMP); retried up to 3 times when the kernel flags it inconsistent (NLM_F_DUMP_INTR). */
  async dump(type: number, payload: Uint8Array, opts: RequestOptions = {}): Promise<RtMessage[]> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.requestOnce(type, NLM_F_DUMP, payload, opts);
      } catch (e) {
        if (e instanceof DumpInterrupted && attempt < 3) continue;
        if (e instanceof DumpInterrupted) throw new NetlinkError(opts.what ?? `dump type ${type}`, osConstants.errno.EINTR, 'dump kept being interrupted');
        throw e;
      }
    }
  }

  private requestOnce(type: number, flags: number, payload: Uint8Array, opts: RequestOptions): Promise<RtMessage[]> {
    const what = opts.what ?? `netlink request type ${type}`;
    if (this.closed) return Promise.reject(new HanetError('HANET_ERR_NETLINK', `${what}: socket closed`));
    if (opts.signal?.aborted) return Promise.reject(new HanetError('HANET_ERR_ABORTED', `${what}: aborted`, { cause: opts.signal.reason }));
    this.seq = (this.seq + 1) >>> 0 || 1;
    const seq = this.seq;
    const msg = encodeMessage({ type, flags: flags | NLM_F_REQUEST | NLM_F_ACK, seq, pid: 0 }, payload);
    return new Promise<RtMessage[]>((resolve, reject) => {
      const p: Pending = {
        seq, what, dump: (flags & NLM_F_DUMP) === NLM_F_DUMP, replies: [], interrupted: false,
        resolve, reject, timer: undefined, onAbort: undefined, signal: opts.signal,
      };
      this.pending.set(seq, p);
      try {
        native().sendto(this.fd, Buffer.from(msg.buffer, msg.byteOffset, msg.byteLength), sockaddrNl(0, 0));
      } catch (e) {
        this.settle(p, wrapSocketError(`${what}: send`, e));
        return;
      }
      // Usually the answer is already queued (see module header): read it now.
      this.drain();
      if (!this.pending.has(seq)) return;
      const timeoutMs = opts.timeoutMs ?? 5000;
      p.timer = setTimeout(() => this.settle(p, new HanetError('HANET_ERR_TIMEOUT', `${what}: no answer from the kernel in ${timeoutMs} ms`)), timeoutMs);
      if (opts.signal) {
        p.onAbort = () => this.settle(p, new HanetError('HANET_ERR_ABORTED', `${what}: aborted`, { cause: opts.signal?.reason }));
        opts.signal.addEventListener('abort', p.onAbort, { once: true });
      }
    });
  }

  private settle(p: Pending, result: RtMessage[] | Error): void {
    if (!this.pending.delete(p.seq)) return;
    if (p.timer) clearTimeout(p.timer);
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    if (result instanceof Error) p.reject(result);
    else p.resolve(result);
  }

  private onReadable(status: number): void {
    if (this.closed) return;
    if (status < 0) {
      this.failAll(new HanetError('HANET_ERR_NETLINK', `netlink socket poll error ${status}`));
      return;
    }
    this.drain();
  }

  /** Reads every queued datagram now (synchronously). */
  drain(): void {
    const n = native();
    while (!this.closed) {
      let r;
      try {
        r = n.recvfrom(this.fd, this.buf);
      } catch (e) {
        if (isNativeError(e) && e.code === 'ENOBUFS') {
          // The kernel dropped messages for us: subscribers must resync; requests may have lost answers.
          const err = new HanetError('HANET_ERR_NETLINK', 'netlink receive buffer overrun (ENOBUFS): events were lost', { cause: e });
          this.overrunListener?.(err);
          this.failAll(err);
          continue;
        }
        this.failAll(wrapSocketError('netlink recv', e));
        return;
      }
      if (r === null) return;
      // Only the kernel (port id 0) may talk to us; anything else is ignored.
      if (r.address.length >= 8 && r.address.readUInt32LE(4) !== 0) continue;
      if (r.truncated) {
        this.failAll(new HanetError('HANET_ERR_NETLINK', `netlink message of ${r.length} bytes truncated to ${this.buf.length}`));
        continue;
      }
      const frames = decodeMessages(new Uint8Array(this.buf.buffer, this.buf.byteOffset, r.length));
      if (!frames.ok) continue; // garbage from the kernel would be a kernel bug; never crash the daemon on it
      for (const f of frames.value) {
        // Copy: the receive buffer is reused for the next datagram.
        const own = { header: f.header, payload: Uint8Array.prototype.slice.call(f.payload) };
        this.dispatch(own.header.type, own);
      }
    }
  }

  private dispatch(type: number, frame: { header: RtMessage['header']; payload: Uint8Array }): void {
    const { header } = frame;
    if (type === NLMSG_NOOP) return;
    const p = header.seq !== 0 ? this.pending.get(header.seq) : undefined;
    if (type === NLMSG_OVERRUN) {
      if (p) this.settle(p, new NetlinkError(p.what, osConstants.errno.ENOBUFS, 'NLMSG_OVERRUN'));
      return;
    }
    const d = decodeRtMessage(frame);
    if (!p) {
      if (d.ok && header.seq === 0 && this.listener) this.listener(d.value);
      return;
    }
    if (!d.ok) {
      this.settle(p, new HanetError('HANET_ERR_NETLINK', `${p.what}: undecodable reply: ${d.error.message}`));
      return;
    }
    const m = d.value;
    if ((header.flags & NLM_F_DUMP_INTR) !== 0) p.interrupted = true;
    if (type === NLMSG_ERROR && m.kind === 'ack') {
      if (m.ack.errno !== 0) this.settle(p, new NetlinkError(p.what, m.ack.errno, m.ack.extAckMsg));
      else this.settle(p, p.interrupted ? new DumpInterrupted() : p.replies);
      return;
    }
    if (type === NLMSG_DONE && m.kind === 'done') {
      if (m.errno !== 0) this.settle(p, new NetlinkError(p.what, m.errno, m.extAckMsg));
      else this.settle(p, p.interrupted ? new DumpInterrupted() : p.replies);
      return;
    }
    p.replies.push(m);
  }

  private failAll(e: Error): void {
    for (const p of [...this.pending.values()]) this.settle(p, e);
  }

  /** Stops the watcher, fails pending requests and closes the fd. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller.stop();
    this.failAll(new HanetError('HANET_ERR_NETLINK', 'netlink socket closed'));
    try { native().close(this.fd); } catch { /* already gone */ }
    this.fd = -1;
  }
}

class DumpInterrupted extends Error {}

function wrapSocketError(what: string, e: unknown): HanetError {
  if (e instanceof HanetError) return e;
  if (isNativeError(e)) {
    if (e.code === 'EPERM' || e.code === 'EACCES') return new HanetError('HANET_ERR_PERMISSION', `${what}: ${e.message} (needs CAP_NET_ADMIN)`, { cause: e });
    return new NetlinkError(what, e.errno, undefined, { cause: e });
  }
  return new HanetError('HANET_ERR_NETLINK', `${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}
