// Per-node identities (the decision in docs/security.md): every node has its own static X25519 key pair, and each
// private link's configuration names the peer's public key. Both ends of a link derive the same pairwise secret
// by ECDH; it replaces the cluster key for that link only (control MAC key: deriveControlKey(secret); udp tunnel
// data keys: the tunnel's `clusterKey`), so the envelope (wire version 2) and the per-message cost are unchanged,
// and a stolen key file lets its holder speak only as that one node. Pure (node:crypto); not wired to the
// configuration yet (src/config, src/daemon/run.ts: see docs/security.md).
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, hkdfSync } from 'node:crypto';
import { HanetError } from '../errors.js';

const KEY_BYTES = 32;
// DER prefixes of an X25519 PKCS#8 private key and SPKI public key (RFC 8410): the raw 32 bytes follow.
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

/** A node's key pair as raw 32-byte keys (written as base64, like WireGuard's). */
export interface NodeKeyPair { privateKey: Buffer; publicKey: Buffer }

export function generateNodeKeyPair(): NodeKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return {
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_X25519.length),
    publicKey: publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519.length),
  };
}

/** The public key of a raw private key. */
export function publicKeyOf(privateKey: Buffer): Buffer {
  const pub = createPublicKey(privateObject(privateKey));
  return pub.export({ format: 'der', type: 'spki' }).subarray(SPKI_X25519.length);
}

/** Parses a base64 key (32 bytes). Throws HANET_ERR_CONFIG naming `what`. */
export function parseNodeKey(text: string, what: string): Buffer {
  const b = Buffer.from(text.trim(), 'base64');
  if (b.length !== KEY_BYTES || b.toString('base64') !== text.trim()) throw new HanetError('HANET_ERR_CONFIG', `${what} is not a base64 X25519 key (32 bytes)`);
  return b;
}

const privateObject = (raw: Buffer) => {
  if (raw.length !== KEY_BYTES) throw new HanetError('HANET_ERR_CONFIG', `a node private key is ${KEY_BYTES} bytes, not ${raw.length}`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' });
};

/**
 * The secret node `me` shares with node `peer` (32 bytes): HKDF-SHA256 of their X25519 shared secret, salted with
 * both public keys and bound to both names (in sorted order, so both ends compute the same). Throws
 * HANET_ERR_CONFIG for a malformed or degenerate (low-order) peer key.
 */
export function pairSecret(me: { node: string; privateKey: Buffer }, peer: { node: string; publicKey: Buffer }): Buffer {
  if (peer.publicKey.length !== KEY_BYTES) throw new HanetError('HANET_ERR_CONFIG', `the public key of ${peer.node} is ${peer.publicKey.length} bytes, not ${KEY_BYTES}`);
  let shared: Buffer;
  try {
    shared = diffieHellman({ privateKey: privateObject(me.privateKey), publicKey: createPublicKey({ key: Buffer.concat([SPKI_X25519, peer.publicKey]), format: 'der', type: 'spki' }) });
  } catch (e) {
    throw new HanetError('HANET_ERR_CONFIG', `the public key of ${peer.node} is not usable: ${(e as Error).message}`, { cause: e });
  }
  if (shared.every((x) => x === 0)) throw new HanetError('HANET_ERR_CONFIG', `the public key of ${peer.node} is degenerate (low order)`);
  const ends = [{ node: me.node, pub: publicKeyOf(me.privateKey) }, { node: peer.node, pub: peer.publicKey }].sort((x, y) => (x.node < y.node ? -1 : 1));
  const salt = Buffer.concat(ends.map((e) => e.pub));
  return Buffer.from(hkdfSync('sha256', shared, salt, `hanet pair v1 ${ends.map((e) => e.node).join(' ')}`, KEY_BYTES));
}
