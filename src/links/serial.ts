// A private link over a serial line: IP packets between a TUN device and the line, and hanet control messages on
// the same line, in COBS + CRC-32 frames (src/proto/serial-frame.ts). Implements PrivateLink for the control part;
// the core sees the TUN like any private interface.
//
// Transmit: control frames go first (heartbeats must not wait behind a queue of IP), IP frames after them, and the
// link paces its own writes at the line rate (8N1: 10 bits a byte). It writes a frame only when the line will have
// sent what it already holds within `leadMs`, so the tty driver holds little and the queue stays in userspace where
// its order and size are decided; IP beyond `queueMs` of line time is dropped (TCP backs off, interactive packets
// are not stuck behind seconds of bulk: the TUN's own 500-packet queue would be ~60 s at 115200 baud).
// A newer heartbeat replaces one still queued (the peer only needs the latest).
//
// Line loss (USB adapter unplugged, lab relay gone: EOF/EIO on the tty): the TUN's carrier goes down at once (the
// core then drops takeovers over this link without waiting for heartbeats to time out), and the device is reopened
// every `reopenMs` until it is back; carrier then comes back up. A silent line (cable pulled on RS232, no error)
// is found by the heartbeat timeout, as on any link.
import { performance } from 'node:perf_hooks';
import type { PeerMessage } from '../core/messages.js';
import type { ControlKey, ControlSender } from '../proto/control.js';
import { MAX_MESSAGE_BYTES } from '../proto/control.js';
import type { ReplayGuard } from '../proto/replay.js';
import { encodeFrame, FRAME_CONTROL, FRAME_IP, frameWireLen, SerialDeframer, type DeframerStats } from '../proto/serial-frame.js';
import { openSerialLine, type ByteLine, type OpenLine } from '../os/linux/serial.js';
import type { PacketPort, TunStats } from '../os/linux/tun.js';
import { lineBytesPerSecond, lineTimeMs } from '../config/links/serial.js';
import { ControlChannel } from './control-rx.js';
import type { LinkStats, PrivateLink, ReceivedMessage, RejectEvent } from './types.js';

// The line-timing maths (bits per byte, line time, the MTU default) is the serial kind's, with its configuration.
export { BITS_PER_BYTE, serialMtuDefault as defaultSerialMtu } from '../config/links/serial.js';

/**
 * Tracks when the line will have sent everything written so far (a virtual clock at the line rate). Pure: time
 * is passed in.
 */
export class LinePacer {
  private busyUntil = -Infinity;
  constructor(private readonly baud: number, private readonly leadMs: number) {}
  /** ms to wait before writing more (<= 0: write now). */
  waitMs(now: number): number { return this.busyUntil - this.leadMs - now; }
  /** n bytes were handed to the driver at `now`. */
  sent(now: number, n: number): void {
    this.busyUntil = Math.max(this.busyUntil, now) + lineTimeMs(n, this.baud);
  }
  reset(): void { this.busyUntil = -Infinity; }
}

export const IP_DROP_REASONS = ['line-down', 'queue-full', 'too-big', 'bad-packet', 'tun-refused'] as const;
export type IpDropReason = (typeof IP_DROP_REASONS)[number];

export interface SerialLinkStats extends LinkStats {
  serial: {
    device: string;
    baud: number;
    mtu: number;
    lineUp: boolean;
    opens: number;
    hangups: number;
    lastLineError?: string;
    /** Frames and bytes written to the line (delimiters and stuffing included). */
    txFrames: number;
    txLineBytes: number;
    txIpPackets: number;
    rx: DeframerStats;
    rxIpPackets: number;
    /** IP packets dropped, by reason (both directions). */
    ipDropped: Record<IpDropReason, number>;
    /** Bytes waiting in the link's own queues now. */
    queuedBytes: number;
    controlDropped: number;
    tun: TunStats;
  };
}

export interface SerialLinkOptions {
  name: string;
  peer: string;
  key: ControlKey;
  sender: ControlSender;
  guard: ReplayGuard;
  device: string;
  baud: number;
  /** The TUN device (already configured), or a fake in tests. */
  tun: PacketPort;
  openLine?: OpenLine;
  /** How often a missing or lost device is tried again (default 250 ms). */
  reopenMs?: number;
  /** IP queue limit in line time (default 250 ms; at least two full frames). */
  queueMs?: number;
  /** How far ahead of the line the link writes (default 10 ms). */
  leadMs?: number;
  /** Monotonic ms for pacing (default performance.now). */
  clock?: () => number;
  /** Wall clock for control messages (default Date.now). */
  now?: () => number;
  onLineEvent?: (e: { up: boolean; why?: string }) => void;
}

interface Queued { buf: Buffer; heartbeat: boolean }

const MAX_CONTROL_QUEUE = 64;

export class SerialLink implements PrivateLink {
  readonly kind = 'serial' as const;
  readonly name: string;
  readonly peer: string;
  private readonly o: SerialLinkOptions;
  private readonly channel: ControlChannel;
  private readonly deframer: SerialDeframer;
  private readonly pacer: LinePacer;
  private readonly clock: () => number;
  private readonly openLine: OpenLine;
  private readonly queueLimit: number;
  private line: ByteLine | undefined;
  private closed = false;
  private reopenTimer: NodeJS.Timeout | undefined;
  private pumpTimer: NodeJS.Timeout | undefined;
  private waitingWritable = false;
  private partial: Buffer | undefined;
  private readonly ctrlQ: Queued[] = [];
  private readonly ipQ: Buffer[] = [];
  private ipQBytes = 0;
  private readonly s: Omit<SerialLinkStats['serial'], 'rx' | 'tun' | 'queuedBytes' | 'lineUp'>;

  constructor(opts: SerialLinkOptions) {
    this.o = opts;
    this.name = opts.name;
    this.peer = opts.peer;
    this.clock = opts.clock ?? (() => performance.now());
    this.openLine = opts.openLine ?? openSerialLine;
    this.channel = new ControlChannel({ name: opts.name, peer: opts.peer, sender: opts.sender, key: opts.key, guard: opts.guard, ...(opts.now ? { now: opts.now } : {}) });
    this.channel.setResend((m) => this.send(m));
    this.pacer = new LinePacer(opts.baud, opts.leadMs ?? 10);
    const mtu = opts.tun.mtu;
    this.queueLimit = Math.max(2 * frameWireLen(mtu), Math.floor(lineBytesPerSecond(opts.baud) * ((opts.queueMs ?? 250) / 1000)));
    this.s = {
      device: opts.device, baud: opts.baud, mtu, opens: 0, hangups: 0, txFrames: 0, txLineBytes: 0, txIpPackets: 0, rxIpPackets: 0, controlDropped: 0,
      ipDropped: Object.fromEntries(IP_DROP_REASONS.map((r) => [r, 0])) as Record<IpDropReason, number>,
    };
    this.deframer = new SerialDeframer(Math.max(mtu, MAX_MESSAGE_BYTES), (f) => {
      if (f.type === FRAME_CONTROL) this.channel.receive(f.payload, opts.device);
      else if (f.type === FRAME_IP) this.deliver(f.payload);
    });
    opts.tun.onPacket((pkt) => this.fromTun(pkt));
    opts.tun.setCarrier(false);
    this.tryOpen();
  }

  get lineUp(): boolean { return this.line !== undefined; }

  // ------------------------------------------------------------------ line management

  private tryOpen(): void {
    this.reopenTimer = undefined;
    if (this.closed || this.line) return;
    let line: ByteLine;
    try {
      line = this.openLine(this.o.device, this.o.baud);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      if (this.s.lastLineError !== msg) this.s.lastLineError = msg;
      this.reopenTimer = setTimeout(() => this.tryOpen(), this.o.reopenMs ?? 250);
      return;
    }
    this.line = line;
    this.s.opens++;
    this.pacer.reset();
    this.deframer.reset();
    line.onData((chunk) => this.deframer.push(chunk));
    line.onHangup((why) => this.lost(why));
    this.o.tun.setCarrier(true);
    this.o.onLineEvent?.({ up: true });
    this.pump();
  }

  private lost(why: string): void {
    if (this.closed) return;
    this.line = undefined;
    this.s.hangups++;
    this.s.lastLineError = why;
    this.o.tun.setCarrier(false);
    this.partial = undefined;
    this.waitingWritable = false;
    this.s.ipDropped['line-down'] += this.ipQ.length;
    this.ipQ.length = 0;
    this.ipQBytes = 0;
    this.s.controlDropped += this.ctrlQ.length;
    this.ctrlQ.length = 0;
    this.deframer.reset();
    this.o.onLineEvent?.({ up: false, why });
    this.reopenTimer ??= setTimeout(() => this.tryOpen(), this.o.reopenMs ?? 250);
  }

  // ------------------------------------------------------------------ transmit

  private fromTun(pkt: Buffer): void {
    if (!this.line) { this.s.ipDropped['line-down']++; return; }
    if (pkt.length > this.o.tun.mtu) { this.s.ipDropped['too-big']++; return; }
    const frame = encodeFrame(FRAME_IP, pkt);
    if (this.ipQBytes + frame.length > this.queueLimit) { this.s.ipDropped['queue-full']++; return; }
    this.ipQ.push(frame);
    this.ipQBytes += frame.length;
    this.s.txIpPackets++;
    this.pump();
  }

  send(msg: PeerMessage): void {
    const bytes = this.channel.encode(msg); // throws on an invalid message: a bug, not a transport error
    if (this.closed || !this.line) {
      this.channel.sendFailed(this.closed ? 'link closed' : `line down${this.s.lastLineError ? `: ${this.s.lastLineError}` : ''}`);
      return;
    }
    const heartbeat = msg.type === 'heartbeat';
    if (heartbeat) {
      for (let i = this.ctrlQ.length - 1; i >= 0; i--) {
        if (this.ctrlQ[i]!.heartbeat) { this.ctrlQ.splice(i, 1); this.s.controlDropped++; }
      }
    }
    if (this.ctrlQ.length >= MAX_CONTROL_QUEUE) { this.ctrlQ.shift(); this.s.controlDropped++; }
    this.ctrlQ.push({ buf: encodeFrame(FRAME_CONTROL, bytes), heartbeat });
    this.channel.sent(bytes.length);
    this.pump();
  }

  /** Writes queued frames while the pacer allows; re-arms itself by timer or writability. */
  private pump(): void {
    const line = this.line;
    if (!line || this.waitingWritable) return;
    for (;;) {
      if (this.partial) {
        const n = line.write(this.partial);
        if (this.line !== line) return; // hung up during the write
        this.pacer.sent(this.clock(), n);
        this.s.txLineBytes += n;
        if (n < this.partial.length) {
          this.partial = this.partial.subarray(n);
          this.waitingWritable = true;
          line.whenWritable(() => { this.waitingWritable = false; this.pump(); });
          return;
        }
        this.partial = undefined;
        this.s.txFrames++;
      }
      const wait = this.pacer.waitMs(this.clock());
      if (wait > 0) {
        if (!this.pumpTimer && (this.ctrlQ.length || this.ipQ.length)) {
          this.pumpTimer = setTimeout(() => { this.pumpTimer = undefined; this.pump(); }, Math.max(1, Math.ceil(wait)));
        }
        return;
      }
      const c = this.ctrlQ.shift();
      if (c) { this.partial = c.buf; continue; }
      const ip = this.ipQ.shift();
      if (!ip) return;
      this.ipQBytes -= ip.length;
      this.partial = ip;
    }
  }

  // ------------------------------------------------------------------ receive

  private deliver(pkt: Buffer): void {
    const v = pkt.length > 0 ? pkt[0]! >> 4 : 0;
    if (pkt.length < 20 || (v !== 4 && v !== 6)) { this.s.ipDropped['bad-packet']++; return; }
    if (pkt.length > this.o.tun.mtu) { this.s.ipDropped['too-big']++; return; }
    if (!this.o.tun.write(pkt)) { this.s.ipDropped['tun-refused']++; return; }
    this.s.rxIpPackets++;
  }

  // ------------------------------------------------------------------ PrivateLink

  onMessage(cb: (m: ReceivedMessage) => void): () => void { return this.channel.onMessage(cb); }
  onReject(cb: (r: RejectEvent) => void): () => void { return this.channel.onReject(cb); }

  stats(): SerialLinkStats {
    return {
      ...this.channel.stats(),
      serial: {
        ...this.s, ipDropped: { ...this.s.ipDropped }, lineUp: this.lineUp, rx: this.deframer.stats(), tun: this.o.tun.stats(),
        queuedBytes: this.ipQBytes + this.ctrlQ.reduce((a, q) => a + q.buf.length, 0) + (this.partial?.length ?? 0),
      },
    };
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      if (this.reopenTimer) clearTimeout(this.reopenTimer);
      if (this.pumpTimer) clearTimeout(this.pumpTimer);
      this.line?.close();
      this.line = undefined;
      this.o.tun.close();
    }
    return Promise.resolve();
  }
}
