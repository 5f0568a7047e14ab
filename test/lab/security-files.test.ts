// `hanet run` refuses to start when a file root trusts can be changed (or the key read) by others, naming the file
// and the fix: the configuration (it names the hook root runs), the key (it authenticates takeovers), the hook.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { requireRoot } from '../helpers.js';

const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const example = readFileSync(fileURLToPath(new URL('../../../examples/hanet.yaml', import.meta.url)), 'utf8');

function setup(): { dir: string; config: string; key: string; hook: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hanet-files-'));
  chmodSync(dir, 0o755);
  const key = join(dir, 'cluster.key');
  const hook = join(dir, 'notify.sh');
  writeFileSync(key, `${'ab'.repeat(32)}\n`, { mode: 0o600 });
  writeFileSync(hook, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  const config = join(dir, 'hanet.yaml');
  // The example, pointed at our key and hook, on a control socket nobody else uses, no metrics port.
  const doc = parse(example) as Record<string, unknown>;
  Object.assign(doc, { key_file: key, control_socket: join(dir, 'hanet.sock'), notify: { command: hook }, metrics: { enabled: false } });
  writeFileSync(config, stringify(doc), { mode: 0o644 });
  return { dir, config, key, hook };
}

/** `hanet run` in a new, empty network namespace of its own: whatever it gets to do never touches the root namespace. */
const run = (config: string) => spawnSync('unshare', ['--net', process.execPath, main, 'run', '-c', config], { encoding: 'utf8', timeout: 20_000 });

const cases: Array<{ name: string; plant: (f: ReturnType<typeof setup>) => void; want: RegExp }> = [
  { name: 'a configuration writable by others', plant: (f) => chmodSync(f.config, 0o666), want: /config .*hanet\.yaml has mode 0666.*chmod go-w/ },
  { name: 'a configuration owned by another user', plant: (f) => chownSync(f.config, 65534, 65534), want: /config .*owned by uid 65534.*chown root:root/ },
  { name: 'a key readable by group', plant: (f) => chmodSync(f.key, 0o640), want: /key .*cluster\.key has mode 0640.*chmod 600/ },
  { name: 'a key owned by another user', plant: (f) => chownSync(f.key, 65534, 65534), want: /key .*owned by uid 65534/ },
  { name: 'a hook writable by others', plant: (f) => chmodSync(f.hook, 0o777), want: /hook .*notify\.sh has mode 0777/ },
  { name: 'a hook in a directory others can write', plant: (f) => chmodSync(f.dir, 0o777), want: /directory .* has mode 0777/ },
];

for (const c of cases) {
  test(`hanet run refuses to start with ${c.name}, naming the file and the fix`, (t) => {
    if (!requireRoot(t)) return;
    const f = setup();
    try {
      c.plant(f);
      const r = run(f.config);
      assert.notEqual(r.status, 0, r.stdout);
      assert.match(r.stderr, /HANET_ERR_PERMISSION: refusing to start/);
      assert.match(r.stderr, c.want);
    } finally {
      rmSync(f.dir, { recursive: true, force: true });
    }
  });
}

test('with safe files, hanet run gets past the file checks (it then fails on the example\'s interfaces, not on files)', (t) => {
  if (!requireRoot(t)) return;
  const f = setup();
  try {
    const res = run(f.config);
    assert.notEqual(res.status, 0);
    assert.doesNotMatch(res.stderr, /refusing to start/);
    assert.match(res.stderr, /eth0|interface/i, res.stderr);
  } finally {
    rmSync(f.dir, { recursive: true, force: true });
  }
});
