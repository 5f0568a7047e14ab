// `hanet lab serve | client | load`: the lab workload's service and client (internal, run inside namespaces by
// the library) and `load`, which measures a running lab. Thin: parse, call src/lab/workload, print.
//
//   hanet lab serve --port 7100 [--bind ADDR] [--stop-on-eof]           (default: both families, `::`)
//       listens, prints "READY <port>" on stdout; SIGTERM/SIGINT (or stdin EOF with --stop-on-eof) closes cleanly
//       and prints {"service": stats, "cpu_ms"} on stderr.
//   hanet lab client --target ADDR:PORT|[IPV6]:PORT [--streams PNSB] [--connections 4 --interval 10] [--n-interval 20]
//       [--slow 10 --hold 2000] [--rate 1048576] [--request-timeout 10000] [--drain-timeout MS] [--duration S]
//       [--json] [--progress] [--stop-on-eof] [--log FILE]
//       runs until --duration, SIGTERM/SIGINT or a "stop" line on stdin; drains; prints the report (the last stdout
//       line with --json). --progress: one JSON line per 250 ms on stderr. --log: every request as JSON lines.
//   hanet lab load [-n lab] [--server a] [--address IP | --family 4|6|both] [--client c] [--duration 10] [stream options] [--json]
//       needs a running lab; exit status 0 whatever the report says (it is a measurement).
// The report's fields are defined in src/lab/workload/report.ts. The actions import the workload when they run;
// registering loads nothing of src/lab (the defaults the help shows are in lab-options.ts).
import { createWriteStream } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { parseHostPort } from '../config/fields.js';
import { isIp, parseCidr, type Family } from '../core/ip.js';
import { HanetError } from '../errors.js';
import type { ClientConfig, ClientHandle } from '../lab/workload/client.js';
import type { StopReason, WorkloadReport } from '../lab/workload/report.js';
import type { WorkloadOptions } from '../lab/workload/index.js';
import { DEFAULT_LAB, WORKLOAD_DEFAULTS as DEFAULTS } from './lab-options.js';

const num = (what: string, min: number, int = false) => (v: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || (int && !Number.isInteger(n))) throw new InvalidArgumentError(`${what} must be ${int ? 'an integer' : 'a number'} >= ${min}`);
  return n;
};
const streamsArg = (v: string): string => {
  const s = v.toUpperCase();
  if (!/^[PNSB]+$/.test(s)) throw new InvalidArgumentError('streams are letters of P (persistent), N (new connection), S (slow), B (bulk), e.g. PNSB');
  return s;
};
const targetArg = (v: string): { host: string; port: number } => {
  const t = parseHostPort(v, undefined, [4, 6]);
  if (!t) throw new InvalidArgumentError('target must be ADDRESS:PORT, an IPv6 address in brackets ([2001:db8::11]:7100)');
  return t;
};
const familyArg = (v: string): '4' | '6' | 'both' => {
  if (v !== '4' && v !== '6' && v !== 'both') throw new InvalidArgumentError('family must be 4, 6 or both');
  return v;
};

interface StreamOpts {
  streams: string;
  connections: number; interval: number; nInterval: number; slow: number; hold: number; rate: number;
  requestTimeout: number; drainTimeout?: number; timelineBucket?: number;
}

/** Adds the stream options shared by `client` and `load`. */
function streamOptions(c: Command): Command {
  return c
    .option('--streams <kinds>', 'which streams run: P persistent, N new connection per request, S slow, B bulk', streamsArg, 'PNSB')
    .option('--connections <n>', 'P: persistent connections', num('--connections', 1, true), DEFAULTS.persistent.connections)
    .option('--interval <ms>', 'P: request interval per connection (pipelined)', num('--interval', 0.1), DEFAULTS.persistent.intervalMs)
    .option('--n-interval <ms>', 'N: interval between new connections', num('--n-interval', 0.1), DEFAULTS.perRequest.intervalMs)
    .option('--slow <n>', 'S: slow requests always in flight', num('--slow', 1, true), DEFAULTS.slow.concurrency)
    .option('--hold <ms>', 'S: how long the service holds each slow request', num('--hold', 0, true), DEFAULTS.slow.holdMs)
    .option('--rate <bytes/s>', 'B: bulk stream rate', num('--rate', 1, true), DEFAULTS.bulk.rateBytesPerSec)
    .option('--request-timeout <ms>', 'a request with no reply after this long failed', num('--request-timeout', 1), DEFAULTS.requestTimeoutMs)
    .option('--drain-timeout <ms>', 'at stop, wait this long for outstanding replies (default: request timeout, + hold with S)', num('--drain-timeout', 0))
    .option('--timeline-bucket <ms>', 'timeline bucket width', num('--timeline-bucket', 1), DEFAULTS.timelineBucketMs);
}

function workloadOptions(o: StreamOpts): Omit<WorkloadOptions, 'server' | 'address'> {
  const w: Omit<WorkloadOptions, 'server' | 'address'> = { requestTimeoutMs: o.requestTimeout };
  if (o.streams.includes('P')) w.persistent = { connections: o.connections, intervalMs: o.interval };
  if (o.streams.includes('N')) w.perRequest = { intervalMs: o.nInterval };
  if (o.streams.includes('S')) w.slow = { concurrency: o.slow, holdMs: o.hold };
  if (o.streams.includes('B')) w.bulk = { rateBytesPerSec: o.rate };
  if (o.drainTimeout !== undefined) w.drainTimeoutMs = o.drainTimeout;
  if (o.timelineBucket !== undefined) w.timelineBucketMs = o.timelineBucket;
  return w;
}

async function printReport(r: WorkloadReport, json: boolean | undefined): Promise<void> {
  const { formatReport } = await import('../lab/workload/report.js');
  process.stdout.write(json ? JSON.stringify(r) + '\n' : formatReport(r) + '\n');
}

export function registerWorkloadCommands(lab: Command): void {
  lab
    .command('serve')
    .description('(internal) run the workload service: prints "READY <port>" once listening; SIGTERM stops it')
    .requiredOption('--port <port>', 'TCP port', num('--port', 0, true))
    .option('--bind <address>', 'listen address (default: every address of both families)')
    .option('--stop-on-eof', 'also stop when stdin closes (the parent is gone)')
    .action(async (o: { port: number; bind?: string; stopOnEof?: boolean }) => {
      const { startService } = await import('../lab/workload/service.js');
      const svc = await startService({ port: o.port, ...(o.bind !== undefined ? { bind: o.bind } : {}) }).catch((e: unknown) => {
        throw new HanetError('HANET_ERR_SOCKET', `workload service cannot listen on ${o.bind ?? '::'} port ${o.port}: ${(e as Error).message}`, { cause: e });
      });
      let closing = false;
      const close = async (): Promise<void> => {
        if (closing) return;
        closing = true;
        await svc.close();
        const cpu = process.cpuUsage();
        process.stderr.write(JSON.stringify({ service: svc.stats(), cpu_ms: Math.round((cpu.user + cpu.system) / 1000) }) + '\n');
        process.exit(0);
      };
      process.on('SIGTERM', () => void close());
      process.on('SIGINT', () => void close());
      if (o.stopOnEof) {
        process.stdin.on('end', () => void close());
        process.stdin.on('error', () => void close());
        process.stdin.resume();
      }
      process.stdout.write(`READY ${svc.port}\n`);
    });

  streamOptions(
    lab
      .command('client')
      .description('(internal) run the workload client until --duration, SIGTERM or "stop" on stdin; the report is the last stdout line')
      .requiredOption('--target <addr:port>', 'service address and port', targetArg),
  )
    .option('--duration <s>', 'stop by itself after this many seconds', num('--duration', 0))
    .option('--json', 'print the report as one JSON object')
    .option('--progress', 'print a JSON progress line ({t, requests, ok, failed, inflight}) to stderr every 250 ms')
    .option('--stop-on-eof', 'also stop when stdin closes (the parent is gone)')
    .option('--log <file>', 'write every request (send/reply time, outcome) as JSON lines to this file')
    .action(async (o: StreamOpts & { target: { host: string; port: number }; duration?: number; json?: boolean; progress?: boolean; stopOnEof?: boolean; log?: string }) => {
      const { runClient } = await import('../lab/workload/client.js');
      const w = workloadOptions(o);
      const log = o.log ? createWriteStream(o.log) : undefined;
      const cfg: ClientConfig = {
        host: o.target.host,
        port: o.target.port,
        persistent: w.persistent ?? null,
        perRequest: w.perRequest ?? null,
        slow: w.slow ?? null,
        bulk: w.bulk ?? null,
        requestTimeoutMs: o.requestTimeout,
        ...(o.drainTimeout !== undefined ? { drainTimeoutMs: o.drainTimeout } : {}),
        ...(o.duration !== undefined ? { durationMs: o.duration * 1000 } : {}),
        timelineBucketMs: o.timelineBucket ?? DEFAULTS.timelineBucketMs,
        ...(o.progress ? { onProgress: (p) => void process.stderr.write(JSON.stringify(p) + '\n') } : {}),
        ...(log ? { onRequest: (r) => void log.write(JSON.stringify(r) + '\n') } : {}),
      };
      const h: ClientHandle = runClient(cfg);
      const stop = (why: StopReason) => void h.stop(why);
      process.on('SIGTERM', () => stop('signal'));
      process.on('SIGINT', () => stop('signal'));
      let buf = '';
      process.stdin.setEncoding('utf8');
      process.stdin.on('data', (d: string) => {
        buf += d;
        if (buf.split('\n').some((l) => l.trim() === 'stop')) stop('stdin');
        buf = buf.slice(buf.lastIndexOf('\n') + 1);
      });
      process.stdin.on('error', () => { if (o.stopOnEof) stop('stdin'); });
      process.stdin.on('end', () => { if (o.stopOnEof) stop('stdin'); });
      const report = await h.finished;
      if (log) await new Promise<void>((r) => log.end(r));
      await printReport(report, o.json);
      // stdin (and a few sockets in their closing handshake) would keep the process alive.
      process.stdout.write('', () => process.exit(0));
    });

  streamOptions(
    lab
      .command('load')
      .description('run the workload against a server of a running lab for --duration and print the report (exit 0 even with failures: it is a measurement)')
      .option('-n, --name <lab>', 'lab name (it must be up: `hanet lab up` first)', DEFAULT_LAB)
      .option('--server <node>', 'server node running the service', 'a')
      .option('--address <ip>', "address the client targets, IPv4 or IPv6 (default: the server's first public address of --family)")
      .option('--family <4|6|both>', "without --address: the server's first public address of this family; both: one workload per family at once, a report each", familyArg)
      .option('--client <node>', 'client node', 'c')
      .option('--port <port>', 'service port (with --family both: IPv4 on it, IPv6 on the next)', num('--port', 1, true), DEFAULTS.port),
  )
    .option('--duration <s>', 'how long to measure', num('--duration', 0.1), 10)
    .option('--persistent <n>', 'P: persistent connections (same as --connections)', num('--persistent', 1, true))
    .option('--json', 'print the report as one JSON object (with --family both: {"ipv4": report, "ipv6": report})')
    .option('--progress', 'print progress to stderr every 250 ms')
    .action(async (o: StreamOpts & { name: string; server: string; address?: string; family?: '4' | '6' | 'both'; client: string; port: number; duration: number; persistent?: number; json?: boolean; progress?: boolean }) => {
      const [{ openLab }, { serverPorts }, { startWorkload }, { startFamilyWorkloads }, { LabError }] = await Promise.all([
        import('../lab/lab.js'), import('../lab/topology.js'), import('../lab/workload/index.js'), import('../lab/workload/families.js'), import('../lab/errors.js'),
      ]);
      const labh = await openLab(o.name);
      if (!labh.topology.nodes[o.server]) throw new LabError(`lab "${o.name}" has no node "${o.server}"`);
      if (!labh.topology.nodes[o.client]) throw new LabError(`lab "${o.name}" has no node "${o.client}"`);
      if (o.address !== undefined && o.family !== undefined) throw new LabError('give --address or --family, not both');
      if (o.address !== undefined && !isIp(o.address)) throw new LabError(`--address ${o.address} is not an IPv4 or IPv6 address`);
      const publics = (serverPorts(labh.topology, o.server).public[0]?.addresses ?? []).map((a) => parseCidr(a)!);
      const firstOf = (f?: Family): string => {
        const c = publics.find((x) => f === undefined || x.family === f);
        if (!c) throw new LabError(`node "${o.server}" has no public ${f ? `IPv${f} ` : ''}address; give --address`);
        return c.address;
      };
      const addresses = o.address !== undefined ? [o.address] : o.family === 'both' ? [firstOf(4), firstOf(6)] : [firstOf(o.family === undefined ? undefined : o.family === '4' ? 4 : 6)];
      if (o.persistent !== undefined) o.connections = o.persistent;
      const ac = new AbortController();
      const common = { server: o.server, client: o.client, port: o.port, ...workloadOptions(o) };
      const wl = addresses.length === 1 ? await startWorkload(labh, { ...common, address: addresses[0]! }, ac.signal) : await startFamilyWorkloads(labh, { ...common, addresses }, ac.signal);
      let tick: NodeJS.Timeout | undefined;
      if (o.progress) tick = setInterval(() => process.stderr.write(JSON.stringify(wl.progress()) + '\n'), 250);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, o.duration * 1000);
        process.once('SIGINT', () => { clearTimeout(t); resolve(); });
        process.once('SIGTERM', () => { clearTimeout(t); resolve(); });
      });
      clearInterval(tick);
      if ('families' in wl) {
        const reports = await wl.stop();
        if (o.json) { process.stdout.write(JSON.stringify(reports) + '\n'); return; }
        for (const [k, r] of Object.entries(reports)) if (r) { process.stdout.write(`${k === 'ipv4' ? 'IPv4' : 'IPv6'}:\n`); await printReport(r, false); }
        return;
      }
      await printReport(await wl.stop(), o.json);
    });
}
