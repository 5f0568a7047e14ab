// The running cluster of the lab (`hanet lab up --run`, `lab status`, `lab stop`, `lab down`), through the CLI as an
// operator uses it: the daemons outlive the command that started them, are listed with their pids, answer
// `hanet status`, and are stopped by `lab stop` and by `lab down`. Root needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { requireRoot } from '../helpers.js';
import { daemonAlive } from '../../src/lab/daemon-proc.js';
import { readState } from '../../src/lab/state.js';

const HANET = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
const hanet = (...args: string[]) => {
  const r = spawnSync(process.execPath, [HANET, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('hanet lab up --run: daemons outlive the command, answer status, and lab stop / lab down stop them', async (t) => {
  if (!requireRoot(t)) return;
  const name = 'clirun';
  try {
    const up = hanet('lab', 'up', '-t', 'pair', '-n', name, '--run');
    assert.equal(up.code, 0, up.err);
    assert.match(up.out, /hanet runs on a, b/);
    const daemons = Object.values((await readState(name))?.cluster?.daemons ?? {});
    assert.equal(daemons.length, 2);
    assert.ok(daemons.every(daemonAlive), 'running after the command exited');
    const st = hanet('lab', 'status');
    assert.match(st.out, /hanet on a +pid \d+ +running/);
    const s = hanet('status', '-c', `/run/hanet-lab/${name}/cluster/a.yaml`, '--json');
    assert.equal(s.code, 0, s.err);
    assert.equal(JSON.parse(s.out).ready, true);
    const stop = hanet('lab', 'stop', '-n', name);
    assert.equal(stop.code, 0, stop.err);
    assert.ok(daemons.every((d) => !daemonAlive(d)), 'lab stop stopped them');
    assert.equal(hanet('lab', 'run', '-n', name).code, 0);
    const again = Object.values((await readState(name))?.cluster?.daemons ?? {});
    assert.ok(again.length === 2 && again.every(daemonAlive));
    assert.equal(hanet('lab', 'down', name).code, 0);
    assert.ok(again.every((d) => !daemonAlive(d)), 'lab down stopped them');
  } finally {
    hanet('lab', 'down', name);
  }
});
