// SysctlMemory: the first previous value of each sysctl hanet changes is kept in a file (so a restart still knows
// it), restored on a clean stop, forgotten afterwards; paths that went away are not restored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SysctlMemory } from '../../src/daemon/sysctl-memory.js';
import type { KernelOp, KernelPort } from '../../src/core/kernel-types.js';

function fakeKernel(ops: KernelOp[][]): KernelPort {
  return {
    getLink: async () => undefined, flushNeighbors: async () => 0, leftovers: async () => ({ routes: [], proxies: [], addresses: [] }), close: () => {},
    reconcile: async () => ops.shift() ?? [],
  };
}

const empty = { addresses: [], managedAddresses: [], routes: [], proxies: [], sysctls: [] };

test('sysctl memory: keeps the first previous value across restarts, restores existing paths, forgets after', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hanet-sysctl-'));
  const proc = join(dir, 'proc');
  mkdirSync(join(proc, 'net/ipv4/conf/eth1'), { recursive: true });
  writeFileSync(join(proc, 'net/ipv4/ip_forward'), '1\n');
  writeFileSync(join(proc, 'net/ipv4/conf/eth1/rp_filter'), '2\n');
  const file = join(dir, 'a.sock.sysctls.json');
  const m1 = new SysctlMemory(file, proc);
  const k1 = m1.wrap(fakeKernel([
    [{ op: 'sysctl', path: 'net/ipv4/ip_forward', value: '1', previous: '0' }, { op: 'sysctl', path: 'net/ipv4/conf/ser0/rp_filter', value: '2', previous: '0' }],
    [{ op: 'sysctl', path: 'net/ipv4/ip_forward', value: '1', previous: '5' }, { op: 'sysctl', path: 'net/ipv4/conf/eth1/rp_filter', value: '2', previous: '1' }],
  ]));
  await k1.reconcile(empty);
  await k1.reconcile(empty);
  // A kill -9: the next run starts from the file.
  const m2 = new SysctlMemory(file, proc);
  assert.deepEqual(m2.restore(), [{ path: 'net/ipv4/ip_forward', value: '0' }, { path: 'net/ipv4/conf/eth1/rp_filter', value: '1' }], 'the first previous values; ser0 is gone');
  m2.forget();
  assert.equal(existsSync(file), false);
  assert.deepEqual(new SysctlMemory(file, proc).restore(), []);
});
