// hanet doctor on lab nodes (root): a clean node running hanet is reported clean, and each problem planted in a
// lab namespace is found with the expected severity. Doctor reads processes machine-wide (/proc of its PID
// namespace) and /dev, so each run gets its own PID and mount namespace (unshare --pid --mount-proc) holding
// only the processes the test plants; its PATH has node only (no timedatectl: the sync state comes from the
// planted daemons).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { withCluster } from './with-cluster.js';
import { hanetArgv, type LabHandle } from '../../src/lab/lab.js';

interface Report { version: number; ok: boolean; blocking: number; warnings: number; findings: Array<{ id: string; subject?: string; severity: string; message: string; fix?: string }> }

/** A script whose process shows as `name` in /proc/<pid>/comm (comm is the executed file's name). */
function fakeDaemon(dir: string, name: string): string {
  const p = join(dir, name);
  writeFileSync(p, '#!/bin/sh\nsleep 60\n', { mode: 0o755 });
  return p;
}

/**
 * Runs `hanet doctor --json` on `node` in a fresh PID + mount namespace with the given fake daemons running (each
 * started and seen in /proc before doctor starts) and extra shell lines run first (mounts that plant problems).
 */
async function doctor(lab: LabHandle, node: string, dir: string, opts: { config: string; daemons: Array<{ name: string; args?: string[] }>; setup?: string[] }): Promise<{ code: number; report: Report }> {
  const pathDir = join(dir, 'path');
  mkdirSync(pathDir, { recursive: true });
  try { symlinkSync(process.execPath, join(pathDir, 'node')); } catch { /* already there */ }
  const q = (s: string): string => `'${s.replaceAll("'", "'\\''")}'`;
  const lines = ['set -e'];
  for (const d of opts.daemons) {
    lines.push(`${q(fakeDaemon(dir, d.name))} ${(d.args ?? []).map(q).join(' ')} &`);
    lines.push(`pid=$!; while [ "$(cat /proc/$pid/comm 2>/dev/null)" != ${q(d.name.slice(0, 15))} ]; do :; done`);
  }
  lines.push(...(opts.setup ?? []));
  const [, main] = hanetArgv() as [string, string];
  lines.push(`exec env PATH=${q(pathDir)} node ${q(main)} doctor -c ${q(opts.config)} --json`);
  const r = await lab.exec(node, ['unshare', '--pid', '--fork', '--mount-proc', 'sh', '-c', lines.join('\n')], { timeoutMs: 30_000 });
  let report: Report;
  try { report = JSON.parse(r.stdout) as Report; } catch { throw new Error(`doctor on ${node} printed no JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`); }
  return { code: r.code, report };
}

const find = (r: Report, id: string, subject?: string) => r.findings.find((f) => f.id === id && (subject === undefined || f.subject === subject));
const listing = (r: Report): string => r.findings.filter((f) => f.severity !== 'ok').map((f) => `${f.severity} ${f.id}${f.subject ? ` ${f.subject}` : ''}: ${f.message}`).join('\n');

test('doctor: a clean lab node running hanet is clean; planted problems are each found', async (t) => {
  await withCluster(t, { name: 'ldoc', topology: 'pair' }, async (lab, c) => {
    const dir = mkdtempSync(join(tmpdir(), 'hanet-doctor-'));
    try {
      // Both daemons up and talking: their sysctls are set.
      await c.waitFor('a', (s) => s.links.some((l) => l.alive), { what: 'a sees b' });
      await c.waitFor('b', (s) => s.links.some((l) => l.alive), { what: 'b sees a' });

      // ---- clean: b, with a clock sync daemon running ----
      const clean = await doctor(lab, 'b', dir, { config: c.configPath('b'), daemons: [{ name: 'chronyd' }] });
      t.diagnostic(`clean node b: ${clean.report.findings.length} findings, ${listing(clean.report) || 'all ok'}`);
      assert.equal(clean.code, 0, listing(clean.report));
      assert.deepEqual(clean.report.findings.filter((f) => f.severity !== 'ok'), [], 'every finding ok on a clean node');
      assert.equal(find(clean.report, 'peer', 'ab')?.severity, 'ok', 'b reaches a over the private link');
      assert.equal(find(clean.report, 'proxy-delay', 'eth0')?.severity, 'ok');
      assert.equal(find(clean.report, 'clock')?.severity, 'ok');

      // ---- planted on a ----
      // hanet stopped on a, so that the sysctls planted below stay as planted (a running hanet repairs them).
      await c.kill('a', 'SIGTERM');
      const sh = (cmd: string) => lab.exec('a', ['sh', '-c', cmd], { check: true });
      await sh('echo 80 > /proc/sys/net/ipv4/neigh/eth0/proxy_delay && echo 1 > /proc/sys/net/ipv4/conf/eth1/rp_filter');
      // A port of a bridge configured as a public interface (bonding is not in this kernel; the check is the same).
      await sh('ip link add hv0 type veth peer name hv1 && ip link add hb0 type bridge && ip link set hv0 master hb0 && ip link set hv0 up && ip link set hv1 up && ip link set hb0 up');
      // A private link whose peer address nobody has.
      await sh('ip link add hp0 type veth peer name hp1 && ip address add 10.78.0.1/30 dev hp0 && ip link set hp0 up && ip link set hp1 up');
      await lab.fail('a:eth0', 'carrier');

      const cfg = parse(readFileSync(c.configPath('a'), 'utf8')) as Record<string, unknown> & { public: unknown[]; private: unknown[] };
      const key = join(dir, 'loose.key');
      copyFileSync(cfg.key_file as string, key);
      chmodSync(key, 0o644);
      const hook = join(dir, 'notify.sh');
      writeFileSync(hook, '#!/bin/sh\nexit 0\n');
      chmodSync(hook, 0o775);
      const kaConf = join(dir, 'keepalived.conf');
      writeFileSync(kaConf, 'vrrp_instance VI_1 {\n  interface eth0\n  virtual_ipaddress {\n    10.0.0.11/24\n  }\n}\n');
      cfg.key_file = key;
      cfg.notify = { command: hook };
      cfg.public.push({ interface: 'hv0', lan: 'side', addresses: ['10.77.0.1/24'], probe: { arp: false } });
      cfg.private.push({ name: 'ax', kind: 'ethernet', interface: 'hp0', address: '10.78.0.1/30', peer: 'x', peer_address: '10.78.0.2' });
      cfg.private.push({ name: 'ay', kind: 'serial', device: join(dir, 'ttyNONE'), baud: 115200, address: '10.79.0.1', peer: 'y', peer_address: '10.79.0.2' });
      const cfgPath = join(dir, 'a.yaml');
      writeFileSync(cfgPath, stringify(cfg));
      chmodSync(cfgPath, 0o666);

      const planted = await doctor(lab, 'a', dir, {
        config: cfgPath,
        daemons: [{ name: 'keepalived', args: ['-f', kaConf] }, { name: 'NetworkManager' }, { name: 'systemd-networkd' }],
        // No TUN device, and a read-only /proc/sys (as in an unprivileged container).
        setup: ['mount -t tmpfs tmpfs /dev/net', 'mount --bind /proc/sys /proc/sys', 'mount -o remount,bind,ro /proc/sys'],
      });
      t.diagnostic(`planted node a:\n${listing(planted.report)}`);
      assert.equal(planted.code, 1, 'exit status 1: something blocks');
      assert.equal(planted.report.ok, false);
      const expect: Array<[string, string | undefined, string]> = [
        ['carrier', 'eth0', 'block'],
        ['enslaved', 'hv0', 'block'],
        ['proxy-delay', 'eth0', 'block'],
        ['rp-filter', 'eth1', 'block'],
        ['sysctl-writable', undefined, 'block'],
        ['tun', undefined, 'block'],
        ['keepalived', undefined, 'block'],
        ['network-manager', undefined, 'warn'],
        ['systemd-networkd', undefined, 'warn'],
        ['clock', undefined, 'warn'],
        ['file', key, 'block'],
        ['file', cfgPath, 'block'],
        ['file', hook, 'block'],
        ['peer', 'ax', 'block'],
        ['peer', 'ay', 'block'],
        ['peer', 'ab', 'ok'],
      ];
      for (const [id, subject, severity] of expect) {
        const f = find(planted.report, id, subject);
        assert.equal(f?.severity, severity, `${id}${subject ? ` ${subject}` : ''}: ${f?.message ?? 'no finding'}`);
        if (severity !== 'ok') assert.ok(f!.fix && f!.fix.length > 0, `${id} has a fix`);
      }
      assert.match(find(planted.report, 'keepalived')!.message, /10\.0\.0\.11/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
