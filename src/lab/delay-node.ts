// The lab's delay element (this kernel has no netem): a process that holds every packet routed into its TUN device
// for a fixed time and then writes it back, where the kernel routes it on. Run inside a namespace by delay.ts.
//
//   node dist/src/lab/delay-node.js --tun dly0 --delay-ms 5 [--spin-us 1000]
//     opens the TUN device, prints "READY <name>" on stdout; stops on SIGTERM/SIGINT or stdin EOF and prints
//     {"packets", "bytes", "dropped", "lateness_ms": {p50, p99, max}, "max_queue"} on stderr.
//
// Why this shape: TUN I/O goes through the project's N-API addon (read/write on the non-blocking fd, uv_poll
// readiness), which runs at C speed; fs streams on a TUN fd were measured 10-20x slower (KERNEL-FACTS.md).
// Timing: one libuv timer for the head of a FIFO (every packet gets the same delay, so the FIFO is in due order).
// libuv timers have 1 ms granularity and the loop's clock is cached: with timers alone a packet was released
// 0-1 ms late (measured p50 0.15-0.9 ms, varying with load), enough noise to hide a 1% difference on a 10 ms round
// trip. So the timer wakes the process up to --spin-us (default 1000 µs) early and the last stretch is polled
// with setImmediate (which keeps reading the TUN device meanwhile, so arrivals are still stamped at once). The
// cost is CPU in proportion to the packet rate (at most one core). Never early: release is checked against
// process.hrtime. The lateness is measured and reported, not hidden.
import { native } from '../os/linux/native.js';

interface Held { buf: Buffer; due: bigint }

function arg(name: string, def?: string): string {
  const i = process.argv.indexOf(name);
  const v = i >= 0 ? process.argv[i + 1] : def;
  if (v === undefined) throw new Error(`missing ${name}`);
  return v;
}

const tunName = arg('--tun', 'dly0');
const delayMs = Number(arg('--delay-ms', '5'));
if (!(delayMs >= 0 && delayMs <= 10_000)) throw new Error('--delay-ms must be within [0, 10000]');
const spinNs = BigInt(Math.round(Number(arg('--spin-us', '1000')) * 1000));
/** Packets held at most (a 10 ms delay at ~1 Gbit/s of 1500-byte packets is ~800): beyond it, new ones are dropped. */
const MAX_QUEUE = Number(arg('--max-queue', '100000'));

const n = native();
const { fd, name } = n.openTun(tunName, n.constants.IFF_TUN | n.constants.IFF_NO_PI);
const delayNs = BigInt(Math.round(delayMs * 1e6));
const scratch = Buffer.allocUnsafe(65_536);

// FIFO as an array with a moving head (compacted now and then): O(1) push/shift without per-packet allocations
// beyond the packet copy itself.
let q: Held[] = [];
let head = 0;
let timer: NodeJS.Timeout | undefined;
let timerDue = 0n;
let packets = 0, bytes = 0, dropped = 0, maxQueue = 0;
// Lateness histogram in 10 µs bins up to 20 ms (the last bin collects the rest).
const BIN_US = 10;
const hist = new Uint32Array(2001);

const now = (): bigint => process.hrtime.bigint();

function flush(): void {
  timer = undefined;
  const t = now();
  while (head < q.length) {
    const h = q[head]!;
    if (h.due > t) break;
    q[head++] = undefined as unknown as Held;
    try {
      n.write(fd, h.buf);
      packets++;
      bytes += h.buf.length;
    } catch {
      dropped++;
    }
    const lateUs = Number(t - h.due) / 1000;
    hist[Math.min(hist.length - 1, Math.floor(lateUs / BIN_US))]!++;
  }
  if (head > 4096 && head * 2 > q.length) { q = q.slice(head); head = 0; }
  arm();
}

let spinning = false;
function spin(): void {
  spinning = false;
  flush();
}

function arm(): void {
  if (head >= q.length || spinning) return;
  const due = q[head]!.due;
  const left = due - now();
  if (left <= spinNs) {
    // Close to due: poll (setImmediate runs after the I/O phase, so reads go on); flush() re-arms.
    if (timer !== undefined) { clearTimeout(timer); timer = undefined; }
    spinning = true;
    setImmediate(spin);
    return;
  }
  if (timer !== undefined && timerDue <= due) return;
  if (timer !== undefined) clearTimeout(timer);
  timerDue = due;
  // Wake up about spinNs before due (libuv fires on its cached, slightly stale clock: rounding down the
  // remainder keeps the wake-up before due); flush() releases nothing early and re-arms.
  timer = setTimeout(flush, Math.max(0, Math.floor(Number(left - spinNs) / 1e6)));
}

function onReadable(): void {
  for (;;) {
    let len: number | null;
    try {
      len = n.read(fd, scratch);
    } catch {
      return;
    }
    if (len === null) break;
    if (q.length - head >= MAX_QUEUE) { dropped++; continue; }
    q.push({ buf: Buffer.from(scratch.subarray(0, len)), due: now() + delayNs });
    maxQueue = Math.max(maxQueue, q.length - head);
  }
  if (delayNs === 0n) flush();
  else arm();
}

const poller = new n.Poller(fd, n.constants.UV_READABLE, () => onReadable());

function pct(p: number): number {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  const rank = Math.ceil((p / 100) * total);
  let acc = 0;
  for (let i = 0; i < hist.length; i++) {
    acc += hist[i]!;
    if (acc >= rank) return ((i + 1) * BIN_US) / 1000;
  }
  return (hist.length * BIN_US) / 1000;
}

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  poller.stop();
  if (timer) clearTimeout(timer);
  try { n.close(fd); } catch { /* already closed */ }
  let maxBin = 0;
  hist.forEach((c, i) => { if (c) maxBin = i; });
  process.stderr.write(JSON.stringify({
    delay_ms: delayMs, packets, bytes, dropped, max_queue: maxQueue,
    lateness_ms: { p50: pct(50), p99: pct(99), max: ((maxBin + 1) * BIN_US) / 1000 },
  }) + '\n', () => process.exit(0));
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
process.stdout.write(`READY ${name}\n`);
