// Netlink framing: nlmsghdr, rtattr TLVs (nested), nlmsgerr (+ extended ack) and NLMSG_DONE; the typed decode
// result every netlink decoder returns. Bytes in, values out; decoders never throw on garbage.
//
// Netlink integers are in host byte order; every Linux target hanet runs on is little-endian, but we
// detect it once rather than assume.
import { align4, NLA_F_NESTED, NLA_TYPE_MASK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSG_HDRLEN, NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS } from './netlink-consts.js';

export const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---- results ----
export type NlDecodeReason =
  | 'truncated-header'   // fewer bytes than a header/struct needs
  | 'bad-length'         // a length field points outside the buffer or below the minimum
  | 'bad-attribute'      // an rtattr is malformed
  | 'bad-value';         // an attribute has the wrong size for its type
export interface NlDecodeError { reason: NlDecodeReason; message: string; offset: number }
export type Decoded<T> = { ok: true; value: T } | { ok: false; error: NlDecodeError };
export const ok = <T>(value: T): Decoded<T> => ({ ok: true, value });
export const fail = <T>(reason: NlDecodeReason, message: string, offset = 0): Decoded<T> => ({ ok: false, error: { reason, message, offset } });

// ---- byte helpers ----
export const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
export const u16 = (b: Uint8Array, o: number): number => dv(b).getUint16(o, LE);
export const u32 = (b: Uint8Array, o: number): number => dv(b).getUint32(o, LE);
export const i32 = (b: Uint8Array, o: number): number => dv(b).getInt32(o, LE);

// ---- nlmsghdr ----
export interface NlHeader { len: number; type: number; flags: number; seq: number; pid: number }
export interface NlMessage { header: NlHeader; payload: Uint8Array }

/** Splits a datagram into netlink messages. Any framing error makes the whole datagram an error. */
export function decodeMessages(buf: Uint8Array): Decoded<NlMessage[]> {
  const out: NlMessage[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < NLMSG_HDRLEN) return fail('truncated-header', `nlmsghdr needs 16 bytes, ${buf.length - off} left`, off);
    const len = u32(buf, off);
    if (len < NLMSG_HDRLEN || len > buf.length - off) return fail('bad-length', `nlmsg_len ${len} with ${buf.length - off} bytes left`, off);
    const header: NlHeader = { len, type: u16(buf, off + 4), flags: u16(buf, off + 6), seq: u32(buf, off + 8), pid: u32(buf, off + 12) };
    out.push({ header, payload: buf.subarray(off + NLMSG_HDRLEN, off + len) });
    off += align4(len);
  }
  return ok(out);
}

/** Encodes one message; `len` is computed. */
export function encodeMessage(h: Omit<NlHeader, 'len'>, payload: Uint8Array): Uint8Array {
  const len = NLMSG_HDRLEN + payload.length;
  const out = new Uint8Array(align4(len));
  const v = dv(out);
  v.setUint32(0, len, LE);
  v.setUint16(4, h.type, LE);
  v.setUint16(6, h.flags, LE);
  v.setUint32(8, h.seq >>> 0, LE);
  v.setUint32(12, h.pid >>> 0, LE);
  out.set(payload, NLMSG_HDRLEN);
  return out;
}

// ---- rtattr ----
export interface NlAttr { type: number; nested: boolean; data: Uint8Array }

/** Parses a run of rtattrs (type masked of NLA_F_NESTED / NLA_F_NET_BYTEORDER). */
export function decodeAttrs(buf: Uint8Array, base = 0): Decoded<NlAttr[]> {
  const out: NlAttr[] = [];
  let off = 0;
  while (off < buf.length) {
    // A trailing remainder shorter than an rtattr header is padding the kernel may leave; only a
    // non-zero remainder is garbage.
    if (buf.length - off < 4) {
      if (buf.subarray(off).every((x) => x === 0)) break;
      return fail('bad-attribute', 'trailing bytes after attributes', base + off);
    }
    const len = u16(buf, off);
    const rawType = u16(buf, off + 2);
    if (len < 4 || len > buf.length - off) return fail('bad-attribute', `rta_len ${len} with ${buf.length - off} bytes left`, base + off);
    out.push({ type: rawType & NLA_TYPE_MASK, nested: (rawType & NLA_F_NESTED) !== 0, data: buf.subarray(off + 4, off + len) });
    off += align4(len);
  }
  return ok(out);
}

/** One attribute, padded to 4 bytes. */
export function encodeAttr(type: number, data: Uint8Array, nested = false): Uint8Array {
  const len = 4 + data.length;
  if (len > 0xffff) throw new RangeError(`attribute ${type} too long (${len})`);
  const out = new Uint8Array(align4(len));
  const v = dv(out);
  v.setUint16(0, len, LE);
  v.setUint16(2, type | (nested ? NLA_F_NESTED : 0), LE);
  out.set(data, 4);
  return out;
}
export const attrU8 = (type: number, v: number): Uint8Array => encodeAttr(type, Uint8Array.of(v & 0xff));
export function attrU32(type: number, v: number): Uint8Array {
  const d = new Uint8Array(4);
  dv(d).setUint32(0, v >>> 0, LE);
  return encodeAttr(type, d);
}
export const attrStr = (type: number, s: string): Uint8Array => encodeAttr(type, concat([new TextEncoder().encode(s), Uint8Array.of(0)]));
export const attrNested = (type: number, children: Uint8Array[]): Uint8Array => encodeAttr(type, concat(children), true);

export function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

/** A string attribute's value, up to its NUL. */
export const attrStringValue = (d: Uint8Array): string => {
  const z = d.indexOf(0);
  return new TextDecoder('utf-8', { fatal: false }).decode(z === -1 ? d : d.subarray(0, z));
};

// ---- nlmsgerr ----
export interface NlAck {
  /** 0 for a positive ack, a positive errno for an error (the kernel sends -errno). */
  errno: number;
  /** Header of the request this answers. */
  request: NlHeader;
  /** Extended ack message (NLMSGERR_ATTR_MSG), when the kernel gave one. */
  extAckMsg?: string;
  /** Byte offset of the offending attribute in the request (NLMSGERR_ATTR_OFFS). */
  extAckOffset?: number;
}

/** Decodes the payload of an NLMSG_ERROR message (flags are the ack message's own header flags). */
export function decodeAck(payload: Uint8Array, flags: number): Decoded<NlAck> {
  if (payload.length < 4 + NLMSG_HDRLEN) return fail('truncated-header', `nlmsgerr needs 20 bytes, got ${payload.length}`);
  const err = i32(payload, 0);
  const reqLen = u32(payload, 4);
  const request: NlHeader = { len: reqLen, type: u16(payload, 8), flags: u16(payload, 10), seq: u32(payload, 12), pid: u32(payload, 16) };
  const ack: NlAck = { errno: err < 0 ? -err : err, request };
  if ((flags & NLM_F_ACK_TLVS) === 0) return ok(ack);
  // With NETLINK_CAP_ACK (or a positive ack) only the request header was echoed; otherwise the whole request.
  const tlvStart = (flags & NLM_F_CAPPED) !== 0 ? 4 + NLMSG_HDRLEN : 4 + align4(Math.max(reqLen, NLMSG_HDRLEN));
  if (tlvStart > payload.length) return fail('bad-length', `ack TLVs start at ${tlvStart} beyond ${payload.length}`);
  const attrs = decodeAttrs(payload.subarray(tlvStart), tlvStart);
  if (!attrs.ok) return attrs;
  for (const a of attrs.value) {
    if (a.type === NLMSGERR_ATTR_MSG) ack.extAckMsg = attrStringValue(a.data);
    else if (a.type === NLMSGERR_ATTR_OFFS && a.data.length >= 4) ack.extAckOffset = u32(a.data, 0);
  }
  return ok(ack);
}

export function encodeAck(ack: NlAck, opts: { capped?: boolean } = {}): { flags: number; payload: Uint8Array } {
  const head = new Uint8Array(4 + NLMSG_HDRLEN);
  const v = dv(head);
  v.setInt32(0, -ack.errno, LE);
  v.setUint32(4, ack.request.len >>> 0, LE);
  v.setUint16(8, ack.request.type, LE);
  v.setUint16(10, ack.request.flags, LE);
  v.setUint32(12, ack.request.seq >>> 0, LE);
  v.setUint32(16, ack.request.pid >>> 0, LE);
  const tlvs: Uint8Array[] = [];
  if (ack.extAckMsg !== undefined) tlvs.push(attrStr(NLMSGERR_ATTR_MSG, ack.extAckMsg));
  if (ack.extAckOffset !== undefined) tlvs.push(attrU32(NLMSGERR_ATTR_OFFS, ack.extAckOffset));
  let flags = opts.capped === false ? 0 : NLM_F_CAPPED;
  let body: Uint8Array = head;
  if (opts.capped === false) {
    // echo a request body of (len - 16) zero bytes
    body = concat([head, new Uint8Array(align4(Math.max(ack.request.len, NLMSG_HDRLEN)) - NLMSG_HDRLEN)]);
  }
  if (tlvs.length) flags |= NLM_F_ACK_TLVS;
  return { flags, payload: concat([body, ...tlvs]) };
}

/** NLMSG_DONE payload: an int error (0 or -errno) and, with NLM_F_ACK_TLVS, extended-ack TLVs. */
export function decodeDone(payload: Uint8Array, flags: number): { errno: number; extAckMsg?: string } {
  if (payload.length < 4) return { errno: 0 };
  const e = i32(payload, 0);
  const r: { errno: number; extAckMsg?: string } = { errno: e < 0 ? -e : 0 };
  if ((flags & NLM_F_ACK_TLVS) !== 0) {
    const attrs = decodeAttrs(payload.subarray(4), 4);
    if (attrs.ok) for (const a of attrs.value) if (a.type === NLMSGERR_ATTR_MSG) r.extAckMsg = attrStringValue(a.data);
  }
  return r;
}

/** Hex string (whitespace ignored) to bytes, for tests and captures. */
export function fromHex(s: string): Uint8Array {
  const clean = s.replace(/[^0-9a-fA-F]/g, '');
  const out = new Uint8Array(clean.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
export const toHex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
