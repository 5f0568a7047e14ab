// `hanet lab ...`: thin commands over src/lab (up, down, status, exec, fail, heal, topology).
// Other modules add subcommands to the same `lab` command through `labCommand(program)` or extra registrars.
// Registering loads nothing of src/lab (the help's data is in lab-options.ts): each action imports what it runs.
import { existsSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { Command, Option } from 'commander';
import type { Topology } from '../lab/topology.js';
import { DEFAULT_LAB, DEFAULT_TOPOLOGY, EMBEDDED_TOPOLOGY_NAMES, FAILURE_MODES, type FailureMode } from './lab-options.js';

/** A function that adds subcommands to the `lab` command (e.g. the workload's `lab load`). */
export type LabCommandRegistrar = (lab: Command) => void;

/** The `lab` command of `program`, created on first use; add subcommands to it with `.command(...)`. */
export function labCommand(program: Command): Command {
  const existing = program.commands.find((c) => c.name() === 'lab');
  if (existing) return existing;
  return program
    .command('lab')
    .description('network-namespace lab: build a topology of namespaces, inject port failures, run commands in nodes')
    .enablePositionalOptions(); // lets `lab exec` pass options through to the command it runs
}

/** `--topology` value: an embedded topology name (unless a file of that name exists) or a YAML file. */
export async function resolveTopology(spec: string | undefined): Promise<Topology> {
  const { defaultTopology, embeddedTopologyNames, loadTopologyFile } = await import('../lab/topology.js');
  const s = spec ?? DEFAULT_TOPOLOGY;
  if (embeddedTopologyNames().includes(s) && !existsSync(s)) return defaultTopology(s);
  return loadTopologyFile(s);
}

/** The options that generate an N-server topology instead of naming one (`lab up`, `lab topology`). */
export interface GenerateFlags { servers?: string; links?: string; fabric?: string; racks?: string; ipv6?: boolean }
const addGenerateOptions = (c: Command): Command => c
  .option('--servers <n>', 'generate a cluster of n servers n1..nN instead (with --links, --fabric, --racks, --ipv6)')
  .option('--links <graph>', 'generated: the private-link graph: ring, ring:K (each to the next K), chain, pairs, star, full', 'ring')
  .option('--fabric <l2|l3>', 'generated: one public LAN behind router r (l2), or racks behind BGP ToRs and a spine (l3)', 'l2')
  .option('--racks <k>', 'generated l3: number of racks (default 4)')
  .option('--ipv6', 'generated l2: dual-stack');

/** The topology the flags name: generated when --servers is given, else `--topology` (a name or a file). */
export async function topologyFromFlags(spec: string | undefined, g: GenerateFlags): Promise<Topology> {
  const { LabError } = await import('../lab/errors.js');
  if (g.servers === undefined) {
    if (g.ipv6 || g.racks !== undefined) throw new LabError('--ipv6 and --racks go with --servers (a generated topology)');
    return resolveTopology(spec);
  }
  if (spec !== undefined) throw new LabError('--servers generates the topology: not with --topology');
  if (g.fabric !== 'l2' && g.fabric !== 'l3') throw new LabError(`--fabric must be l2 or l3 (got ${JSON.stringify(g.fabric)})`);
  const num = (v: string | undefined, what: string): number | undefined => {
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v)) throw new LabError(`${what} must be a whole number (got ${JSON.stringify(v)})`);
    return Number(v);
  };
  const { generateTopology } = await import('../lab/topologies/generate.js');
  const racks = num(g.racks, '--racks');
  return generateTopology({ servers: num(g.servers, '--servers')!, mode: g.fabric, links: g.links ?? 'ring', ...(racks !== undefined ? { racks } : {}), ipv6: g.ipv6 === true });
}

/** `-n, --name <lab>`, shared by the lab's subcommands. */
export const labNameOption = (): Option => new Option('-n, --name <lab>', 'lab name ([a-z0-9]{1,8})').default(DEFAULT_LAB);

let stdoutGuarded = false;
/** Prints a line; a closed stdout (`hanet lab status | head -1`) ends the process quietly instead of crashing. */
const print = (s: string): void => {
  if (!stdoutGuarded) {
    stdoutGuarded = true;
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  process.stdout.write(s.endsWith('\n') ? s : s + '\n');
};

export function registerLabCommands(program: Command, ...extensions: LabCommandRegistrar[]): Command {
  const lab = labCommand(program);

  addGenerateOptions(lab
    .command('up')
    .description(`build a lab (default topology "${DEFAULT_TOPOLOGY}", name "${DEFAULT_LAB}"), or generate one of N servers (--servers)`)
    .option('-t, --topology <file|name>', `topology YAML file, or an embedded topology: ${EMBEDDED_TOPOLOGY_NAMES.join(', ')}`))
    .addOption(labNameOption())
    .option('--replace', 'take down an existing lab of that name first')
    .option('--run', 'then start hanet on its servers (as `hanet lab run`)')
    .action(async (o: GenerateFlags & { topology?: string; name: string; replace?: boolean; run?: boolean }) => {
      const { labUp, requireRootPrivileges } = await import('../lab/lab.js');
      requireRootPrivileges('hanet lab up');
      const t = await topologyFromFlags(o.topology, o);
      const t0 = performance.now();
      const h = await labUp(t, { name: o.name, replace: o.replace === true });
      const ms = performance.now() - t0;
      print(`lab "${h.name}" up (topology ${t.name ?? o.topology ?? DEFAULT_TOPOLOGY}) in ${ms.toFixed(0)} ms`);
      for (const [node, n] of Object.entries(t.nodes)) {
        const addrs = n.ports.flatMap((p) => p.addresses.map((a) => `${p.name} ${a}`)).join(', ');
        print(`  ${node.padEnd(4)} ${n.role.padEnd(7)} ${h.ns(node).padEnd(14)} ${addrs}`);
      }
      print(`run a command in a node: hanet lab exec ${Object.keys(t.nodes)[0] ?? 'NODE'}${o.name === DEFAULT_LAB ? '' : ` --name ${o.name}`} -- ip addr`);
      if (o.run) await (await import('./lab-cluster.js')).runLabCluster(o.name);
    });

  lab
    .command('down')
    .description(`remove a lab (default "${DEFAULT_LAB}"), or with --all every hn- namespace and lab state file`)
    .argument('[name]', 'lab name')
    .option('--all', 'remove every namespace whose name starts with hn- (including other users\' labs)')
    .action(async (name: string | undefined, o: { all?: boolean }) => {
      const [{ labDown, requireRootPrivileges }, { LabError }] = await Promise.all([import('../lab/lab.js'), import('../lab/errors.js')]);
      requireRootPrivileges('hanet lab down');
      if (o.all && name) throw new LabError('give a lab name or --all, not both');
      const t0 = performance.now();
      const r = await labDown(o.all ? { all: true } : { name: name ?? DEFAULT_LAB });
      const ms = performance.now() - t0;
      if (r.namespaces.length === 0 && r.stateFiles.length === 0) print(`nothing to remove${o.all ? '' : ` for lab "${name ?? DEFAULT_LAB}"`}`);
      else
        print(
          `removed ${r.namespaces.length} namespace(s)${r.namespaces.length ? ` (${r.namespaces.join(' ')})` : ''}, ${r.stateFiles.length} state file(s)` +
            `${r.killed.length ? `, stopped ${r.killed.length} process(es)` : ''} in ${ms.toFixed(0)} ms`,
        );
      if (r.survivors.length) print(`warning: processes ${r.survivors.join(' ')} survived SIGKILL`);
    });

  lab
    .command('status')
    .description('labs, their nodes and namespaces, current failures, orphan hn- namespaces')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const { labStatus } = await import('../lab/lab.js');
      const s = await labStatus();
      if (o.json) {
        print(JSON.stringify(s, null, 2));
        return;
      }
      if (s.labs.length === 0) print('no labs');
      for (const l of s.labs) {
        if (l.error) {
          print(`lab "${l.name}": ${l.error}`);
          continue;
        }
        const missing = l.nodes.filter((n) => !n.present).length;
        print(`lab "${l.name}" (topology ${l.topologyName ?? '?'}, up since ${l.createdAt}, ${l.nodes.length} nodes${missing ? `, ${missing} namespace(s) MISSING` : ''})`);
        for (const n of l.nodes) print(`  ${n.node.padEnd(4)} ${n.role.padEnd(7)} ${n.ns.padEnd(14)} ${n.present ? 'ok' : 'missing'}`);
        print(l.failures.length ? `  failures: ${l.failures.map((f) => `${f.port} ${f.mode}`).join(', ')}` : '  failures: none');
        for (const d of l.daemons ?? []) print(`  hanet on ${d.node.padEnd(4)} pid ${String(d.pid).padEnd(8)} ${d.alive ? 'running' : 'GONE'}   hanet status -c ${d.config}`);
      }
      if (s.orphans.length) print(`orphan namespaces (no lab state file): ${s.orphans.join(' ')}\n  remove with: hanet lab down <lab>  (or --all)`);
    });

  lab
    .command('exec')
    .description('run a command inside a node\'s namespace (stdio inherited, exit code propagated)')
    .argument('<node>', 'node name, e.g. c')
    .argument('<cmd...>', 'command and arguments (put -- before them)')
    .addOption(labNameOption())
    .passThroughOptions()
    .action(async (node: string, cmd: string[], o: { name: string }) => {
      const [{ openLab, requireRootPrivileges }, { LabError }] = await Promise.all([import('../lab/lab.js'), import('../lab/errors.js')]);
      requireRootPrivileges('hanet lab exec');
      const h = await openLab(o.name);
      const child = h.spawn(node, cmd, { stdio: 'inherit' });
      const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
      const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((sig) => [sig, forward(sig)] as const);
      for (const [sig, h2] of handlers) process.on(sig, h2);
      const code = await new Promise<number>((resolve, reject) => {
        child.on('error', (e) => reject(new LabError(`cannot run ${cmd.join(' ')}: ${e.message}`, { cause: e })));
        child.on('exit', (c, sig) => resolve(c ?? 128 + (sig ? (osConstants.signals[sig] ?? 0) : 0)));
      });
      for (const [sig, h2] of handlers) process.off(sig, h2);
      process.exitCode = code;
    });

  lab
    .command('fail')
    .description('inject a failure on a port: carrier (switch side down), silent (off the bridge, peer still sees carrier), admin (own interface down)')
    .argument('<port>', 'node:interface, e.g. a:eth0')
    .addOption(new Option('-m, --mode <mode>', 'failure mode').choices(FAILURE_MODES).makeOptionMandatory())
    .addOption(labNameOption())
    .action(async (port: string, o: { mode: FailureMode; name: string }) => {
      const { openLab, requireRootPrivileges } = await import('../lab/lab.js');
      requireRootPrivileges('hanet lab fail');
      const h = await openLab(o.name);
      await h.fail(port, o.mode);
      print(`${port}: failed (${o.mode})`);
    });

  lab
    .command('heal')
    .description('undo a port failure and re-apply the node\'s addresses and routes')
    .argument('<port>', 'node:interface, e.g. a:eth0')
    .addOption(labNameOption())
    .action(async (port: string, o: { name: string }) => {
      const { openLab, requireRootPrivileges } = await import('../lab/lab.js');
      requireRootPrivileges('hanet lab heal');
      const h = await openLab(o.name);
      await h.heal(port);
      print(`${port}: healed`);
    });

  addGenerateOptions(lab
    .command('topology')
    .description('validate and print a topology (file or embedded name, or generated with --servers) as YAML')
    .argument('[file|name]', `topology file or embedded name (${EMBEDDED_TOPOLOGY_NAMES.join(', ')}; default ${DEFAULT_TOPOLOGY})`))
    .option('--json', 'print JSON')
    .action(async (spec: string | undefined, o: GenerateFlags & { json?: boolean }) => {
      const { topologyToYaml } = await import('../lab/topology.js');
      const t = await topologyFromFlags(spec, o);
      print(o.json ? JSON.stringify(t, null, 2) : topologyToYaml(t));
    });

  for (const ext of extensions) ext(lab);
  return lab;
}
