// Wire format of the lab workload (service <-> client): length-prefixed frames and a byte-level decoder
// that never touches a socket (modelled on ws's lib/receiver.js), plus the deterministic bulk byte pattern.
//
// Frame: u32 BE body length L (1..MAX_FRAME_BODY), then L bytes of body: u8 type, payload.
//   HELLO 0x01  payload: u8 kind ('P' | 'N' | 'S' | 'B' in ASCII), u32 BE holdMs (used by S, 0 otherwise)
//   REQ   0x02  payload: u32 BE seq, then pad bytes derived from seq (checked on the reply)
//   REP   0x03  payload: the REQ payload echoed unchanged
// A connection starts with exactly one HELLO. After HELLO 'B' the connection leaves framing: every further byte
// (including any that arrived in the same segment as the HELLO, see takeRest()) is echoed raw.

export type StreamKind = 'P' | 'N' | 'S' | 'B';
export const STREAM_KINDS: readonly StreamKind[] = ['P', 'N', 'S', 'B'];

export const FRAME_HELLO = 0x01;
export const FRAME_REQ = 0x02;
export const FRAME_REP = 0x03;
/** Largest body accepted; requests are tiny, so anything bigger is garbage or a wrong peer. */
export const MAX_FRAME_BODY = 64 * 1024;
/** Pad bytes carried by each request: a "small message" of 33 bytes on the wire in total. */
export const REQ_PAD_BYTES = 24;

export type Frame =
  | { type: 'hello'; kind: StreamKind; holdMs: number }
  | { type: 'req'; seq: number; payload: Buffer }
  | { type: 'rep'; seq: number; payload: Buffer };

export type DecodeErrorReason = 'empty_frame' | 'frame_too_long' | 'unknown_type' | 'bad_hello' | 'bad_payload';
export interface DecodeError { type: 'error'; reason: DecodeErrorReason; detail: string }

const isKind = (c: string): c is StreamKind => c === 'P' || c === 'N' || c === 'S' || c === 'B';

function frame(type: number, payload: Buffer): Buffer {
  const b = Buffer.allocUnsafe(5 + payload.length);
  b.writeUInt32BE(1 + payload.length, 0);
  b[4] = type;
  payload.copy(b, 5);
  return b;
}

export function encodeHello(kind: StreamKind, holdMs = 0): Buffer {
  const p = Buffer.allocUnsafe(5);
  p[0] = kind.charCodeAt(0);
  p.writeUInt32BE(Math.max(0, Math.min(0xffffffff, Math.round(holdMs))), 1);
  return frame(FRAME_HELLO, p);
}

/** The request payload for `seq`: the seq and pad bytes that are a function of it, so a reply can be verified. */
export function requestPayload(seq: number, padBytes = REQ_PAD_BYTES): Buffer {
  const p = Buffer.allocUnsafe(4 + padBytes);
  p.writeUInt32BE(seq >>> 0, 0);
  for (let i = 0; i < padBytes; i++) p[4 + i] = (seq * 31 + i * 7 + 1) & 0xff;
  return p;
}

export const encodeRequest = (seq: number, padBytes = REQ_PAD_BYTES): Buffer => frame(FRAME_REQ, requestPayload(seq, padBytes));
export const encodeReply = (payload: Buffer): Buffer => frame(FRAME_REP, payload);

/** True if a reply payload is exactly what the request with this seq carried. */
export function replyMatches(seq: number, payload: Buffer): boolean {
  return payload.length >= 4 && payload.equals(requestPayload(seq, payload.length - 4));
}

/**
 * Incremental frame decoder. push() bytes as they arrive (any segmentation), then call next() until it returns
 * undefined (needs more bytes). A malformed stream yields one DecodeError and the decoder stays failed.
 */
export class FrameDecoder {
  private bufs: Buffer[] = [];
  private buffered = 0;
  private bodyLen = -1; // -1: waiting for the 4-byte header
  private failed: DecodeError | undefined;
  private detached = false;

  push(chunk: Buffer): void {
    if (this.detached) throw new Error('FrameDecoder: push after takeRest()');
    if (chunk.length === 0) return;
    this.bufs.push(chunk);
    this.buffered += chunk.length;
  }

  /** Bytes received but not yet consumed by a returned frame. */
  get pending(): number { return this.buffered; }

  next(): Frame | DecodeError | undefined {
    if (this.failed) return this.failed;
    if (this.bodyLen < 0) {
      if (this.buffered < 4) return undefined;
      const len = this.consume(4).readUInt32BE(0);
      if (len === 0) return this.fail('empty_frame', 'frame body length 0');
      if (len > MAX_FRAME_BODY) return this.fail('frame_too_long', `frame body length ${len} > ${MAX_FRAME_BODY}`);
      this.bodyLen = len;
    }
    if (this.buffered < this.bodyLen) return undefined;
    const body = this.consume(this.bodyLen);
    this.bodyLen = -1;
    const type = body[0];
    const payload = body.subarray(1);
    switch (type) {
      case FRAME_HELLO: {
        if (payload.length !== 5) return this.fail('bad_hello', `hello payload of ${payload.length} bytes, want 5`);
        const kind = String.fromCharCode(payload[0]!);
        if (!isKind(kind)) return this.fail('bad_hello', `unknown stream kind 0x${payload[0]!.toString(16)}`);
        return { type: 'hello', kind, holdMs: payload.readUInt32BE(1) };
      }
      case FRAME_REQ:
      case FRAME_REP: {
        if (payload.length < 4) return this.fail('bad_payload', `payload of ${payload.length} bytes, want >= 4`);
        return { type: type === FRAME_REQ ? 'req' : 'rep', seq: payload.readUInt32BE(0), payload };
      }
      default:
        return this.fail('unknown_type', `frame type 0x${(type ?? 0).toString(16)}`);
    }
  }

  /** Leaves framing (bulk stream): returns every byte not consumed by a frame yet; the decoder is unusable after. */
  takeRest(): Buffer {
    this.detached = true;
    const rest = this.bufs.length === 1 ? this.bufs[0]! : Buffer.concat(this.bufs, this.buffered);
    this.bufs = [];
    this.buffered = 0;
    return rest;
  }

  private fail(reason: DecodeErrorReason, detail: string): DecodeError {
    this.failed = { type: 'error', reason, detail };
    return this.failed;
  }

  /** Removes and returns the first n buffered bytes (n <= buffered), copying only when they span chunks. */
  private consume(n: number): Buffer {
    this.buffered -= n;
    const first = this.bufs[0]!;
    if (n === first.length) { this.bufs.shift(); return first; }
    if (n < first.length) { this.bufs[0] = first.subarray(n); return first.subarray(0, n); }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const b = this.bufs[0]!;
      const take = Math.min(b.length, n - off);
      b.copy(out, off, 0, take);
      off += take;
      if (take === b.length) this.bufs.shift(); else this.bufs[0] = b.subarray(take);
    }
    return out;
  }
}

/**
 * Deterministic pseudo-random bytes for the bulk stream (xorshift32, 4 bytes per step, little-endian): byte k of
 * the stream depends only on the seed and k, not on how it was cut into chunks. A byte dropped, duplicated or
 * reordered anywhere changes the sha256 of the echoed stream.
 */
export class BulkPattern {
  private x: number;
  private spare = Buffer.alloc(4);
  private spareOff = 4; // bytes of `spare` already handed out
  constructor(seed = 0x9e3779b9) { this.x = (seed >>> 0) || 1; }
  private step(): number {
    let x = this.x;
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    this.x = x;
    return x;
  }
  next(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    let i = 0;
    while (i < n && this.spareOff < 4) b[i++] = this.spare[this.spareOff++]!;
    for (; i + 4 <= n; i += 4) b.writeUInt32LE(this.step(), i);
    if (i < n) {
      this.spare.writeUInt32LE(this.step(), 0);
      this.spareOff = 0;
      while (i < n) b[i++] = this.spare[this.spareOff++]!;
    }
    return b;
  }
}
