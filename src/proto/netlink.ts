// Pure rtnetlink codec: nlmsghdr framing, nlmsgerr (+ extended ack), rtattr TLVs (nested) and the
// link/address/route/neighbour messages hanet uses. Bytes in, values out; decoders never throw on garbage.
// The entry point: the constants are in netlink-consts.ts, the framing in netlink-frame.ts, the messages in
// rtnetlink.ts.
export * from './netlink-consts.js';
export {
  attrNested, attrStr, attrU32, attrU8, concat, decodeAck, decodeAttrs, decodeDone, decodeMessages, encodeAck, encodeAttr, encodeMessage, fromHex, toHex,
  type Decoded, type NlAck, type NlAttr, type NlDecodeError, type NlDecodeReason, type NlHeader, type NlMessage,
} from './netlink-frame.js';
export * from './rtnetlink.js';
export * from './rtnetlink-rule.js';
