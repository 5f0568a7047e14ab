// Lab test (root): an unmodified real application listening on IPv6 keeps its clients through a failover. nginx
// (Debian's nginx-light; .ci/run installs it) serves on [::]:80 on server a of the IPv6-only pair; Debian's curl on
// client c keeps requesting over one keep-alive connection, opens a new connection per request, and downloads a
// file at a limited rate — while a's public port is cut, b takes over, the port heals and a fails back.
// Nothing may be lost: every request answered 200 with the whole body, the keep-alive connection never reopened,
// the download complete with the right sha256, and no request slower than TCP's own recovery would make it.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { requireRoot, waitFor } from '../helpers.js';
import type { LabHandle } from '../../src/lab/lab.js';
import { failedBack, tookOver, withCluster } from './failover-suite.js';

const A = '2001:db8::11';
const URL_BASE = `http://[${A}]`;
const BODY = 'hanet keeps this connection\n';
const BIG_BYTES = 16 * 1024 * 1024;
/** A request answered through a takeover takes one takeover (measured 20-110 ms) longer; TCP alone, with no one
 * answering for a's address, would need its retransmissions across the whole cut (> 1.5 s here). */
const SLOWEST_MS = 1000;

const have = (cmd: string): boolean => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** nginx's configuration: in the foreground, one worker, files and logs in `dir`, listening on IPv6 only. */
function nginxConf(dir: string): string {
  return `daemon off;
user root;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  access_log ${dir}/access.log;
  client_body_temp_path ${dir}/body;
  keepalive_requests 100000;
  keepalive_timeout 60s;
  server {
    listen [::]:80 ipv6only=on;
    root ${dir}/www;
  }
}
`;
}

interface Curl { child: ChildProcess; lines: string[]; exit: Promise<number | null> }

/** Runs curl on the client node, one `-w` line per transfer collected as it arrives. */
function curl(lab: LabHandle, args: string[]): Curl {
  const child = lab.spawn('c', ['curl', '-sS', '-m', '20', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => { if (err) lines.push(`stderr: ${err.trim()}`); resolve(code); }));
  return { child, lines, exit };
}

/** `-w` lines "<http code> <connects> <bytes> <seconds>". */
const parse = (lines: string[]) => lines.filter((l) => !l.startsWith('stderr:')).map((l) => {
  const [code, connects, size, secs] = l.split(' ');
  return { code: Number(code), connects: Number(connects), size: Number(size), ms: Number(secs) * 1000 };
});
const W = ['-w', '%{http_code} %{num_connects} %{size_download} %{time_total}\\n'];

async function nginxThroughFailover(t: TestContext, mode: 'carrier' | 'silent'): Promise<void> {
  if (!requireRoot(t)) return;
  if (!have('nginx') || !have('curl')) {
    t.skip('needs nginx and curl from Debian (apt-get install nginx-light curl; .ci/run installs them)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'hanet-nginx-'));
  chmodSync(dir, 0o755);
  try {
    mkdirSync(join(dir, 'www'));
    writeFileSync(join(dir, 'www', 'small.txt'), BODY);
    const big = randomBytes(BIG_BYTES);
    writeFileSync(join(dir, 'www', 'big.bin'), big);
    writeFileSync(join(dir, 'nginx.conf'), nginxConf(dir));
    await withCluster(t, `lapp${mode.slice(0, 2)}`, 'pair6', async (lab, c) => {
      const nginx = lab.spawn('a', ['nginx', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')], { stdio: 'ignore' });
      try {
        await waitFor(async () => (await lab.exec('c', ['curl', '-sf', '-m', '1', '-o', '/dev/null', `${URL_BASE}/small.txt`])).code === 0, { what: 'nginx answering on a over IPv6' });
        // 8 s of each, so every client spans the cut, the takeover, the heal and the failback (~4 s).
        const keep = curl(lab, [...W, '--rate', '50/s', '-o', '/dev/null', `${URL_BASE}/small.txt?[1-400]`]);
        const fresh = curl(lab, [...W, '--rate', '20/s', '-H', 'Connection: close', '-o', '/dev/null', `${URL_BASE}/small.txt?[1-160]`]);
        const download = join(dir, 'big.dl');
        const bulk = curl(lab, [...W, '--limit-rate', '2M', '-o', download, `${URL_BASE}/big.bin`]);
        await waitFor(() => keep.lines.length >= 50, { what: 'a second of keep-alive requests' });
        await lab.fail('a:eth0', mode);
        await tookOver(c);
        await delay(1500);
        const atHeal = keep.lines.length;
        await lab.heal('a:eth0');
        await failedBack(c);
        const codes = await Promise.all([keep.exit, fresh.exit, bulk.exit]);
        t.diagnostic(`curl exit codes ${codes.join(', ')}; keep-alive requests before the heal: ${atHeal}`);
        assert.ok(atHeal < 400, 'the keep-alive client was still running when the port healed');
        assert.deepEqual(codes, [0, 0, 0], `curl exit codes (keep-alive, new connections, download)\n${[...keep.lines, ...fresh.lines, ...bulk.lines].filter((l) => l.startsWith('stderr')).join('\n')}`);

        const k = parse(keep.lines);
        assert.equal(k.length, 400, 'every keep-alive request done');
        assert.deepEqual(k.filter((r) => r.code !== 200 || r.size !== BODY.length), [], 'every keep-alive request answered in full');
        assert.equal(k.reduce((s, r) => s + r.connects, 0), 1, 'one connection for all 400 requests: never broken, never reopened');
        const n = parse(fresh.lines);
        assert.equal(n.length, 160, 'every new-connection request done');
        assert.deepEqual(n.filter((r) => r.code !== 200 || r.size !== BODY.length || r.connects !== 1), [], 'every new connection answered in full');
        const slowest = Math.max(...k.map((r) => r.ms), ...n.map((r) => r.ms));
        t.diagnostic(`${mode}: slowest request ${slowest.toFixed(0)} ms`);
        assert.ok(slowest < SLOWEST_MS, `slowest request ${slowest.toFixed(0)} ms: the takeover carried the traffic`);
        const [d] = parse(bulk.lines);
        assert.equal(d?.code, 200);
        assert.equal(d?.connects, 1);
        assert.ok((d?.ms ?? 0) > 4000, `the download (${d?.ms.toFixed(0)} ms) spanned the failure`);
        const got = readFileSync(download);
        assert.equal(got.length, BIG_BYTES, 'the whole file');
        assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(big).digest('hex'), 'byte for byte');
      } finally {
        nginx.kill('SIGTERM');
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const mode of ['carrier', 'silent'] as const) {
  test(`nginx on IPv6 keeps its curl clients through a ${mode} failure of its server's port: nothing lost`, (t) => nginxThroughFailover(t, mode));
}
