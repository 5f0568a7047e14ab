// A serial line (RS232 /dev/ttyS*, USB /dev/ttyUSB* or /dev/ttyACM*, a lab pseudo-terminal) as a non-blocking byte
// pipe: opened with fs + termios through the addon (raw 8N1 at the configured baud, once at open time), read and
// written with plain syscalls on a uv_poll readiness watcher, hangup (USB unplugged, pty master gone) reported once.
//
// Why not the serialport package: serialport 13 installs and opens /dev/pts/N here, but its stream API queues
// writes inside the library (the link must decide what goes on the line next: control before IP, and it drops
// IP when the line is full), it cannot make the pseudo-terminal pairs the lab needs, and it would be a second
// native module next to ours. The termios part is 30 lines of C in native/hanet_native.cc.
import { closeSync, constants as fsc, openSync } from 'node:fs';
import { HanetError } from '../../errors.js';
import { isNativeError, native, type NativePoller } from './native.js';

export interface ByteLine {
  /** Writes what the driver takes now; returns the number of bytes accepted (0 when its buffer is full). */
  write(b: Buffer): number;
  onData(cb: (chunk: Buffer) => void): void;
  /** Called once when the line is gone (EOF/EIO/poll error); the line is closed by then. */
  onHangup(cb: (why: string) => void): void;
  /** Calls cb once when the driver can take bytes again (after a short write). */
  whenWritable(cb: () => void): void;
  /** Bytes queued in the driver, -1 when it cannot tell (pseudo-terminals say 0). */
  outq(): number;
  close(): void;
}

export type OpenLine = (device: string, baud: number) => ByteLine;

/** Opens the device raw at `baud`. Throws HANET_ERR_SERIAL with the errno (ENOENT: no such device, EACCES ...). */
export const openSerialLine: OpenLine = (device, baud) => {
  let fd: number;
  try {
    fd = openSync(device, fsc.O_RDWR | fsc.O_NOCTTY | fsc.O_NONBLOCK);
  } catch (e) {
    throw new HanetError('HANET_ERR_SERIAL', `cannot open ${device}: ${(e as Error).message}`, { cause: e });
  }
  try {
    native().setSerial(fd, baud);
  } catch (e) {
    closeSync(fd);
    throw new HanetError('HANET_ERR_SERIAL', `cannot set ${device} to ${baud} baud raw: ${(e as Error).message}`, { cause: e });
  }
  return new TtyLine(fd, device);
};

const READ_CHUNK = 4096;

class TtyLine implements ByteLine {
  private poller: NativePoller | undefined;
  private readonly buf = Buffer.allocUnsafe(READ_CHUNK);
  private dataCb: ((b: Buffer) => void) | undefined;
  private hangupCb: ((why: string) => void) | undefined;
  private writableCb: (() => void) | undefined;
  private closed = false;

  constructor(private readonly fd: number, private readonly device: string) {
    this.watch(false);
  }

  private watch(writable: boolean): void {
    const n = native();
    this.poller?.stop();
    this.poller = new n.Poller(this.fd, n.constants.UV_READABLE | (writable ? n.constants.UV_WRITABLE : 0), (status, events) => {
      if (this.closed) return;
      if (status < 0) return this.hangup(`poll error ${status}`);
      if (events & n.constants.UV_READABLE) this.drain();
      if (!this.closed && events & n.constants.UV_WRITABLE && this.writableCb) {
        const cb = this.writableCb;
        this.writableCb = undefined;
        this.watch(false);
        cb();
      }
    });
  }

  private drain(): void {
    const n = native();
    for (let i = 0; i < 16 && !this.closed; i++) {
      let len: number | null;
      try {
        len = n.read(this.fd, this.buf);
      } catch (e) {
        return this.hangup(isNativeError(e) ? e.code : String(e));
      }
      if (len === null) return;
      if (len === 0) return this.hangup('EOF');
      this.dataCb?.(Buffer.from(this.buf.subarray(0, len)));
    }
  }

  write(b: Buffer): number {
    if (this.closed) return 0;
    try {
      return native().write(this.fd, b);
    } catch (e) {
      if (isNativeError(e) && (e.code === 'EAGAIN' || e.code === 'EWOULDBLOCK')) return 0;
      this.hangup(isNativeError(e) ? e.code : String(e));
      return 0;
    }
  }

  onData(cb: (chunk: Buffer) => void): void { this.dataCb = cb; }
  onHangup(cb: (why: string) => void): void { this.hangupCb = cb; }

  whenWritable(cb: () => void): void {
    if (this.closed) return;
    this.writableCb = cb;
    this.watch(true);
  }

  outq(): number { return this.closed ? -1 : native().outq(this.fd); }

  private hangup(why: string): void {
    if (this.closed) return;
    this.close();
    this.hangupCb?.(`${this.device}: ${why}`);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.poller?.stop();
    this.poller = undefined;
    try { closeSync(this.fd); } catch { /* already closed */ }
  }
}
