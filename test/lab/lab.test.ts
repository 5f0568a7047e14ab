// Lab tests of the namespace lab on the real kernel: reachability, the three failure modes and heal, teardown
// (also of processes and of a killed `hanet lab up`). Root needed. Lab names here start with `lt`.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readlinkSync, watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { requireRoot, waitFor } from '../helpers.js';
import { isHanetError } from '../../src/errors.js';
import { isLabError } from '../../src/lab/errors.js';
import { hanetArgv, labDown, labStatus, labUp, listNamespaces, openLab, pidsInNamespaces, serialTtyPath, statePath, type FailureMode, type LabHandle } from '../../src/lab/lab.js';
import { defaultTopology, type Topology } from '../../src/lab/topology.js';
import { isRelay } from '../../src/lab/serial-relay.js';

const nsOf = async (lab: string) => (await listNamespaces()).filter((n) => n.startsWith(`hn-${lab}-`));

/** Runs `fn` on a fresh lab and always takes it down. */
async function withLab(t: TestContext, name: string, fn: (lab: LabHandle) => Promise<void>, topo: Topology = defaultTopology('pair')): Promise<void> {
  if (!requireRoot(t)) return;
  const t0 = performance.now();
  const lab = await labUp(topo, { name, replace: true });
  t.diagnostic(`up ${topo.name ?? ''} in ${(performance.now() - t0).toFixed(0)} ms`);
  try {
    await fn(lab);
  } finally {
    const t1 = performance.now();
    await lab.down();
    t.diagnostic(`down in ${(performance.now() - t1).toFixed(0)} ms`);
    assert.deepEqual(await nsOf(name), [], 'down leaves no namespace');
  }
}

const linkFlags = async (lab: LabHandle, node: string, ifname: string): Promise<string[]> => {
  const r = await lab.exec(node, ['ip', '-j', 'link', 'show', ifname], { check: true });
  return (JSON.parse(r.stdout) as Array<{ flags: string[] }>)[0]!.flags;
};

const reach = (lab: LabHandle, from: string, to: string) => lab.probe(from, to, { timeoutMs: 500 });

describe('lab', () => {
  it('pair: c reaches both servers, a reaches b over the private link', (t) =>
    withLab(t, 'ltr', async (lab) => {
      assert.equal(lab.ns('a'), 'hn-ltr-a');
      assert.equal(await reach(lab, 'c', '10.0.0.11'), true, 'c -> a');
      assert.equal(await reach(lab, 'c', '10.0.0.12'), true, 'c -> b');
      assert.equal(await reach(lab, 'a', '192.168.100.2'), true, 'a -> b private');
      assert.equal(await reach(lab, 'b', '192.168.100.1'), true, 'b -> a private');
      assert.equal(await reach(lab, 'c', '10.0.0.99'), false, 'nobody at 10.0.0.99');
      const fwd = await lab.exec('r', ['cat', '/proc/sys/net/ipv4/ip_forward'], { check: true });
      assert.equal(fwd.stdout.trim(), '1', 'router forwards');
      const lo = await linkFlags(lab, 'sw', 'lo');
      assert.ok(lo.includes('UP'), 'lo is up');
      const br = await lab.exec('sw', ['ip', '-j', '-d', 'link', 'show', 'br0'], { check: true });
      const info = (JSON.parse(br.stdout) as Array<{ linkinfo: { info_data: { stp_state: number; forward_delay: number } } }>)[0]!.linkinfo.info_data;
      assert.equal(info.stp_state, 0);
      assert.equal(info.forward_delay, 0);
    }));

  for (const mode of ['carrier', 'silent', 'admin'] as FailureMode[]) {
    it(`fail a:eth0 ${mode}, then heal`, (t) =>
      withLab(t, `lt${mode.slice(0, 3)}`, async (lab) => {
        assert.equal(await reach(lab, 'c', '10.0.0.11'), true, 'before');
        await lab.fail('a:eth0', mode);
        assert.equal(await reach(lab, 'c', '10.0.0.11'), false, 'c -> a fails');
        assert.equal(await reach(lab, 'c', '10.0.0.12'), true, 'c -> b still works');
        assert.equal(await reach(lab, 'a', '192.168.100.2'), true, 'private link unaffected');
        const flags = await linkFlags(lab, 'a', 'eth0');
        if (mode === 'carrier') assert.ok(flags.includes('UP') && !flags.includes('LOWER_UP'), `a sees NO-CARRIER: ${flags}`);
        if (mode === 'silent') assert.ok(flags.includes('UP') && flags.includes('LOWER_UP'), `a still sees UP,LOWER_UP: ${flags}`);
        if (mode === 'admin') assert.ok(!flags.includes('UP'), `a's eth0 is down: ${flags}`);
        const st = (await labStatus()).labs.find((l) => l.name === lab.name);
        assert.deepEqual(st?.failures, [{ port: 'a:eth0', mode }], 'status shows the failure');

        // Heal through a second handle, as another process (`hanet lab heal`) would.
        const other = await openLab(lab.name);
        await other.heal('a:eth0');
        await waitFor(() => reach(lab, 'c', '10.0.0.11'), { timeoutMs: 10_000, what: 'c -> a after heal' });
        const routes = await lab.exec('a', ['ip', '-j', 'route', 'show', 'default'], { check: true });
        assert.match(routes.stdout, /10\.0\.0\.1/, 'default route restored');
        assert.deepEqual((await labStatus()).labs.find((l) => l.name === lab.name)?.failures, []);
      }));
  }

  it('fail is idempotent, switches modes, and rejects carrier/silent on a point-to-point port', (t) =>
    withLab(t, 'ltmode', async (lab) => {
      await lab.fail('a:eth0', 'silent');
      await lab.fail('a:eth0', 'silent');
      await lab.fail('a:eth0', 'carrier'); // undoes silent first
      const flags = await linkFlags(lab, 'a', 'eth0');
      assert.ok(!flags.includes('LOWER_UP'), 'now carrier mode');
      const br = await lab.exec('sw', ['ip', '-j', 'link', 'show', 'a-eth0'], { check: true });
      assert.equal((JSON.parse(br.stdout) as Array<{ master?: string }>)[0]!.master, 'br0', 'back on the bridge');
      await assert.rejects(lab.fail('a:eth1', 'carrier'), (e) => isLabError(e) && /not plugged into a switch/.test(e.message));
      await assert.rejects(lab.fail('a:eth9', 'admin'), (e) => isLabError(e) && /no port "eth9"/.test(e.message));
      await lab.fail('a:eth1', 'admin');
      assert.equal(await reach(lab, 'a', '192.168.100.2'), false, 'private link down');
      await Promise.all([lab.fail('b:eth0', 'silent'), lab.fail('r:eth1', 'carrier')]);
      assert.deepEqual(
        (await labStatus()).labs.find((l) => l.name === lab.name)?.failures.sort((x, y) => x.port.localeCompare(y.port)),
        [{ port: 'a:eth0', mode: 'carrier' }, { port: 'a:eth1', mode: 'admin' }, { port: 'b:eth0', mode: 'silent' }, { port: 'r:eth1', mode: 'carrier' }],
        'concurrent fails are all recorded',
      );
      await Promise.all(['a:eth1', 'a:eth0', 'b:eth0', 'r:eth1'].map((p) => lab.heal(p)));
      assert.deepEqual((await labStatus()).labs.find((l) => l.name === lab.name)?.failures, []);
      await waitFor(() => reach(lab, 'a', '192.168.100.2'), { timeoutMs: 10_000, what: 'private link back' });
      await waitFor(() => reach(lab, 'c', '10.0.0.11'), { timeoutMs: 10_000, what: 'public port back' });
    }));

  it('exec returns code/stdout/stderr, check throws with stderr, timeouts give 124', (t) =>
    withLab(t, 'ltexec', async (lab) => {
      const r = await lab.exec('a', ['sh', '-c', 'cat; echo oops >&2; exit 3'], { input: 'hello' });
      assert.deepEqual(r, { code: 3, stdout: 'hello', stderr: 'oops\n' });
      await assert.rejects(lab.exec('a', ['sh', '-c', 'echo bad thing >&2; exit 1'], { check: true }), (e) => isLabError(e) && e.message.includes('bad thing'));
      const slow = await lab.exec('a', ['sleep', '10'], { timeoutMs: 100 });
      assert.equal(slow.code, 124);
      await assert.rejects(lab.exec('a', ['sleep', '10'], { timeoutMs: 100, check: true }), (e) => isHanetError(e, 'HANET_ERR_TIMEOUT'));
      const hostname = await lab.exec('b', ['ip', '-br', 'addr', 'show', 'eth0'], { check: true });
      assert.match(hostname.stdout, /10\.0\.0\.12\/24/);
      assert.throws(() => lab.ns('zz'), (e) => isLabError(e));
      const v = await lab.exec('a', [...hanetArgv(), '--version'], { check: true });
      assert.equal(v.stdout.trim(), '0.1.0');
    }));

  it('down kills processes inside the namespaces (spawned by the handle or not)', (t) =>
    withLab(t, 'ltproc', async (lab) => {
      const mine = lab.spawn('a', ['sleep', '1000'], { stdio: 'ignore' });
      // A process started by someone else, ignoring SIGTERM: down must escalate to SIGKILL.
      const foreign = spawn('ip', ['netns', 'exec', lab.ns('b'), 'sh', '-c', 'trap "" TERM; sleep 1000 & wait'], { stdio: 'ignore', detached: true });
      const names = await nsOf(lab.name);
      await waitFor(async () => (await pidsInNamespaces(names)).length >= 3, { what: 'processes started' });
      const exits = [mine, foreign].map((c) => new Promise((r) => c.once('exit', r)));
      const t0 = performance.now();
      await labDown({ name: lab.name });
      t.diagnostic(`down with a TERM-ignoring process: ${(performance.now() - t0).toFixed(0)} ms`);
      await Promise.all(exits);
      assert.deepEqual(await nsOf(lab.name), []);
    }));

  it('up refuses an existing lab unless replace, and cleans up after a failure midway', async (t) => {
    if (!requireRoot(t)) return;
    const name = 'ltrep';
    try {
      await labUp(defaultTopology('pair'), { name });
      await assert.rejects(labUp(defaultTopology('pair'), { name }), (e) => isLabError(e) && /exists/.test(e.message));
      const lab = await labUp(defaultTopology('trio'), { name, replace: true });
      assert.deepEqual((await nsOf(name)).length, 6);
      assert.equal(await reach(lab, 'd', '192.168.102.1'), true, 'trio d -> b private');
      assert.equal(await reach(lab, 'c', '10.0.0.13'), true, 'trio c -> d');
    } finally {
      await labDown({ name });
    }
    assert.deepEqual(await nsOf(name), []);
    assert.equal(existsSync(statePath(name)), false);

    // A multicast MAC passes validation's format check but the kernel refuses it, after the namespaces exist.
    const bad = structuredClone(defaultTopology('pair'));
    bad.nodes.b!.ports[1]!.mac = '01:00:5e:00:00:01';
    await assert.rejects(labUp(bad, { name: 'ltbad' }), (e) => isLabError(e) && /line \d+: link add eth1 netns hn-ltbad-a/.test(e.message));
    assert.deepEqual(await nsOf('ltbad'), [], 'nothing left after a failed up');
    assert.equal(existsSync(statePath('ltbad')), false);

    const serial = structuredClone(defaultTopology('pair'));
    serial.nodes.a!.ports.push({ name: 'ser0', addresses: [] });
    serial.nodes.b!.ports.push({ name: 'ser0', addresses: [] });
    serial.links.push({ kind: 'serial', baud: 115200, ends: ['a:ser0', 'b:ser0'] });
    // A serial link: a relay process (pid in the state) behind two tty symlinks; unplug/plug replace it; down ends it.
    const sl = await labUp(serial, { name: 'ltser' });
    const relayOf = async () => (JSON.parse(await readFile(statePath('ltser'), 'utf8')) as { serial: Record<string, { pid: number; ttys: string[] }> }).serial['a:ser0']!;
    const r1 = await relayOf();
    assert.ok(isRelay(r1.pid), 'relay running');
    assert.match(readlinkSync(serialTtyPath('ltser', 'a', 'ser0')), /^\/dev\/pts\/\d+$/);
    await sl.unplug('b:ser0');
    assert.equal(isRelay(r1.pid), false, 'unplug (hangup) ends the relay');
    await sl.plug('a:ser0');
    const r2 = await relayOf();
    assert.ok(r2.pid !== r1.pid && isRelay(r2.pid), 'plug starts a new one');
    await sl.down();
    assert.equal(isRelay(r2.pid), false, 'down ends it');
    assert.deepEqual(await nsOf('ltser'), []);
    await assert.rejects(openLab('ltser'), (e) => isLabError(e) && /not up/.test(e.message));
  });

  it('dual: a answers on both public ports', (t) =>
    withLab(t, 'ltdual', async (lab) => {
      assert.equal(await reach(lab, 'c', '10.0.0.21'), true);
      assert.equal(await reach(lab, 'c', '10.0.0.11'), true);
      assert.ok((await linkFlags(lab, 'sw', 'a-eth2')).includes('LOWER_UP'));
    }, defaultTopology('dual')));

  it('a killed `hanet lab up` leaves nothing that labDown({ name }) does not remove', async (t) => {
    if (!requireRoot(t)) return;
    const name = 'ltkill';
    await labDown({ name });
    try {
      const [node, main] = hanetArgv() as [string, string];
      const first = new Promise<void>((resolve) => {
        const w = watch('/run/netns', () => {
          if (existsSync(`/run/netns/hn-${name}-c`)) (w.close(), resolve());
        });
      });
      const child = spawn(node, [main, 'lab', 'up', '--name', name], { stdio: 'ignore' });
      const exited = new Promise((r) => child.once('exit', r));
      await first;
      child.kill('SIGKILL');
      await exited;
      t.diagnostic(`left behind: ${(await nsOf(name)).join(' ') || 'no namespaces'}; state file ${existsSync(statePath(name)) ? 'present' : 'absent'}`);
      assert.ok(existsSync(statePath(name)), 'the state file was written before the first namespace');
      assert.ok((await labStatus()).labs.some((l) => l.name === name), 'status lists the broken lab');
    } finally {
      await labDown({ name });
    }
    assert.deepEqual(await nsOf(name), []);
    assert.equal(existsSync(statePath(name)), false);
  });
});
