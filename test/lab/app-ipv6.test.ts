// Lab test (root): unmodified real applications listening on IPv6 keep their clients through a failover. nginx
// (Debian's nginx-light; .ci/run installs it) and Python's http.server (python3 -m http.server --bind ::) serve on
// port 80 of server a of the IPv6-only pair; Debian's curl on client c keeps requesting over one keep-alive
// connection, opens a new connection per request, and downloads a file at a limited rate — while a's public port is
// cut, b takes over, the port heals and a fails back.
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
/** Requests of the keep-alive and the new-connection client (20 a second each: 8 s). */
const KEEP = 160;
const FRESH = 160;
/**
 * On the keep-alive connection, a request answered through the takeover takes one takeover (measured 20-110 ms)
 * plus a retransmission longer; TCP alone, with no one answering for a's address, would need its retransmissions
 * across the whole cut (> 1.5 s here).
 */
const KEEP_SLOWEST_MS = 1000;
/**
 * A new connection whose SYN went out between the cut and the takeover has it retransmitted after TCP's initial
 * 1 s timeout (RFC 6298), whatever takes over; without a takeover, its third SYN (3 s) would be the first through.
 */
const NEW_SLOWEST_MS = 2000;

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
  // stdbuf: curl writes its -w lines through stdio, block-buffered into a pipe; line by line, they are progress.
  const child = lab.spawn('c', ['stdbuf', '-oL', 'curl', '-sS', '-m', '20', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

/** A real server program: whether it is installed, and how it serves `dir`/www on [::]:80 in the foreground. */
interface App { name: string; cmd: string; argv(dir: string): string[]; prepare?(dir: string): void }
const APPS: Record<'nginx' | 'python', App> = {
  nginx: {
    name: 'nginx', cmd: 'nginx',
    prepare: (dir) => writeFileSync(join(dir, 'nginx.conf'), nginxConf(dir)),
    argv: (dir) => ['nginx', '-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log')],
  },
  // HTTP/1.1 so that it keeps connections open (its default, HTTP/1.0, closes each one).
  python: { name: "Python's http.server", cmd: 'python3', argv: (dir) => ['python3', '-m', 'http.server', '80', '--bind', '::', '--protocol', 'HTTP/1.1', '--directory', join(dir, 'www')] },
};

async function throughFailover(t: TestContext, app: App, mode: 'carrier' | 'silent'): Promise<void> {
  if (!requireRoot(t)) return;
  if (!have(app.cmd) || !have('curl')) {
    t.skip(`needs ${app.cmd} and curl (Debian: nginx-light, python3, curl; .ci/run installs them)`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'hanet-app-'));
  chmodSync(dir, 0o755);
  try {
    mkdirSync(join(dir, 'www'));
    writeFileSync(join(dir, 'www', 'small.txt'), BODY);
    const big = randomBytes(BIG_BYTES);
    writeFileSync(join(dir, 'www', 'big.bin'), big);
    app.prepare?.(dir);
    await withCluster(t, `lap${app.cmd.slice(0, 2)}${mode.slice(0, 2)}`, 'pair6', async (lab, c) => {
      const server = lab.spawn('a', app.argv(dir), { stdio: 'ignore' });
      try {
        await waitFor(async () => (await lab.exec('c', ['curl', '-sf', '-m', '1', '-o', '/dev/null', `${URL_BASE}/small.txt`])).code === 0, { what: `${app.name} answering on a over IPv6` });
        // 8 s of each, so every client spans the cut, the takeover, the heal and the failback (~4 s). 20 requests a
        // second: http.server answers a keep-alive request in ~44 ms (header and body in two writes: Nagle and
        // delayed ACK).
        const keep = curl(lab, [...W, '--rate', '20/s', '-o', '/dev/null', `${URL_BASE}/small.txt?[1-${KEEP}]`]);
        const fresh = curl(lab, [...W, '--rate', '20/s', '-H', 'Connection: close', '-o', '/dev/null', `${URL_BASE}/small.txt?[1-${FRESH}]`]);
        const download = join(dir, 'big.dl');
        const bulk = curl(lab, [...W, '--limit-rate', '2M', '-o', download, `${URL_BASE}/big.bin`]);
        await waitFor(() => keep.lines.length >= 20, { what: 'a second of keep-alive requests' });
        const atCut = keep.lines.length;
        const cutAt = performance.now();
        await lab.fail('a:eth0', mode);
        await tookOver(c);
        const takeoverMs = performance.now() - cutAt;
        await delay(1500);
        const atHeal = keep.lines.length;
        await lab.heal('a:eth0');
        await failedBack(c);
        const codes = await Promise.all([keep.exit, fresh.exit, bulk.exit]);
        t.diagnostic(`curl exit codes ${codes.join(', ')}; takeover seen ${takeoverMs.toFixed(0)} ms after the cut; keep-alive requests done at the cut: ${atCut}, at the heal: ${atHeal}`);
        assert.ok(atHeal < KEEP, 'the keep-alive client was still running when the port healed');
        assert.deepEqual(codes, [0, 0, 0], `curl exit codes (keep-alive, new connections, download)\n${[...keep.lines, ...fresh.lines, ...bulk.lines].filter((l) => l.startsWith('stderr')).join('\n')}`);

        const k = parse(keep.lines);
        assert.equal(k.length, KEEP, 'every keep-alive request done');
        assert.deepEqual(k.filter((r) => r.code !== 200 || r.size !== BODY.length), [], 'every keep-alive request answered in full');
        assert.equal(k.reduce((s, r) => s + r.connects, 0), 1, `one connection for all ${KEEP} requests: never broken, never reopened`);
        const n = parse(fresh.lines);
        assert.equal(n.length, FRESH, 'every new-connection request done');
        assert.deepEqual(n.filter((r) => r.code !== 200 || r.size !== BODY.length || r.connects !== 1), [], 'every new connection answered in full');
        const worst = (rs: typeof k) => rs.reduce((w, r, i) => (r.ms > w.ms ? { ms: r.ms, i } : w), { ms: 0, i: -1 });
        const [wk, wn] = [worst(k), worst(n)];
        t.diagnostic(`${mode}: slowest keep-alive request #${wk.i} ${wk.ms.toFixed(0)} ms, new-connection request #${wn.i} ${wn.ms.toFixed(0)} ms`);
        assert.ok(wk.ms < KEEP_SLOWEST_MS, `slowest keep-alive request ${wk.ms.toFixed(0)} ms: the takeover carried the traffic`);
        assert.ok(wn.ms < NEW_SLOWEST_MS, `slowest new-connection request ${wn.ms.toFixed(0)} ms: at most one SYN lost`);
        const [d] = parse(bulk.lines);
        assert.equal(d?.code, 200);
        assert.equal(d?.connects, 1);
        assert.ok((d?.ms ?? 0) > 4000, `the download (${d?.ms.toFixed(0)} ms) spanned the failure`);
        const got = readFileSync(download);
        assert.equal(got.length, BIG_BYTES, 'the whole file');
        assert.equal(createHash('sha256').update(got).digest('hex'), createHash('sha256').update(big).digest('hex'), 'byte for byte');
      } finally {
        server.kill('SIGTERM');
      }
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const [app, mode] of [['nginx', 'carrier'], ['nginx', 'silent'], ['python', 'carrier']] as const) {
  test(`${APPS[app].name} on IPv6 keeps its curl clients through a ${mode} failure of its server's port: nothing lost`, (t) => throughFailover(t, APPS[app], mode));
}
