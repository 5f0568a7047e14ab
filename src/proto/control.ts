// The control protocol between hanet daemons: a versioned, authenticated binary envelope around a JSON body.
// Pure codec (bytes in, values out); decode is total: it never throws, every failure is a typed reason.
//
// Wire format, version 2 (all integers big-endian):
//
//   off  size  field
//   0    3     magic "HNT" (48 4e 54)
//   3    1     version = 2 (version 1 is refused: 'bad-version')
//   4    1     type: 1 heartbeat, 2 takeover, 3 takeover-ack, 4 release, 5 release-ack
//   5    1     flags: none defined; sent as 0; receivers ignore bits they do not know (a change old receivers
//              must not misread bumps the version instead)
//   6    1     S = length of the sender node name (1..63)
//   7    S     sender node name, UTF-8
//   .    1     R = length of the recipient node name (1..63)
//   .    R     recipient node name, UTF-8
//   .    8     session: random, chosen at daemon start; sequence numbers count within it
//   .    8     nonce: the sender's current nonce for this recipient (random, never 0); the recipient names it back
//   .    8     echo: the recipient's nonce as the sender last learned it (0: not yet)
//   .    8     sequence number u64, >= 1, strictly increasing within a session (one counter per daemon, all links)
//   .    8     send time u64, ms since the Unix epoch (sender's clock): only echoed back for the sender's RTT;
//              never used to accept or refuse a message
//   .    2     B = body length
//   .    B     body: JSON, UTF-8 (an object; its fields depend on the type)
//   .    32    HMAC-SHA256 over every byte before it, keyed with HKDF-SHA256(cluster key, salt "", info "hanet control v2")
//
// Why these choices:
//  - Freshness without clocks (v2): a receiver accepts only messages whose `echo` is a nonce it issued itself, to
//    that peer, recently (replay.ts: session binding). A daemon's nonces are random per start, so every message
//    captured before a restart names a dead nonce and is refused forever; a wall-clock step changes nothing.
//    Version 1 bounded freshness by the send time (+-30 s), which a clock step broke and which let a restarted
//    receiver accept any captured message under 30 s old (issue #11).
//  - The recipient is in the authenticated header: with one cluster key, a takeover request A sent to B could
//    otherwise be replayed to C. Receivers drop messages not addressed to them ('wrong-recipient').
//  - The MAC is checked before anything beyond framing is interpreted: type, names and body are only parsed from
//    authenticated bytes. Framing (magic, version, lengths) has to be read first to find the MAC.
//  - The body is JSON: small, debuggable with tcpdump, and unknown fields are ignored, so a peer can add fields
//    within a version. Outgoing bodies are validated too (catches bugs at the sender) and serialised in schema
//    field order, so the bytes are deterministic (see the golden vector test).
//  - The whole message is at most MAX_MESSAGE_BYTES (16 KiB): one UDP datagram; a heartbeat is ~170 bytes.
//  - Replay and freshness checks live in replay.ts (stateful); this module is stateless.
import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { HanetError } from '../errors.js';
import { isIp, parseCidr } from '../core/ip.js';
import type { Claim, HeartbeatEcho, LanReport, PeerMessage, PeerMessageType } from '../core/messages.js';

export const CONTROL_MAGIC = Buffer.from('HNT', 'latin1');
export const CONTROL_VERSION = 2;
export const MAC_BYTES = 32;
export const SESSION_BYTES = 8;
export const MAX_MESSAGE_BYTES = 16 * 1024;
export const MAX_NAME_BYTES = 63;
const HKDF_INFO = 'hanet control v2';
/** The `echo` of a sender that has not heard from the recipient yet. */
export const NO_NONCE = '0000000000000000';
const HEX8 = /^[0-9a-f]{16}$/;

// ---------------------------------------------------------------------------------------------------------------
// Reasons (string unions shared by logs, metrics and tests)

/** Why the codec rejected bytes. */
export const DECODE_REASONS = ['oversize', 'truncated', 'bad-magic', 'bad-version', 'bad-length', 'bad-header', 'bad-mac', 'bad-type', 'bad-body', 'wrong-recipient'] as const;
export type DecodeReason = (typeof DECODE_REASONS)[number];
/** Why the replay guard rejected an authenticated message (see replay.ts). */
export const REPLAY_REASONS = ['unbound', 'stale-session', 'replay', 'too-old'] as const;
export type ReplayReason = (typeof REPLAY_REASONS)[number];
/**
 * Why a link dropped a received message: codec, replay guard, an authenticated sender other than the link's peer,
 * or (before the link's socket is connected to its peer) a datagram from another address.
 */
export const REJECT_REASONS = [...DECODE_REASONS, ...REPLAY_REASONS, 'unexpected-sender', 'wrong-source'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

// ---------------------------------------------------------------------------------------------------------------
// Message bodies

const NODE_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

const nodeName = z.string().regex(NODE_RE);
const lanName = z.string().regex(NODE_RE);
const ipv4 = z.string().refine((s) => isIp(s, 4), 'not an IPv4 address');
/** A claimed address: IPv4 or IPv6 (a prefix length is accepted by the codec; helpers refuse anything but a host). */
const claimedAddress = z.string().refine((s) => parseCidr(s) !== undefined, 'not an IP address');
const claimId = z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/);
const leaseMs = z.number().int().min(1).max(3_600_000);

const claimShape = {
  claimId,
  lan: lanName,
  addresses: z.array(claimedAddress).min(1).max(256),
  ownerLinkAddress: ipv4,
  leaseMs,
};
const claimSchema = z.object(claimShape);

const lanReportSchema = z.object({
  healthy: z.boolean(),
  /** Whether the sender reaches the LAN's gateway (absent: not probed). */
  gateway: z.boolean().optional(),
  /** The sender's own service addresses on the LAN. */
  addresses: z.array(z.string().refine((s) => isIp(s), 'not an IP address')).max(256).optional(),
});

const echoSchema = z.object({
  /** Sequence number of the peer's message being echoed. */
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** That message's send time (the peer's own clock, so RTT needs no clock sync). */
  at: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** How long the echoing node held it before replying: RTT = now - at - holdMs. */
  holdMs: z.number().int().min(0).max(3_600_000).optional(),
});

/**
 * One schema per message type, each typed against the core's message type (src/core/messages.ts). The `type` tag
 * travels in the header, not in the JSON body: encode strips it, decode puts the header's type back.
 */
const messageSchemas = {
  heartbeat: z.object({
    type: z.literal('heartbeat'),
    /** False while the sender is still starting (no verdicts yet): its empty claim list then releases nothing. */
    ready: z.boolean().optional(),
    /** Health of each public LAN of the sender, by LAN name. */
    lans: z.record(lanName, lanReportSchema).refine((r) => Object.keys(r).length <= 64, 'too many lans'),
    /** Whether the sender may act as a helper now. */
    canHelp: z.boolean(),
    /** Owners the sender currently helps. */
    helping: z.array(nodeName).max(64),
    /** Addresses the sender (an owner) asks THIS recipient to hold; renews their leases. */
    claims: z.array(claimSchema).max(64),
    /** The sender's IPv6 address on this link (link-local), the IPv6 next hop toward it. */
    link6: z.string().refine((s) => isIp(s, 6), 'not an IPv6 address').optional(),
    echo: echoSchema.optional(),
  }),
  takeover: z.object({ type: z.literal('takeover'), ...claimShape }),
  'takeover-ack': z.object({
    type: z.literal('takeover-ack'),
    claimId,
    ok: z.boolean(),
    /** Why a takeover was refused (e.g. 'not-helper', 'lan-unhealthy', 'kernel-failed'); free-form for new peers. */
    reason: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/).optional(),
  }),
  release: z.object({ type: z.literal('release'), claimId }),
  'release-ack': z.object({ type: z.literal('release-ack'), claimId }),
};

// Compile-time contract between the wire and the core: every schema's output has exactly the fields of the core's
// type (same keys, each side assignable to the other), so a field added on one side only fails to compile.
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;
type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? SameKeys<A, B> : false) : false;
type WireMatchesCore = {
  [K in PeerMessageType]: SameShape<z.output<(typeof messageSchemas)[K]>, Extract<PeerMessage, { type: K }>>;
} & { claim: SameShape<z.output<typeof claimSchema>, Claim>; echo: SameShape<z.output<typeof echoSchema>, HeartbeatEcho>; lan: SameShape<z.output<typeof lanReportSchema>, LanReport> };
const wireMatchesCore: { [K in keyof WireMatchesCore]: WireMatchesCore[K] & true } = {
  heartbeat: true, takeover: true, 'takeover-ack': true, release: true, 'release-ack': true, claim: true, echo: true, lan: true,
};
void wireMatchesCore;

export type MessageType = PeerMessageType;

export const TYPE_CODES: Readonly<Record<MessageType, number>> = { heartbeat: 1, takeover: 2, 'takeover-ack': 3, release: 4, 'release-ack': 5 };
const TYPE_BY_CODE = new Map<number, MessageType>(Object.entries(TYPE_CODES).map(([k, v]) => [v, k as MessageType]));

// ---------------------------------------------------------------------------------------------------------------
// Keys and envelope

/** The MAC key derived from the cluster key. Opaque; make one per daemon with deriveControlKey. */
export interface ControlKey { readonly macKey: Buffer }

export function deriveControlKey(clusterKey: Buffer): ControlKey {
  if (clusterKey.length < 16) throw new HanetError('HANET_ERR_CONFIG', `cluster key is ${clusterKey.length} bytes; at least 16 are needed`);
  return { macKey: Buffer.from(hkdfSync('sha256', clusterKey, Buffer.alloc(0), HKDF_INFO, 32)) };
}

export interface ControlEnvelope {
  version: number;
  type: MessageType;
  flags: number;
  sender: string;
  recipient: string;
  /** The sender's session (16 hex digits): random per daemon start; `seq` counts within it. */
  session: string;
  /** The sender's current nonce for the recipient (16 hex digits, never NO_NONCE): the recipient echoes it. */
  nonce: string;
  /** The recipient's nonce as the sender last learned it (16 hex digits; NO_NONCE: none yet). */
  echo: string;
  seq: bigint;
  /** ms since the epoch, sender's clock: for the sender's RTT only (echoed back), never for acceptance. */
  sentAt: number;
}

/** What the replay guard gives the sender for each message to a peer (ReplayGuard.binding). */
export interface SessionBinding { nonce: string; echo: string }

export type EncodeHeader = Omit<ControlEnvelope, 'version' | 'type' | 'flags'> & { flags?: number };

export type DecodeResult =
  | { ok: true; envelope: ControlEnvelope; message: PeerMessage }
  | { ok: false; reason: DecodeReason; detail?: string };

const mac = (key: ControlKey, data: Buffer): Buffer => createHmac('sha256', key.macKey).update(data).digest();

/** Encodes a message. Throws HANET_ERR_PROTOCOL on an invalid header or body (a bug at the sender). */
export function encodeControl(key: ControlKey, header: EncodeHeader, msg: PeerMessage): Buffer {
  const fail = (what: string): never => { throw new HanetError('HANET_ERR_PROTOCOL', `cannot encode ${msg.type}: ${what}`); };
  const code = TYPE_CODES[msg.type];
  if (code === undefined) fail(`unknown type ${String(msg.type)}`);
  if (!NODE_RE.test(header.sender)) fail(`bad sender ${JSON.stringify(header.sender)}`);
  if (!NODE_RE.test(header.recipient)) fail(`bad recipient ${JSON.stringify(header.recipient)}`);
  if (!HEX8.test(header.session)) fail('session must be 16 lowercase hex digits');
  if (!HEX8.test(header.nonce) || header.nonce === NO_NONCE) fail('nonce must be 16 lowercase hex digits, not all zero');
  if (!HEX8.test(header.echo)) fail('echo must be 16 lowercase hex digits');
  if (header.seq < 1n || header.seq > 0xffff_ffff_ffff_ffffn) fail(`seq ${header.seq} out of range`);
  if (!Number.isSafeInteger(header.sentAt) || header.sentAt < 0) fail(`sentAt ${header.sentAt} out of range`);
  const flags = header.flags ?? 0;
  if (!Number.isInteger(flags) || flags < 0 || flags > 255) fail(`flags ${flags} out of range`);
  const parsed = messageSchemas[msg.type].safeParse(msg);
  if (!parsed.success) fail(`invalid body: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const { type: _type, ...body } = parsed.data!;
  const bodyBytes = Buffer.from(JSON.stringify(body), 'utf8');
  const sender = Buffer.from(header.sender, 'utf8');
  const recipient = Buffer.from(header.recipient, 'utf8');
  const total = 3 + 1 + 1 + 1 + 1 + sender.length + 1 + recipient.length + 8 + 8 + 8 + 8 + 8 + 2 + bodyBytes.length + MAC_BYTES;
  if (total > MAX_MESSAGE_BYTES) fail(`message is ${total} bytes; the limit is ${MAX_MESSAGE_BYTES}`);
  const buf = Buffer.alloc(total);
  let o = CONTROL_MAGIC.copy(buf, 0);
  buf[o++] = CONTROL_VERSION;
  buf[o++] = code;
  buf[o++] = flags;
  buf[o++] = sender.length;
  o += sender.copy(buf, o);
  buf[o++] = recipient.length;
  o += recipient.copy(buf, o);
  o += Buffer.from(header.session, 'hex').copy(buf, o);
  o += Buffer.from(header.nonce, 'hex').copy(buf, o);
  o += Buffer.from(header.echo, 'hex').copy(buf, o);
  o = buf.writeBigUInt64BE(header.seq, o);
  o = buf.writeBigUInt64BE(BigInt(header.sentAt), o);
  o = buf.writeUInt16BE(bodyBytes.length, o);
  o += bodyBytes.copy(buf, o);
  mac(key, buf.subarray(0, o)).copy(buf, o);
  return buf;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes and authenticates a message. Never throws. With `recipient`, messages addressed to another node are
 * rejected. Does not check freshness or replay: pass the envelope to a ReplayGuard.
 */
export function decodeControl(key: ControlKey, bytes: Uint8Array, opts: { recipient?: string } = {}): DecodeResult {
  try {
    return decodeUnsafe(key, bytes, opts);
  } catch (err) {
    // Unreachable by construction (every read is bounds-checked first); kept so decode stays total.
    return { ok: false, reason: 'bad-header', detail: err instanceof Error ? err.message : String(err) };
  }
}

function decodeUnsafe(key: ControlKey, bytes: Uint8Array, opts: { recipient?: string }): DecodeResult {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length > MAX_MESSAGE_BYTES) return { ok: false, reason: 'oversize', detail: `${b.length} bytes` };
  for (let i = 0; i < 3 && i < b.length; i++) if (b[i] !== CONTROL_MAGIC[i]) return { ok: false, reason: 'bad-magic' };
  if (b.length < 4) return { ok: false, reason: 'truncated' };
  if (b[3] !== CONTROL_VERSION) return { ok: false, reason: 'bad-version', detail: `version ${b[3]}` };
  // Framing: find every field's extent, bounds-checked.
  let o = 6;
  const need = (n: number): boolean => o + n <= b.length;
  if (!need(1)) return { ok: false, reason: 'truncated' };
  const sLen = b[o++] as number;
  if (sLen < 1 || sLen > MAX_NAME_BYTES) return { ok: false, reason: 'bad-header', detail: 'sender length' };
  if (!need(sLen + 1)) return { ok: false, reason: 'truncated' };
  const senderBytes = b.subarray(o, o + sLen);
  o += sLen;
  const rLen = b[o++] as number;
  if (rLen < 1 || rLen > MAX_NAME_BYTES) return { ok: false, reason: 'bad-header', detail: 'recipient length' };
  if (!need(rLen + 8 * 5 + 2)) return { ok: false, reason: 'truncated' };
  const recipientBytes = b.subarray(o, o + rLen);
  o += rLen;
  const session = b.subarray(o, o + 8).toString('hex');
  o += 8;
  const nonce = b.subarray(o, o + 8).toString('hex');
  o += 8;
  const echo = b.subarray(o, o + 8).toString('hex');
  o += 8;
  const seq = b.readBigUInt64BE(o);
  o += 8;
  const sentAtBig = b.readBigUInt64BE(o);
  o += 8;
  const bodyLen = b.readUInt16BE(o);
  o += 2;
  const expected = o + bodyLen + MAC_BYTES;
  if (b.length < expected) return { ok: false, reason: 'truncated' };
  if (b.length > expected) return { ok: false, reason: 'bad-length', detail: `${b.length - expected} trailing bytes` };
  const macAt = o + bodyLen;
  if (!timingSafeEqual(mac(key, b.subarray(0, macAt)), b.subarray(macAt))) return { ok: false, reason: 'bad-mac' };

  // Authenticated from here on.
  const type = TYPE_BY_CODE.get(b[4] as number);
  if (type === undefined) return { ok: false, reason: 'bad-type', detail: `type ${b[4]}` };
  let sender: string;
  let recipient: string;
  try {
    sender = utf8.decode(senderBytes);
    recipient = utf8.decode(recipientBytes);
  } catch {
    return { ok: false, reason: 'bad-header', detail: 'name is not UTF-8' };
  }
  if (!NODE_RE.test(sender) || !NODE_RE.test(recipient)) return { ok: false, reason: 'bad-header', detail: 'bad node name' };
  if (seq === 0n) return { ok: false, reason: 'bad-header', detail: 'seq 0' };
  if (nonce === NO_NONCE) return { ok: false, reason: 'bad-header', detail: 'nonce 0' };
  if (sentAtBig > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, reason: 'bad-header', detail: 'send time out of range' };
  if (opts.recipient !== undefined && recipient !== opts.recipient) return { ok: false, reason: 'wrong-recipient', detail: `for ${recipient}` };
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(b.subarray(o, macAt)));
  } catch {
    return { ok: false, reason: 'bad-body', detail: 'not JSON' };
  }
  const body = messageSchemas[type].safeParse(json !== null && typeof json === 'object' && !Array.isArray(json) ? { ...json, type } : json);
  if (!body.success) {
    const i = body.error.issues[0];
    return { ok: false, reason: 'bad-body', detail: i ? `${i.path.join('.')}: ${i.message}` : 'invalid' };
  }
  return {
    ok: true,
    envelope: { version: CONTROL_VERSION, type, flags: b[5] as number, sender, recipient, session, nonce, echo, seq, sentAt: Number(sentAtBig) },
    message: body.data,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The sending side of a daemon: one session, one sequence counter for all links.

/** 8 random bytes as hex: a session id or a nonce (never NO_NONCE). */
export function newSessionId(): string {
  for (;;) {
    const id = randomBytes(SESSION_BYTES).toString('hex');
    if (id !== NO_NONCE) return id;
  }
}

export class ControlSender {
  readonly node: string;
  readonly session: string;
  private readonly key: ControlKey;
  private readonly now: () => number;
  private seq: bigint;

  constructor(opts: { node: string; key: ControlKey; session?: string; firstSeq?: bigint; now?: () => number }) {
    this.node = opts.node;
    this.key = opts.key;
    this.session = opts.session ?? newSessionId();
    this.seq = opts.firstSeq ?? 1n;
    this.now = opts.now ?? Date.now;
  }

  /** The sequence number the next message will carry. */
  get nextSeq(): bigint { return this.seq; }

  /**
   * Encodes `msg` for `recipient` with the next sequence number, the current (wall-clock) time for the RTT echo,
   * and the session binding the replay guard holds for that peer (`guard.binding(recipient)`).
   */
  encode(recipient: string, msg: PeerMessage, binding: SessionBinding): { bytes: Buffer; seq: bigint; sentAt: number } {
    const seq = this.seq;
    const sentAt = Math.floor(this.now());
    const bytes = encodeControl(this.key, { sender: this.node, recipient, session: this.session, nonce: binding.nonce, echo: binding.echo, seq, sentAt }, msg);
    this.seq = seq + 1n; // only after a successful encode, so a rejected message leaves no gap
    return { bytes, seq, sentAt };
  }
}
