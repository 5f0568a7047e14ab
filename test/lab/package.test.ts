// The package as an operator gets it: `npm pack` a copy of this checkout, install the tarball into a temporary
// prefix with scripts disabled and a PATH with no compiler, then run the installed hanet (--version, check, doctor,
// service install --dry-run) and, as root, a lab failover with the installed binary (HANET_BIN).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { requireRoot } from '../helpers.js';
import { withCluster } from './with-cluster.js';
import { startWorkload } from '../../src/lab/workload/index.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url)); // dist/test/lab -> the checkout
const pkgJson = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { name: string; version: string };

interface Installed { tmp: string; tarball: string; pkgDir: string; bin: string; pathDir: string; files: string[]; size: number; unpacked: number }
let inst: Installed | undefined;

/** npm's CLI script, to run it with node alone (the PATH given to the install has no npm). */
function npmCli(): string {
  const beside = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js');
  if (existsSync(beside)) return beside;
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (existsSync(join(d, 'npm'))) return realpathSync(join(d, 'npm'));
  }
  throw new Error('npm not found');
}

/** The environment without npm's per-script variables (npm_config_*: a parent `npm test` must not steer the install). */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('npm_')) env[k] = v;
  return { ...env, ...extra };
}

const ms = (t0: number): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

function run(argv: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): SpawnSyncReturns<string> {
  return spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', cwd: opts.cwd, env: opts.env, timeout: 300_000 });
}

before(() => {
  const tmp = mkdtempSync(join(tmpdir(), 'hanet-pkg-'));
  const src = join(tmp, 'src');
  // A copy of the checkout (not its builds), so packing cleans and rebuilds dist/ there and not under running tests.
  const skip = new Set(['node_modules', 'dist', 'build', 'prebuilds', '.git', 'bench/out']);
  cpSync(repo, src, { recursive: true, filter: (p) => { const r = relative(repo, p); return !skip.has(r) && !r.endsWith('.tgz'); } });
  symlinkSync(join(repo, 'node_modules'), join(src, 'node_modules'));

  let t0 = performance.now();
  const out = join(tmp, 'out');
  mkdirSync(out);
  const pack = run([process.execPath, npmCli(), 'pack', '--json', '--pack-destination', out], { cwd: src, env: cleanEnv({}) });
  assert.equal(pack.status, 0, `npm pack failed:\n${pack.stderr.slice(-3000)}`);
  const report = (JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{ filename: string; size: number; unpackedSize: number; files: Array<{ path: string }> }>)[0]!;
  const packTime = ms(t0);

  // A PATH with node and nothing else: no g++, make, python3 or npm's node-gyp.
  const pathDir = join(tmp, 'path');
  mkdirSync(pathDir);
  symlinkSync(process.execPath, join(pathDir, 'node'));
  const prefix = join(tmp, 'prefix');
  t0 = performance.now();
  const tarball = join(out, report.filename);
  const install = run([process.execPath, npmCli(), 'install', '-g', '--prefix', prefix, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', tarball],
    { cwd: tmp, env: cleanEnv({ PATH: pathDir }) });
  assert.equal(install.status, 0, `npm install of the tarball failed:\n${install.stderr.slice(-3000)}`);
  const pkgDir = join(prefix, 'lib', 'node_modules', pkgJson.name);
  inst = { tmp, tarball, pkgDir, bin: join(prefix, 'bin', 'hanet'), pathDir, files: report.files.map((f) => f.path).sort(), size: report.size, unpacked: report.unpackedSize };
  process.stderr.write(`# package: npm pack ${packTime}, install ${ms(t0)}; ${report.filename} ${report.size} bytes, ${report.unpackedSize} unpacked, ${report.files.length} files\n`);
});

after(() => { if (inst) rmSync(inst.tmp, { recursive: true, force: true }); });

const hanet = (args: string[]): SpawnSyncReturns<string> => run([inst!.bin, ...args], { cwd: inst!.tmp, env: cleanEnv({ PATH: inst!.pathDir }) });

test('the tarball holds what runs and what operators read, and nothing that compiles at install', (t) => {
  const files = inst!.files;
  t.diagnostic(`${files.length} files, ${inst!.size} bytes packed, ${inst!.unpacked} unpacked`);
  for (const f of ['bin/hanet.js', 'dist/src/cli/main.js', 'docs/install.md', 'examples/hanet.service', 'examples/hanet.yaml', 'README.md']) assert.ok(files.includes(f), `${f} in the package`);
  assert.ok(files.some((f) => /^prebuilds\/linux-x64\/.*\.node$/.test(f)), `a linux-x64 prebuild in ${files.filter((f) => f.startsWith('prebuilds')).join(', ')}`);
  const stray = files.filter((f) => /^(test|bench|scripts|\.ci|build|dist\/test|dist\/bench)\//.test(f) || f.endsWith('.map') || f.endsWith('.ts'));
  assert.deepEqual(stray, [], 'no tests, bench, CI scripts, builds, sources or maps');
  const manifest = JSON.parse(readFileSync(join(inst!.pkgDir, 'package.json'), 'utf8')) as { scripts?: Record<string, string>; gypfile?: boolean };
  for (const s of ['preinstall', 'install', 'postinstall']) assert.equal(manifest.scripts?.[s], undefined, `no ${s} script`);
  // npm adds `node-gyp rebuild` as the install script of any package with a binding.gyp, unless gypfile is false.
  if (files.includes('binding.gyp')) assert.equal(manifest.gypfile, false, 'binding.gyp ships for source builds only: gypfile false');
});

test('the installed hanet runs with no compiler on PATH: --version, check on the example config, doctor, service install', (t) => {
  for (const tool of ['g++', 'cc', 'make', 'python3', 'node-gyp']) assert.ok(!existsSync(join(inst!.pathDir, tool)), `${tool} not on the install PATH`);
  assert.ok(!existsSync(join(inst!.pkgDir, 'build')), 'nothing was compiled at install (no build/)');

  const v = hanet(['--version']);
  assert.equal(v.status, 0, v.stderr);
  assert.equal(v.stdout.trim(), pkgJson.version);

  const key = join(inst!.tmp, 'cluster.key');
  const k = hanet(['key', 'generate', '--out', key]);
  assert.equal(k.status, 0, k.stderr);
  const cfg = join(inst!.tmp, 'hanet.yaml');
  const example = readFileSync(join(inst!.pkgDir, 'examples', 'hanet.yaml'), 'utf8');
  assert.match(example, /^key_file: .*$/m);
  writeFileSync(cfg, example.replace(/^key_file: .*$/m, `key_file: ${key}`));
  const c = hanet(['check', '-c', cfg]);
  assert.equal(c.status, 0, c.stderr);
  assert.match(c.stdout, /^ok: node web1/);

  const d = hanet(['doctor', '--json']);
  assert.ok(d.status === 0 || d.status === 1, `doctor exits 0 or 1, not ${d.status}: ${d.stderr}`);
  const report = JSON.parse(d.stdout) as { version: number; ok: boolean; findings: Array<{ id: string; severity: string; message: string }> };
  assert.equal(report.version, 1);
  assert.equal(report.ok, d.status === 0, 'exit status says whether anything blocks');
  const addon = report.findings.find((f) => f.id === 'native-addon');
  assert.equal(addon?.severity, 'ok', `the prebuilt addon loads from the installed package: ${addon?.message}`);
  for (const id of ['privileges', 'tun', 'proxy-arp', 'keepalived', 'network-manager', 'systemd-networkd', 'clock']) assert.ok(report.findings.some((f) => f.id === id), `finding ${id}`);
  t.diagnostic(`doctor: ${report.findings.filter((f) => f.severity !== 'ok').map((f) => `${f.severity} ${f.id}`).join(', ') || 'clean'}`);

  const s = hanet(['service', 'install', '--dry-run', '-c', cfg]);
  assert.equal(s.status, 0, s.stderr);
  const main = join(realpathSync(inst!.pkgDir), 'bin', 'hanet.js');
  assert.ok(s.stdout.includes(`ExecStart=${process.execPath} ${main} run -c ${cfg}`), `ExecStart runs the installed package:\n${s.stdout}`);
  assert.ok(s.stdout.includes(`ExecStartPre=${process.execPath} ${main} check -c ${cfg}`));
  const root = join(inst!.tmp, 'root');
  const w = hanet(['service', 'install', '--root', root, '-c', cfg]);
  assert.equal(w.status, 0, w.stderr);
  assert.equal(readFileSync(join(root, 'etc/systemd/system/hanet.service'), 'utf8'), s.stdout.slice(s.stdout.indexOf('\n') + 1));
});

test('lab failover with the installed binary: a\'s port cut under load, b takes over, nothing lost', async (t) => {
  if (!requireRoot(t)) return;
  const main = join(inst!.pkgDir, 'bin', 'hanet.js');
  process.env.HANET_BIN = main;
  try {
    await withCluster(t, { name: 'lpkg', topology: 'pair' }, async (lab, c) => {
      // The daemons are the installed package's (the lab starts `node $HANET_BIN run ...`).
      const daemons = readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
        try { return readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').includes(main); } catch { return false; }
      });
      assert.ok(daemons.length >= 2, `daemons run from ${main} (${daemons.length})`);
      const wl = await startWorkload(lab, { server: 'a', address: '10.0.0.11' });
      await delay(500); // a baseline before the cut (a timeline, not synchronisation)
      await lab.fail('a:eth0', 'carrier');
      const s = await c.waitFor('a', (x) => x.claims.some((cl) => cl.acked), { what: 'takeover acknowledged' });
      assert.equal(s.claims[0]?.helper, 'b');
      await delay(500);
      await lab.heal('a:eth0');
      await c.waitFor('a', (x) => x.claims.length === 0 && x.publics.every((p) => p.placement.kind === 'own' && p.health.healthy), { timeoutMs: 15_000, what: 'failback' });
      const r = await wl.stop();
      t.diagnostic(`installed binary: requests ${r.requests}, max gap ${r.max_gap_ms.toFixed(1)} ms`);
      assert.ok(r.requests > 50, `the workload ran (${r.requests})`);
      assert.equal(r.failed, 0, 'failed requests');
      assert.equal(r.broken_connections, 0, 'broken connections');
      assert.equal(r.inflight_lost, 0, 'in-flight requests lost');
      assert.equal(r.stream_verified, true, 'byte stream');
    });
  } finally {
    delete process.env.HANET_BIN;
  }
});
