// The address module: parsing (strict), canonical text, prefixes and the half-prefix split, for both families.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  canonicalIp, formatIp, halves, hostProblem, inPrefix, ipBytes, ipFamily, isLinkLocal, isMulticast, networkOf, parseCidr, solicitedNode,
} from '../../src/core/ip.js';

test('families and strict text', () => {
  const cases: Array<[string, 4 | 6 | undefined]> = [
    ['10.0.0.1', 4], ['255.255.255.255', 4], ['010.0.0.1', undefined], ['10.0.0', undefined], ['10.0.0.256', undefined],
    ['2001:db8::1', 6], ['::', 6], ['::ffff:10.0.0.1', 6], ['1::2::3', undefined], ['fe80::1%eth0', undefined], ['12345::', undefined],
    ['', undefined], ['10.0.0.1/24', undefined],
  ];
  for (const [s, f] of cases) assert.equal(ipFamily(s), f, s);
});

test('canonical text (RFC 5952) and family filter', () => {
  assert.equal(canonicalIp('2001:DB8:0:0:0:0:0:1'), '2001:db8::1');
  assert.equal(canonicalIp('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
  assert.equal(canonicalIp('0:0:0:0:0:0:0:1'), '::1');
  assert.equal(canonicalIp('10.0.0.1', 6), undefined);
  assert.equal(canonicalIp('10.0.0.1', 4), '10.0.0.1');
});

test('parseCidr: host prefix by default, canonical address, bounds per family', () => {
  assert.deepEqual(parseCidr('10.0.0.11/24'), { family: 4, address: '10.0.0.11', prefixLen: 24 });
  assert.deepEqual(parseCidr('10.0.0.11'), { family: 4, address: '10.0.0.11', prefixLen: 32 });
  assert.deepEqual(parseCidr('2001:DB8::11/64'), { family: 6, address: '2001:db8::11', prefixLen: 64 });
  assert.deepEqual(parseCidr('2001:db8::11'), { family: 6, address: '2001:db8::11', prefixLen: 128 });
  for (const bad of ['10.0.0.1/33', '10.0.0.1/', '10.0.0.1/024', '::/129', 'x/1', '10.0.0.1/1/2']) assert.equal(parseCidr(bad), undefined, bad);
  assert.equal(parseCidr('10.0.0.1', { requirePrefix: true }), undefined);
  assert.equal(parseCidr('10.0.0.1/8', { family: 6 }), undefined);
});

test('prefix membership and network address', () => {
  assert.equal(inPrefix('10.0.0.200', { address: '10.0.0.11', prefixLen: 24 }), true);
  assert.equal(inPrefix('10.0.1.1', { address: '10.0.0.11', prefixLen: 24 }), false);
  assert.equal(inPrefix('2001:db8::ffff', { address: '2001:db8::1', prefixLen: 64 }), true);
  assert.equal(inPrefix('2001:db9::1', { address: '2001:db8::1', prefixLen: 64 }), false);
  assert.equal(inPrefix('10.0.0.1', { address: '::', prefixLen: 0 }), false, 'families never mix');
  assert.equal(networkOf({ address: '10.0.0.11', prefixLen: 24 }), '10.0.0.0');
  assert.equal(networkOf({ address: '2001:db8::11', prefixLen: 64 }), '2001:db8::');
});

test('halves: the two longer prefixes that cover a prefix', () => {
  assert.deepEqual(halves({ address: '0.0.0.0', prefixLen: 0 }), [{ dst: '0.0.0.0', dstLen: 1 }, { dst: '128.0.0.0', dstLen: 1 }]);
  assert.deepEqual(halves({ address: '10.0.0.11', prefixLen: 24 }), [{ dst: '10.0.0.0', dstLen: 25 }, { dst: '10.0.0.128', dstLen: 25 }]);
  assert.deepEqual(halves({ address: '::', prefixLen: 0 }), [{ dst: '::', dstLen: 1 }, { dst: '8000::', dstLen: 1 }]);
  assert.deepEqual(halves({ address: '2001:db8::5', prefixLen: 64 }), [{ dst: '2001:db8::', dstLen: 65 }, { dst: '2001:db8:0:0:8000::', dstLen: 65 }]);
  assert.deepEqual(halves({ address: '10.0.0.1', prefixLen: 31 }), []);
  assert.deepEqual(halves({ address: '2001:db8::1', prefixLen: 127 }), []);
});

test('host addresses, link-local, multicast, solicited-node', () => {
  assert.equal(hostProblem({ family: 4, address: '10.0.0.0', prefixLen: 24 }), 'network');
  assert.equal(hostProblem({ family: 4, address: '10.0.0.255', prefixLen: 24 }), 'broadcast');
  assert.equal(hostProblem({ family: 4, address: '10.0.0.1', prefixLen: 31 }), undefined);
  assert.equal(hostProblem({ family: 6, address: '2001:db8::', prefixLen: 64 }), 'network');
  assert.equal(hostProblem({ family: 6, address: '2001:db8::ffff:ffff:ffff:ffff', prefixLen: 64 }), undefined);
  assert.equal(isLinkLocal('fe80::1'), true);
  assert.equal(isLinkLocal('febf::1'), true);
  assert.equal(isLinkLocal('fec0::1'), false);
  assert.equal(isLinkLocal('169.254.3.4'), true);
  assert.equal(isMulticast('ff02::1'), true);
  assert.equal(isMulticast('224.0.0.18'), true);
  assert.equal(solicitedNode('2001:db8::12:3456'), 'ff02::1:ff12:3456');
});

test('property: text -> bytes -> text is the canonical form, for any 16 or 4 bytes', () => {
  fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
    const s = formatIp(b)!;
    assert.deepEqual([...ipBytes(6, s)!], [...b]);
    assert.equal(canonicalIp(s.toUpperCase()), s);
  }));
  fc.assert(fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b) => {
    assert.deepEqual([...ipBytes(4, formatIp(b)!)!], [...b]);
  }));
});
