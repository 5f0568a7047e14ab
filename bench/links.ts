// Benchmark (not a test) of the userspace private links:
//  1. serial: goodput of IP packets over a rate-limited line (the lab's pty relay at the baud rate) as a fraction
//     of the line rate (baud/10 bytes a second, 8N1), and the framing overhead. Two SerialLinks in this process,
//     their TUN sides replaced by counters, the sender keeping the link's queue full. No root needed.
//  2. udp: throughput (one TCP stream) and round-trip latency (64-byte UDP ping-pong) between a and b of the
//     `pair-udp` lab, through the tunnel (TUN + AES-GCM + UDP, hanet daemons running) next to the same routed
//     path without it (kernel forwarding a - r2 - b); and the cost of the authentication per packet. Root needed.
// Usage: npm run bench:links [-- --runs N --seconds S --json --serial-only --udp-only]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hanetArgv, labUp, type LabHandle } from '../src/lab/lab.js';
import { defaultTopology } from '../src/lab/topology.js';
import { startCluster } from '../src/lab/cluster.js';
import { startRelay, stopRelay } from '../src/lab/serial-relay.js';
import { SerialLink, BITS_PER_BYTE } from '../src/links/serial.js';
import type { PacketPort, TunStats } from '../src/os/linux/tun.js';
import { ControlSender, deriveControlKey } from '../src/proto/control.js';
import { ReplayGuard } from '../src/proto/replay.js';
import { frameWireLen } from '../src/proto/serial-frame.js';
import { TunnelOpener, TunnelSealer } from '../src/proto/udp-tunnel.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) || def : def; };
const runs = opt('--runs', 3);
const seconds = opt('--seconds', 5);
const json = args.includes('--json');
const log = (s: string): void => { if (!json) process.stdout.write(s + '\n'); };
const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };

// ---------------------------------------------------------------------------------------------------------------
// 1. serial goodput

class CountingTun implements PacketPort {
  readonly name = 'bench';
  bytes = 0;
  packets = 0;
  private cb: ((p: Buffer) => void) | undefined;
  constructor(readonly mtu: number) {}
  onPacket(cb: (p: Buffer) => void): void { this.cb = cb; }
  inject(p: Buffer): void { this.cb?.(p); }
  write(p: Uint8Array): boolean { this.bytes += p.length; this.packets++; return true; }
  setCarrier(): void {}
  stats(): TunStats { return { rxPackets: 0, rxBytes: 0, txPackets: this.packets, txBytes: this.bytes, txErrors: 0 }; }
  close(): void {}
}

interface SerialRun { baud: number; packet: number; mtu: number; goodput_Bps: number; line_Bps: number; fraction: number; overhead: number }

async function serialRun(baud: number, packet: number, mtu: number, ms: number): Promise<SerialRun> {
  const dir = mkdtempSync(join(tmpdir(), 'hanet-bench-'));
  const ttys: [string, string] = [join(dir, 'a'), join(dir, 'b')];
  const { pid } = await startRelay(hanetArgv(), { baud, ttys });
  const key = deriveControlKey(Buffer.alloc(32, 1));
  const ta = new CountingTun(mtu);
  const tb = new CountingTun(mtu);
  const mk = (node: string, peer: string, tun: CountingTun, dev: string) =>
    new SerialLink({ name: 'bench', peer, key, sender: new ControlSender({ node, key }), guard: new ReplayGuard(), device: dev, baud, tun });
  const a = mk('a', 'b', ta, ttys[0]);
  const b = mk('b', 'a', tb, ttys[1]);
  try {
    const pkt = Buffer.alloc(packet, 0x5a);
    pkt[0] = 0x45;
    // Keep the sender's queue non-empty without flooding it (drops would not change goodput, only waste CPU).
    const feed = setInterval(() => { while (a.stats().serial.queuedBytes < 2 * frameWireLen(packet)) ta.inject(pkt); }, 2);
    await new Promise((r) => setTimeout(r, 1000)); // warm-up: queue and line full
    const b0 = tb.bytes;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, ms));
    const got = tb.bytes - b0;
    const el = (performance.now() - t0) / 1000;
    clearInterval(feed);
    const line = baud / BITS_PER_BYTE;
    return { baud, packet, mtu, goodput_Bps: got / el, line_Bps: line, fraction: got / el / line, overhead: (frameWireLen(packet) - packet) / packet };
  } finally {
    await a.close();
    await b.close();
    await stopRelay(pid);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. udp tunnel vs kernel path

const SINK = `
const net = require('node:net');
const srv = net.createServer((s) => { let n = 0; s.on('data', (d) => { n += d.length; }); s.on('end', () => { s.end(String(n)); }); });
srv.listen(9100, () => process.stdout.write('READY\\n'));
const u = require('node:dgram').createSocket('udp4');
u.on('message', (m, r) => u.send(m, r.port, r.address));
u.bind(9101);
`;
const SEND = `
const [host, secs] = [process.argv[1], Number(process.argv[2])];
const s = require('node:net').connect({ host, port: 9100 }, () => {
  const chunk = Buffer.alloc(64 * 1024, 1); const end = Date.now() + secs * 1000; const t0 = Date.now();
  const pump = () => { while (Date.now() < end) { if (!s.write(chunk)) { s.once('drain', pump); return; } } s.end(); };
  s.setEncoding('utf8'); let reply = ''; s.on('data', (d) => { reply += d; });
  s.on('end', () => { const ms = Date.now() - t0; process.stdout.write(JSON.stringify({ bytes: Number(reply), ms }) + '\\n'); process.exit(0); });
  pump();
});
`;
const PING = `
const [host, count] = [process.argv[1], Number(process.argv[2])];
const u = require('node:dgram').createSocket('udp4'); const msg = Buffer.alloc(64, 1); const rtts = []; let t;
const one = () => { t = process.hrtime.bigint(); u.send(msg, 9101, host); };
u.on('message', () => { rtts.push(Number(process.hrtime.bigint() - t) / 1e6); if (rtts.length === count) { rtts.sort((a, b) => a - b); process.stdout.write(JSON.stringify({ p50: rtts[count >> 1], p99: rtts[Math.floor(count * 0.99)] }) + '\\n'); process.exit(0); } else one(); });
u.bind(() => { for (let i = 0; i < 200; i++) {} one(); });
`;

interface PathRun { path: string; mbps: number; p50_ms: number; p99_ms: number }

async function pathRun(lab: LabHandle, path: string, host: string, secs: number): Promise<PathRun> {
  const r = await lab.exec('a', [process.execPath, '-e', SEND, host, String(secs)], { check: true, timeoutMs: (secs + 20) * 1000 });
  const t = JSON.parse(r.stdout) as { bytes: number; ms: number };
  const p = await lab.exec('a', [process.execPath, '-e', PING, host, '2000'], { check: true, timeoutMs: 30_000 });
  const l = JSON.parse(p.stdout) as { p50: number; p99: number };
  return { path, mbps: (t.bytes * 8) / t.ms / 1000, p50_ms: l.p50, p99_ms: l.p99 };
}

function authCost(): { seal_us: number; open_us: number } {
  const key = Buffer.alloc(32, 3);
  const a = { node: 'a', session: '0000000000000a0a' };
  const b = { node: 'b', session: '0000000000000b0b' };
  const s = new TunnelSealer(key, 'bench', a, b);
  const o = new TunnelOpener(key, 'bench', 'a', b);
  const pkt = Buffer.alloc(1400, 0x45);
  const n = 50_000;
  const sealed: Buffer[] = [];
  for (let i = 0; i < 5000; i++) o.open(s.seal(pkt), a.session);
  let t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sealed.push(s.seal(pkt));
  const seal = Number(process.hrtime.bigint() - t) / n / 1000;
  t = process.hrtime.bigint();
  for (const d of sealed) o.open(d, a.session);
  const open = Number(process.hrtime.bigint() - t) / n / 1000;
  return { seal_us: seal, open_us: open };
}

async function main(): Promise<void> {
  const out: Record<string, unknown> = {};
  if (!args.includes('--udp-only')) {
    const cases: Array<[number, number, number]> = [[115200, 1400, 1500], [115200, 536, 576], [921600, 1400, 1500]];
    const serial: Array<SerialRun & { runs: number[] }> = [];
    log(`serial goodput over the lab relay (${runs} runs x ${seconds} s each, median):`);
    for (const [baud, packet, mtu] of cases) {
      const rs: SerialRun[] = [];
      for (let i = 0; i < runs; i++) rs.push(await serialRun(baud, packet, mtu, seconds * 1000));
      const m = { ...rs[0]!, goodput_Bps: median(rs.map((r) => r.goodput_Bps)), fraction: median(rs.map((r) => r.fraction)), runs: rs.map((r) => Math.round(r.fraction * 1000) / 10) };
      serial.push(m);
      log(`  ${String(baud).padStart(7)} baud, ${String(packet).padStart(4)}-byte packets (MTU ${mtu}): ${(m.goodput_Bps / 1000).toFixed(2)} KB/s of ${(m.line_Bps / 1000).toFixed(2)} KB/s = ${(m.fraction * 100).toFixed(1)} % of the line (runs: ${m.runs.join(', ')} %); framing overhead ${(m.overhead * 100).toFixed(2)} %`);
    }
    out.serial = serial;
  }
  if (!args.includes('--serial-only')) {
    const auth = authCost();
    out.auth = auth;
    log(`\nudp link authentication (AES-256-GCM, 1400-byte packets, this process): seal ${auth.seal_us.toFixed(2)} us, open ${auth.open_us.toFixed(2)} us per packet`);
    const lab = await labUp(defaultTopology('pair-udp'), { name: 'blink', replace: true });
    try {
      const cluster = await startCluster(lab);
      try {
        await cluster.waitFor('a', (s) => s.links[0]!.alive, { what: 'udp link alive' });
        const sink = lab.spawn('b', [process.execPath, '-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });
        await new Promise<void>((resolve) => sink.stdout!.once('data', () => resolve()));
        const rows: PathRun[] = [];
        for (const [path, host] of [['kernel (routed a-r2-b)', '192.168.100.6'], ['udp tunnel (same path)', '192.168.102.2']] as const) {
          const rs: PathRun[] = [];
          for (let i = 0; i < runs; i++) rs.push(await pathRun(lab, path, host, Math.min(seconds, 3)));
          rows.push({ path, mbps: median(rs.map((r) => r.mbps)), p50_ms: median(rs.map((r) => r.p50_ms)), p99_ms: median(rs.map((r) => r.p99_ms)) });
        }
        sink.kill('SIGTERM');
        out.udp = rows;
        log(`\nudp link vs the kernel path (one TCP stream; 64-byte UDP ping-pong, 2000 round trips; median of ${runs}):`);
        for (const r of rows) log(`  ${r.path.padEnd(24)} ${r.mbps.toFixed(0).padStart(6)} Mbit/s   RTT p50 ${(r.p50_ms * 1000).toFixed(0).padStart(5)} us   p99 ${(r.p99_ms * 1000).toFixed(0).padStart(5)} us`);
        const [k, u] = rows as [PathRun, PathRun];
        log(`  tunnel / kernel: throughput ${(u.mbps / k.mbps).toFixed(2)}x, added RTT p50 +${((u.p50_ms - k.p50_ms) * 1000).toFixed(0)} us`);
        const pps = (u.mbps * 1e6) / 8 / 1400;
        log(`  authentication share at that rate: ~${(((auth.seal_us + auth.open_us) / 2) * pps / 1e6 * 100).toFixed(0)} % of one core per direction`);
      } finally {
        await cluster.stop();
      }
    } finally {
      await lab.down();
    }
  }
  if (json) process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => { process.stderr.write(`${(e as Error).stack ?? e}\n`); process.exit(1); });
