// Framing of IP packets and control messages on a serial line: COBS byte stuffing with a CRC-32, zero-delimited.
// Pure codec (bytes in, frames out); the deframer is a byte-level state machine that never throws on input.
//
// On the line (one frame):
//
//   00 | COBS( type u8 | payload | CRC-32 u32 BE over type+payload ) | 00
//
//   type: 0x01 an IP packet (IPv4 or IPv6, no link header), 0x02 a hanet control message (its own HMAC inside).
//   CRC-32: IEEE 802.3 / zlib polynomial, as zlib.crc32 computes it.
//
// Why COBS and not HDLC/PPP octet stuffing: COBS costs at most 1 byte per 254 whatever the data (HDLC doubles a
// frame full of 0x7E/0x7D, so a peer or a bulk transfer of such bytes could halve the line), and 0x00 never occurs
// inside an encoded frame, so after line noise the receiver resynchronises at the next 0x00. Each frame is sent
// with a leading and a trailing delimiter (1 extra byte per frame): garbage that arrived while the line was idle
// ends at the leading 00 instead of corrupting the next frame; an empty frame (two 00 in a row) is just idle.
// Overhead for a 1400-byte packet: 1 type + 4 CRC + 6 COBS + 2 delimiters = 13 bytes (0.93 %).
//
// The deframer drops, and counts by reason: frames whose COBS structure is invalid ('bad-cobs'), shorter than
// type + CRC ('truncated'), longer than the largest allowed frame ('oversize': the rest up to the next 00 is
// skipped without buffering), with a CRC mismatch ('bad-crc') or an unknown type ('bad-type').
import * as zlib from 'node:zlib';

export const FRAME_IP = 0x01;
export const FRAME_CONTROL = 0x02;
export type FrameType = typeof FRAME_IP | typeof FRAME_CONTROL;
export const FRAME_TYPES: readonly number[] = [FRAME_IP, FRAME_CONTROL];

/** Type byte + CRC-32. */
export const FRAME_HEADER_BYTES = 5;

export const FRAME_DROP_REASONS = ['bad-cobs', 'truncated', 'oversize', 'bad-crc', 'bad-type'] as const;
export type FrameDropReason = (typeof FRAME_DROP_REASONS)[number];

// ---------------------------------------------------------------------------------------------------------------
// CRC-32 (zlib.crc32 where Node has it: >= 20.15; a table otherwise)

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32Js(data: Uint8Array, start = 0, end = data.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const zcrc = (zlib as { crc32?: (d: Uint8Array) => number }).crc32;
export const crc32 = (data: Uint8Array, start = 0, end = data.length): number =>
  zcrc ? zcrc(start === 0 && end === data.length ? data : data.subarray(start, end)) >>> 0 : crc32Js(data, start, end);

// ---------------------------------------------------------------------------------------------------------------
// Sizes

/** Largest COBS encoding of n bytes: one code byte per started block of 254 (a full last block adds one more). */
export const cobsMaxLen = (n: number): number => n + Math.floor(n / 254) + 1;

/** Bytes on the line for a payload of n bytes (delimiters included), worst case. */
export const frameWireLen = (payloadLen: number): number => cobsMaxLen(payloadLen + FRAME_HEADER_BYTES) + 2;

// ---------------------------------------------------------------------------------------------------------------
// Encoder

/** COBS-encodes src into dst at off; returns the new offset. dst must have cobsMaxLen(src.length) bytes free. */
export function cobsEncodeInto(src: Uint8Array, dst: Uint8Array, off: number): number {
  let codeAt = off;
  let o = off + 1;
  let code = 1;
  for (let i = 0; i < src.length; i++) {
    const b = src[i]!;
    if (b === 0) {
      dst[codeAt] = code;
      codeAt = o++;
      code = 1;
    } else {
      dst[o++] = b;
      code++;
      if (code === 0xff) {
        dst[codeAt] = code;
        codeAt = o++;
        code = 1;
      }
    }
  }
  dst[codeAt] = code;
  return o;
}

/** COBS decode (no delimiters inside); undefined when the structure is invalid (a block past the end, or a 00). */
export function cobsDecode(src: Uint8Array, start = 0, end = src.length): Buffer | undefined {
  const out = Buffer.allocUnsafe(end - start);
  let o = 0;
  let i = start;
  while (i < end) {
    const code = src[i]!;
    if (code === 0) return undefined;
    const blockEnd = i + code;
    if (blockEnd > end) return undefined;
    for (let j = i + 1; j < blockEnd; j++) {
      const b = src[j]!;
      if (b === 0) return undefined;
      out[o++] = b;
    }
    i = blockEnd;
    if (code !== 0xff && i < end) out[o++] = 0;
  }
  return out.subarray(0, o);
}

/** One frame as it goes on the line: 00, COBS(type | payload | CRC-32), 00. */
export function encodeFrame(type: FrameType, payload: Uint8Array): Buffer {
  const raw = Buffer.allocUnsafe(payload.length + FRAME_HEADER_BYTES);
  raw[0] = type;
  raw.set(payload, 1);
  raw.writeUInt32BE(crc32(raw, 0, payload.length + 1), payload.length + 1);
  const out = Buffer.allocUnsafe(cobsMaxLen(raw.length) + 2);
  out[0] = 0;
  const n = cobsEncodeInto(raw, out, 1);
  out[n] = 0;
  return out.subarray(0, n + 1);
}

// ---------------------------------------------------------------------------------------------------------------
// Deframer

/** A received frame; `payload` is the callee's to keep (a fresh allocation per frame). */
export interface Frame { type: FrameType; payload: Buffer }

export interface DeframerStats {
  frames: number;
  /** Payload bytes of accepted frames. */
  payloadBytes: number;
  /** Bytes received on the line, delimiters included. */
  lineBytes: number;
  /** Dropped frames by reason (every reason present). */
  dropped: Record<FrameDropReason, number>;
  /** Bytes of dropped frames (noise, corrupted or oversize frames). */
  droppedBytes: number;
}

export class SerialDeframer {
  private readonly buf: Uint8Array;
  private len = 0;
  private skipping = false;
  private readonly s: DeframerStats = {
    frames: 0, payloadBytes: 0, lineBytes: 0, droppedBytes: 0,
    dropped: Object.fromEntries(FRAME_DROP_REASONS.map((r) => [r, 0])) as Record<FrameDropReason, number>,
  };

  /**
   * @param maxPayload largest payload accepted (the link MTU, or the control message limit if larger)
   * @param onFrame called for each good frame; the payload is a fresh copy the callee may keep
   * @param onDrop called for each dropped frame (logs); optional
   */
  constructor(readonly maxPayload: number, private readonly onFrame: (f: Frame) => void, private readonly onDrop?: (reason: FrameDropReason, bytes: number) => void) {
    this.buf = new Uint8Array(cobsMaxLen(maxPayload + FRAME_HEADER_BYTES));
  }

  /** Feeds bytes as they came off the line, in any segmentation. Never throws (unless onFrame does). */
  push(chunk: Uint8Array): void {
    this.s.lineBytes += chunk.length;
    let i = 0;
    while (i < chunk.length) {
      const z = chunk.indexOf(0, i);
      const spanEnd = z < 0 ? chunk.length : z;
      if (spanEnd > i) this.append(chunk, i, spanEnd);
      if (z < 0) break;
      this.end();
      i = z + 1;
    }
  }

  /** Forgets a partial frame (e.g. the line was reopened). */
  reset(): void {
    if (this.len > 0 || this.skipping) this.drop('truncated', this.len);
    this.len = 0;
    this.skipping = false;
  }

  stats(): DeframerStats {
    return { ...this.s, dropped: { ...this.s.dropped } };
  }

  private append(chunk: Uint8Array, from: number, to: number): void {
    if (this.skipping) { this.s.droppedBytes += to - from; return; }
    const n = to - from;
    if (this.len + n > this.buf.length) {
      // Oversize: count it once, skip up to the next delimiter without buffering.
      this.s.droppedBytes += this.len + n;
      this.len = 0;
      this.skipping = true;
      this.s.dropped.oversize++;
      this.onDrop?.('oversize', n);
      return;
    }
    this.buf.set(chunk.subarray(from, to), this.len);
    this.len += n;
  }

  private end(): void {
    if (this.skipping) { this.skipping = false; this.len = 0; return; }
    const n = this.len;
    this.len = 0;
    if (n === 0) return; // idle or a leading delimiter
    const raw = cobsDecode(this.buf, 0, n);
    if (!raw) return this.drop('bad-cobs', n);
    if (raw.length < FRAME_HEADER_BYTES) return this.drop('truncated', n);
    const body = raw.length - 4;
    const want = ((raw[body]! << 24) | (raw[body + 1]! << 16) | (raw[body + 2]! << 8) | raw[body + 3]!) >>> 0;
    if (crc32(raw, 0, body) !== want) return this.drop('bad-crc', n);
    const type = raw[0]!;
    if (type !== FRAME_IP && type !== FRAME_CONTROL) return this.drop('bad-type', n);
    if (body - 1 > this.maxPayload) return this.drop('oversize', n);
    this.s.frames++;
    this.s.payloadBytes += body - 1;
    this.onFrame({ type, payload: raw.subarray(1, body) });
  }

  private drop(reason: FrameDropReason, bytes: number): void {
    this.s.dropped[reason]++;
    this.s.droppedBytes += bytes;
    this.onDrop?.(reason, bytes);
  }
}
