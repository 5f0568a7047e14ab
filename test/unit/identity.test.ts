// Per-node identities (src/proto/identity.ts): X25519 as in RFC 7748, both ends of a link derive the same pairwise
// secret, any other node (or another pair) gets another one, and malformed or degenerate keys are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateNodeKeyPair, pairSecret, parseNodeKey, publicKeyOf } from '../../src/proto/identity.js';
import { ControlSender, decodeControl, deriveControlKey, NO_NONCE } from '../../src/proto/control.js';
import { isHanetError } from '../../src/errors.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');
// RFC 7748, section 6.1.
const alice = { privateKey: hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'), publicKey: hex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a') };
const bob = { privateKey: hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'), publicKey: hex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f') };

test('public keys are RFC 7748 X25519; both ends derive the same pairwise secret', () => {
  assert.deepEqual(publicKeyOf(alice.privateKey), alice.publicKey);
  assert.deepEqual(publicKeyOf(bob.privateKey), bob.publicKey);
  const ab = pairSecret({ node: 'a', privateKey: alice.privateKey }, { node: 'b', publicKey: bob.publicKey });
  const ba = pairSecret({ node: 'b', privateKey: bob.privateKey }, { node: 'a', publicKey: alice.publicKey });
  assert.equal(ab.length, 32);
  assert.deepEqual(ab, ba);
});

test('another node, other names, or a stolen key of a third node give other secrets', () => {
  const c = generateNodeKeyPair();
  const ab = pairSecret({ node: 'a', privateKey: alice.privateKey }, { node: 'b', publicKey: bob.publicKey });
  const ac = pairSecret({ node: 'a', privateKey: alice.privateKey }, { node: 'c', publicKey: c.publicKey });
  const cb = pairSecret({ node: 'c', privateKey: c.privateKey }, { node: 'b', publicKey: bob.publicKey });
  assert.notDeepEqual(ab, ac);
  assert.notDeepEqual(ab, cb, "c's key does not give the a-b secret");
  assert.notDeepEqual(ab, pairSecret({ node: 'x', privateKey: alice.privateKey }, { node: 'b', publicKey: bob.publicKey }), 'names are bound');
  // c, holding its own key, cannot make a message b accepts as coming from a on the a-b link.
  const forged = new ControlSender({ node: 'a', key: deriveControlKey(cb) }).encode('b', { type: 'release', claimId: 'x' }, { nonce: '0102030405060708', echo: NO_NONCE }).bytes;
  const atB = decodeControl(deriveControlKey(pairSecret({ node: 'b', privateKey: bob.privateKey }, { node: 'a', publicKey: alice.publicKey })), forged);
  assert.equal(atB.ok ? 'accepted' : atB.reason, 'bad-mac');
});

test('malformed and degenerate keys are refused with HANET_ERR_CONFIG', () => {
  const kp = generateNodeKeyPair();
  assert.deepEqual(parseNodeKey(kp.publicKey.toString('base64'), 'peer_public_key'), kp.publicKey);
  assert.throws(() => parseNodeKey('not a key', 'peer_public_key'), (e) => isHanetError(e, 'HANET_ERR_CONFIG') && /peer_public_key/.test((e as Error).message));
  assert.throws(() => parseNodeKey(Buffer.alloc(31).toString('base64'), 'k'), (e) => isHanetError(e, 'HANET_ERR_CONFIG'));
  assert.throws(() => pairSecret({ node: 'a', privateKey: alice.privateKey }, { node: 'b', publicKey: Buffer.alloc(16) }), (e) => isHanetError(e, 'HANET_ERR_CONFIG'));
  // The all-zero point (low order): the shared secret would be zero whatever our key.
  assert.throws(() => pairSecret({ node: 'a', privateKey: alice.privateKey }, { node: 'b', publicKey: Buffer.alloc(32) }), (e) => isHanetError(e, 'HANET_ERR_CONFIG'));
});
