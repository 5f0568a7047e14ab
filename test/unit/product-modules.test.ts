// The product commands load only the product: neither the static import graph of the CLI nor a real `hanet
// check` / `hanet run` reaches a module of the lab (src/lab), the benchmarks (bench/) or the tests (test/).
// The lab, workload and demo commands import their implementation inside their actions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const DIST = fileURLToPath(new URL('../../', import.meta.url)); // dist/
const REPO = resolve(DIST, '..');
const MAIN = join(DIST, 'src/cli/main.js');
const HANET = join(REPO, 'bin/hanet.js');

/** Paths (relative to dist/) that the product must not load. */
const NOT_PRODUCT = [/^src\/lab\//, /^bench\//, /^test\//];
const notProduct = (files: Iterable<string>): string[] => [...files].filter((f) => NOT_PRODUCT.some((re) => re.test(f))).sort();

// tsc's output keeps every static import as a top-level `import ... from '...'` / `export ... from '...'` /
// `import '...'` statement; `import()` calls (lazy loading) do not match.
const STATIC_IMPORT = /^\s*(?:import|export)\s[^;'"]*?\sfrom\s*['"]([^'"]+)['"]|^\s*import\s*['"]([^'"]+)['"]/gm;

/** The compiled modules reachable from `entry` through static imports, relative to dist/. */
function staticGraph(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    const rel = relative(DIST, file);
    if (seen.has(rel)) continue;
    seen.add(rel);
    for (const m of readFileSync(file, 'utf8').matchAll(STATIC_IMPORT)) {
      const spec = (m[1] ?? m[2])!;
      if (!spec.startsWith('.')) continue; // node: builtins and packages
      const target = resolve(dirname(file), spec);
      assert.ok(existsSync(target), `${rel} imports ${spec}, which does not exist`);
      todo.push(target);
    }
  }
  return seen;
}

test('static imports: the CLI entry reaches the daemon and the config, but no lab, bench or test module', () => {
  const graph = staticGraph(MAIN);
  for (const product of ['src/daemon/run.js', 'src/config/load.js', 'src/cli/config.js', 'src/errors.js', 'src/version.js'])
    assert.ok(graph.has(product), `the walk reaches ${product} (sanity check of the import parser)`);
  assert.deepEqual(notProduct(graph), [], 'modules reachable from dist/src/cli/main.js through static imports');
});

test('static imports: the parser sees through re-exports and multi-line imports (it would catch a lab import)', () => {
  // The lab's own entry reaches its topology (multi-line import) and the workload (re-exports).
  const graph = staticGraph(join(DIST, 'src/lab/demo.js'));
  for (const lab of ['src/lab/topology.js', 'src/lab/workload/client.js', 'src/lab/topologies/pair.js']) assert.ok(graph.has(lab), lab);
});

/** Runs `hanet ...args` with a resolve hook; returns its exit status, output and the dist/ modules it loaded. */
function runRecorded(args: string[]): { status: number | null; stdout: string; stderr: string; loaded: Set<string> } {
  const dir = mkdtempSync(join(tmpdir(), 'hanet-modules-'));
  try {
    const log = join(dir, 'loaded.txt');
    writeFileSync(log, '');
    const hooks = pathToFileURL(join(DIST, 'test/load-recorder.js')).href;
    const register = `import { register } from 'node:module'; register(${JSON.stringify(hooks)}, { data: { logFile: ${JSON.stringify(log)} } });`;
    const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, HANET, ...args], { encoding: 'utf8', timeout: 30_000 });
    const loaded = new Set(
      readFileSync(log, 'utf8')
        .split('\n')
        .filter((u) => u.startsWith('file:'))
        .map((u) => relative(DIST, fileURLToPath(u)))
        .filter((f) => !f.startsWith('..')),
    );
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, loaded };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A valid configuration (the example's, with a key file that exists) in a temporary directory. */
function exampleConfig(dir: string): string {
  const key = join(dir, 'cluster.key');
  writeFileSync(key, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
  const text = readFileSync(join(REPO, 'examples/hanet.yaml'), 'utf8').replace(/^key_file: .*$/m, `key_file: ${key}`);
  assert.ok(text.includes(`key_file: ${key}`), 'the example names its key file on a `key_file:` line');
  const path = join(dir, 'hanet.yaml');
  writeFileSync(path, text);
  return path;
}

test('`hanet check` loads no lab, bench or test module', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hanet-check-'));
  try {
    const r = runRecorded(['check', '-c', exampleConfig(dir)]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ok: node web1/);
    assert.ok(r.loaded.has('src/config/load.js'), `the hook saw the config loader; loaded: ${[...r.loaded].join(' ')}`);
    assert.deepEqual(notProduct(r.loaded), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('`hanet run` loads no lab, bench or test module (up to its first error: no config file)', () => {
  const r = runRecorded(['run', '-c', join(tmpdir(), 'hanet-no-such-config.yaml')]);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /HANET_ERR_(CONFIG|PERMISSION)/);
  assert.ok(r.loaded.has('src/daemon/run.js') && r.loaded.has('src/daemon/daemon.js'), 'the daemon modules were loaded');
  assert.deepEqual(notProduct(r.loaded), []);
});

test('`hanet --help` lists the lab and demo commands without loading them; `hanet lab topology` does load the lab', () => {
  const help = runRecorded(['--help']);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^\s+lab\b/m);
  assert.match(help.stdout, /^\s+demo \[options\]/m);
  assert.deepEqual(notProduct(help.loaded), []);
  // Positive control: the hook records lab modules when a lab command really runs.
  const topo = runRecorded(['lab', 'topology', 'pair']);
  assert.equal(topo.status, 0, topo.stderr);
  assert.ok(topo.loaded.has('src/lab/topology.js'), `loaded: ${[...topo.loaded].join(' ')}`);
});
