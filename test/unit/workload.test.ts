// Unit tests of the lab workload: the frame decoder under every segmentation, the report's statistics, and the
// in-process service + client on loopback, including runs where the service fails so the instrument must fail.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import fc from 'fast-check';
import {
  BulkPattern, FrameDecoder, MAX_FRAME_BODY, encodeHello, encodeReply, encodeRequest, requestPayload, replyMatches, type Frame, type DecodeError,
} from '../../src/lab/workload/protocol.js';
import { GapTracker, Timeline, maxGap, percentile, summarizeLatencies } from '../../src/lab/workload/stats.js';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { reasonOf, runClient, type ClientConfig } from '../../src/lab/workload/client.js';
import { startService } from '../../src/lab/workload/service.js';
import { formatReport, type WorkloadReport } from '../../src/lab/workload/report.js';
import { waitFor } from '../helpers.js';

/** Feeds `pieces` to a decoder and returns every frame (and the first error) it yields. */
function decodeAll(pieces: Buffer[]): Array<Frame | DecodeError> {
  const d = new FrameDecoder();
  const out: Array<Frame | DecodeError> = [];
  for (const p of pieces) {
    d.push(p);
    for (let f = d.next(); f !== undefined; f = d.next()) {
      out.push(f);
      if (f.type === 'error') return out;
    }
  }
  return out;
}
const splitAt = (b: Buffer, points: number[]): Buffer[] => {
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of [...points, b.length]) { out.push(b.subarray(prev, p)); prev = p; }
  return out;
};

describe('frame decoder', () => {
  const sample = Buffer.concat([encodeHello('S', 2000), encodeRequest(1), encodeRequest(0xffffffff), encodeReply(requestPayload(7)), encodeRequest(2, 0)]);
  const expected = decodeAll([sample]);

  test('decodes the sample in one piece', () => {
    assert.equal(expected.length, 5);
    assert.deepEqual(expected[0], { type: 'hello', kind: 'S', holdMs: 2000 });
    assert.deepEqual(expected.slice(1).map((f) => f.type === 'req' || f.type === 'rep' ? [f.type, f.seq] : f.type), [['req', 1], ['req', 0xffffffff], ['rep', 7], ['req', 2]]);
  });

  test('every single split point gives the same frames', () => {
    for (let i = 0; i <= sample.length; i++) assert.deepEqual(decodeAll(splitAt(sample, [i])), expected, `split at ${i}`);
  });

  test('every pair of split points gives the same frames', () => {
    for (let i = 0; i <= sample.length; i++)
      for (let j = i; j <= sample.length; j++) assert.deepEqual(decodeAll(splitAt(sample, [i, j])), expected, `split at ${i}, ${j}`);
  });

  test('byte by byte', () => {
    assert.deepEqual(decodeAll([...sample].map((b) => Buffer.from([b]))), expected);
  });

  test('bulk: bytes after HELLO B come back from takeRest() at every split point', () => {
    const raw = Buffer.from('the bulk stream starts right here');
    const all = Buffer.concat([encodeHello('B'), raw]);
    for (let i = 0; i <= all.length; i++) {
      const d = new FrameDecoder();
      const [first, second] = splitAt(all, [i]);
      d.push(first!);
      let f = d.next();
      let rest: Buffer;
      if (f === undefined) {
        d.push(second!);
        f = d.next();
        assert.deepEqual(f, { type: 'hello', kind: 'B', holdMs: 0 }, `split ${i}`);
        rest = d.takeRest();
      } else {
        assert.deepEqual(f, { type: 'hello', kind: 'B', holdMs: 0 }, `split ${i}`);
        rest = Buffer.concat([d.takeRest(), second!]);
      }
      assert.deepEqual(rest, raw, `split ${i}`);
    }
  });

  const bad: Array<[string, Buffer, string]> = [
    ['zero length', Buffer.from('00000000', 'hex'), 'empty_frame'],
    ['too long', Buffer.from((MAX_FRAME_BODY + 1).toString(16).padStart(8, '0'), 'hex'), 'frame_too_long'],
    ['unknown type', Buffer.from('0000000109', 'hex'), 'unknown_type'],
    ['hello kind X', Buffer.from('00000006015800000000', 'hex'), 'bad_hello'],
    ['hello too short', Buffer.from('0000000301500000', 'hex'), 'bad_hello'],
    ['req without seq', Buffer.from('00000003020102', 'hex'), 'bad_payload'],
  ];
  for (const [name, bytes, reason] of bad)
    test(`malformed: ${name} -> ${reason}, and the decoder stays failed`, () => {
      const d = new FrameDecoder();
      d.push(bytes);
      const f = d.next();
      assert.equal(f?.type, 'error');
      assert.equal((f as DecodeError).reason, reason);
      d.push(encodeRequest(1));
      assert.equal(d.next()?.type, 'error');
    });

  test('property: any frames, any segmentation -> the same frames', () => {
    const frameArb = fc.oneof(
      fc.record({ k: fc.constantFrom('P', 'N', 'S', 'B' as const), h: fc.nat() }).map(({ k, h }) => encodeHello(k, h)),
      fc.record({ s: fc.nat({ max: 0xffffffff }), pad: fc.nat({ max: 300 }) }).map(({ s, pad }) => encodeRequest(s, pad)),
      fc.record({ s: fc.nat({ max: 0xffffffff }), pad: fc.nat({ max: 40 }) }).map(({ s, pad }) => encodeReply(requestPayload(s, pad))),
    );
    fc.assert(fc.property(fc.array(frameArb, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), (frames, cuts) => {
      const all = Buffer.concat(frames);
      const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
      assert.deepEqual(decodeAll(splitAt(all, points)), decodeAll([all]));
      assert.equal(decodeAll([all]).length, frames.length);
    }));
  });

  test('property: garbage never throws, yields frames or one error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const out = decodeAll([Buffer.from(bytes)]);
      assert.ok(out.filter((f) => f.type === 'error').length <= 1);
    }));
  });

  test('reply payload check', () => {
    assert.ok(replyMatches(5, requestPayload(5)));
    assert.ok(!replyMatches(6, requestPayload(5)));
    const p = requestPayload(5);
    p[10]! ^= 1;
    assert.ok(!replyMatches(5, p));
  });

  test('bulk pattern depends on the offset only, not on chunking', () => {
    const whole = new BulkPattern(42).next(1000);
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 37 }), { maxLength: 60 }), (sizes) => {
      const g = new BulkPattern(42);
      const parts: Buffer[] = [];
      let n = 0;
      for (const s of sizes) { if (n + s > 1000) break; parts.push(g.next(s)); n += s; }
      parts.push(g.next(1000 - n));
      assert.deepEqual(Buffer.concat(parts), whole);
    }));
    assert.notDeepEqual(new BulkPattern(43).next(64), whole.subarray(0, 64));
  });
});

describe('statistics', () => {
  const pct: Array<[number[], number, number]> = [
    [[], 50, 0],
    [[7], 50, 7], [[7], 99, 7], [[7], 0, 7],
    [[1, 2, 3, 4], 50, 2], [[4, 3, 2, 1], 50, 2], [[1, 2, 3, 4], 75, 3], [[1, 2, 3, 4], 76, 4], [[1, 2, 3, 4], 100, 4],
    [Array.from({ length: 100 }, (_, i) => i + 1), 99, 99],
    [Array.from({ length: 1000 }, (_, i) => i + 1), 99, 990],
    [[...Array.from({ length: 99 }, () => 1), 500], 99, 1],
    [[...Array.from({ length: 98 }, () => 1), 500, 500], 99, 500],
  ];
  for (const [values, p, want] of pct)
    test(`percentile p${p} of ${values.length <= 4 ? JSON.stringify(values) : `${values.length} values`} = ${want}`, () => assert.equal(percentile(values, p), want));

  const gaps: Array<[string, number[], number, number, number]> = [
    ['no success at all: the whole run', [], 0, 1000, 1000],
    ['regular 10 ms', [10, 20, 30, 40, 50], 0, 55, 10],
    ['a 1 s cut in the middle', [10, 20, 30, 1030, 1040], 0, 1045, 1000],
    ['an outage still going on at stop', [10, 20, 30], 0, 2030, 2000],
    ['a reply while draining closes the gap at its real time', [10, 20, 1220], 0, 1000, 1200],
    ['slow first reply counts from start', [300, 310], 0, 315, 300],
    ['unsorted input', [40, 10, 30, 20], 0, 45, 10],
    ['times before start are clamped', [-5, 10], 0, 12, 10],
  ];
  for (const [name, times, start, stop, want] of gaps)
    test(`maxGap: ${name}`, () => {
      assert.equal(maxGap(times, start, stop), want);
      const g = new GapTracker(start);
      for (const t of [...times].sort((a, b) => a - b)) g.hit(t);
      assert.equal(g.result(stop), want, 'GapTracker agrees');
    });

  test('summarizeLatencies', () => {
    assert.deepEqual(summarizeLatencies([]), { count: 0, p50: 0, p99: 0, max: 0 });
    assert.deepEqual(summarizeLatencies([3.333, 1, 2]), { count: 3, p50: 2, p99: 3.33, max: 3.33 });
  });

  test('timeline buckets by send time', () => {
    const t = new Timeline(10);
    t.addOk(0, 1.5, true);
    t.addOk(9.99, 3, true);
    t.addOk(25, 100, false);
    t.addFailed(31);
    assert.deepEqual(t.report(), { bucket_ms: 10, ok: [2, 0, 1, 0], failed: [0, 0, 0, 1], p_max_latency_ms: [3, 0, 0, 0] });
  });
});

// ---- in-process service + client on loopback ---------------------------------------------------------------

const base = (port: number, over: Partial<ClientConfig> = {}): ClientConfig => ({
  host: '127.0.0.1', port,
  persistent: { connections: 4, intervalMs: 10 },
  perRequest: { intervalMs: 20 },
  slow: { concurrency: 10, holdMs: 300 },
  bulk: { rateBytesPerSec: 1024 * 1024 },
  requestTimeoutMs: 10_000,
  ...over,
});
const assertClean = (r: WorkloadReport): void => {
  assert.equal(r.failed, 0, `failures: ${JSON.stringify(r.failures)}`);
  assert.equal(r.broken_connections, 0);
  assert.equal(r.inflight_lost, 0);
  assert.equal(r.stream_verified, true);
};

describe('workload on loopback', () => {
  test('a healthy run loses nothing: all four streams ok, stream verified', async () => {
    const svc = await startService({ port: 0, bind: '127.0.0.1' });
    try {
      const progress: number[] = [];
      const h = runClient({ ...base(svc.port), progressIntervalMs: 100, onProgress: (p) => progress.push(p.requests) });
      await h.ready;
      await new Promise((r) => setTimeout(r, 1500));
      const r = await h.stop();
      assertClean(r);
      assert.ok(r.requests > 0);
      for (const k of ['P', 'N', 'S', 'B'] as const) assert.ok(r.streams[k].ok > 0, `${k} has successes`);
      // 4 connections x 100/s for 1.5 s; allow generous timer slack on a loaded machine.
      assert.ok(r.streams.P.requests > 300, `P requests ${r.streams.P.requests}`);
      assert.ok(r.streams.B.bytes_sent > 500_000, `bulk bytes ${r.streams.B.bytes_sent}`);
      assert.equal(r.streams.B.bytes_received, r.streams.B.bytes_sent);
      assert.equal(r.streams.B.streams.length, 1);
      assert.ok(r.max_gap_ms < 500, `max gap ${r.max_gap_ms}`);
      assert.ok(r.latency_ms.p50 > 0 && r.latency_ms.p99 >= r.latency_ms.p50);
      assert.ok(r.duration_ms >= 1500);
      assert.equal(r.stop_reason, 'api');
      assert.ok(progress.length >= 5 && progress.at(-1)! >= progress[0]!);
      assert.equal(r.timeline.ok.reduce((a, b) => a + b, 0), r.requests);
      assert.match(formatReport(r), /nothing lost/);
      assert.equal(svc.stats().protocol_errors, 0);
    } finally {
      await svc.close();
    }
  });

  test('the service crashing (all connections reset) shows as broken, lost, failed and an unverified stream', async () => {
    const svc = await startService({ port: 0, bind: '127.0.0.1' });
    try {
      const h = runClient(base(svc.port));
      await h.ready;
      // S requests are always outstanding (held 300 ms), so a reset loses some in flight for certain.
      await waitFor(() => svc.stats().connections.S >= 10 && svc.stats().bulk_bytes > 0, { what: 'S and B running' });
      await new Promise((r) => setTimeout(r, 200));
      svc.destroyAllSockets();
      await new Promise((r) => setTimeout(r, 500));
      const r = await h.stop();
      assert.ok(r.broken_connections >= 4 + 1, `broken ${r.broken_connections}`);
      assert.ok(r.streams.P.broken_connections === 4, `P broken ${r.streams.P.broken_connections}`);
      assert.ok(r.streams.S.broken_connections >= 1);
      assert.ok(r.inflight_lost > 0);
      assert.ok(r.failed > 0);
      assert.ok((r.failures.reset ?? 0) > 0, JSON.stringify(r.failures));
      assert.equal(r.stream_verified, false);
      // The client reconnected: the bulk stream restarted and P kept going.
      assert.ok(r.streams.B.streams.length >= 2);
      assert.ok(r.streams.B.streams.at(-1)!.verified, 'the bulk stream after the crash verifies');
      assert.ok(r.streams.P.connections >= 8);
      assert.match(formatReport(r), /LOSS/);
    } finally {
      await svc.close();
    }
  });

  test('a service that stops answering: requests time out, the gap covers the stall', async () => {
    const svc = await startService({ port: 0, bind: '127.0.0.1' });
    try {
      const h = runClient(base(svc.port, { requestTimeoutMs: 300, slow: null }));
      await h.ready;
      await new Promise((r) => setTimeout(r, 200));
      svc.pause();
      await new Promise((r) => setTimeout(r, 800));
      svc.resume();
      await new Promise((r) => setTimeout(r, 300));
      const r = await h.stop();
      assert.ok(r.failed > 0);
      assert.ok((r.failures.timeout ?? 0) > 0, JSON.stringify(r.failures));
      assert.ok(r.inflight_lost > 0);
      // Each P connection was declared dead at its first timeout; reconnects during the stall die the same way.
      assert.ok(r.streams.P.broken_connections >= 4, `P broken ${r.streams.P.broken_connections}`);
      assert.equal(r.stream_verified, false);
      assert.ok(r.max_gap_ms >= 700, `max gap ${r.max_gap_ms}`);
      assert.ok(r.new_connection_gap_ms >= 700, `N gap ${r.new_connection_gap_ms}`);
    } finally {
      await svc.close();
    }
  });

  test('no service at all: refused connections are failed N requests, not lost; the gap is the whole run', async () => {
    const svc = await startService({ port: 0, bind: '127.0.0.1' });
    const port = svc.port;
    await svc.close();
    const h = runClient(base(port, { slow: null }));
    await new Promise((r) => setTimeout(r, 500));
    const r = await h.stop();
    assert.ok((r.failures.refused ?? 0) > 5);
    assert.equal(r.inflight_lost, 0);
    assert.equal(r.broken_connections, 0);
    assert.ok(r.streams.P.connect_failures > 0);
    assert.equal(r.streams.P.requests, 0);
    assert.equal(r.stream_verified, false, 'no bulk stream ever ran');
    // no reply ever: the gap spans the whole measured period (not a fixed number: the machine may be loaded)
    assert.ok(r.max_gap_ms >= r.duration_ms - 50, `gap ${r.max_gap_ms} vs duration ${r.duration_ms}`);
  });

  test('late replies are successes; stop drains the outstanding slow requests', async () => {
    const svc = await startService({ port: 0, bind: '127.0.0.1' });
    try {
      const h = runClient(base(svc.port, { persistent: null, perRequest: null, bulk: null, slow: { concurrency: 3, holdMs: 400 }, requestTimeoutMs: 1000 }));
      await waitFor(() => h.progress().requests >= 3, { what: 'slow requests sent' });
      const r = await h.stop();
      assertClean(r);
      assert.ok(r.drain_ms >= 300, `drain ${r.drain_ms}`);
      assert.equal(r.streams.S.ok, r.streams.S.requests);
      assert.ok(r.streams.S.latency_ms.p50 >= 400);
    } finally {
      await svc.close();
    }
  });

  test('a drain timeout shorter than the hold turns outstanding requests into timeouts', async () => {
    const svc = await startService({ port: 0, bind: '127.0.0.1' });
    try {
      const h = runClient(base(svc.port, { persistent: null, perRequest: null, bulk: null, slow: { concurrency: 2, holdMs: 2000 }, drainTimeoutMs: 100 }));
      await waitFor(() => svc.stats().connections.S >= 2, { what: 'slow requests at the service' });
      const r = await h.stop();
      assert.equal(r.streams.S.failed, 2);
      assert.equal(r.failures.timeout, 2);
      assert.equal(r.inflight_lost, 2);
    } finally {
      await svc.close();
    }
  });

  /**
   * A TCP proxy that re-sends every byte as its own write (1-byte segments with TCP_NODELAY); replies are
   * forwarded `replyDelayMs` late (so some are always in flight).
   */
  async function dribbleProxy(targetPort: number, halfOpen: boolean, replyDelayMs = 0): Promise<net.Server> {
    const dribble = (from: net.Socket, to: net.Socket, delayMs: number) => from.on('data', (d: Buffer) => {
      const send = () => { if (!to.writableEnded) for (const b of d) to.write(Buffer.from([b])); };
      if (delayMs > 0) setTimeout(send, delayMs); else send();
    });
    const proxy = net.createServer({ noDelay: true, allowHalfOpen: halfOpen }, (a) => {
      const b = net.connect({ host: '127.0.0.1', port: targetPort, noDelay: true, allowHalfOpen: halfOpen });
      dribble(a, b, 0);
      dribble(b, a, replyDelayMs);
      a.on('end', () => b.end());
      b.on('end', () => a.end());
      a.on('error', () => b.destroy());
      b.on('error', () => a.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    return proxy;
  }

  test('arbitrary TCP segmentation (1-byte segments both ways through a proxy) loses nothing', async () => {
    const svc = await startService({ port: 0, bind: '127.0.0.1' });
    // allowHalfOpen: the bulk stream's half-close at stop must pass through, or its echo is cut short.
    const proxy = await dribbleProxy(svc.port, true);
    try {
      const h = runClient(base((proxy.address() as net.AddressInfo).port, { bulk: { rateBytesPerSec: 64 * 1024 }, slow: { concurrency: 2, holdMs: 100 } }));
      await h.ready;
      await new Promise((r) => setTimeout(r, 700));
      const r = await h.stop();
      assertClean(r);
      assert.ok(r.streams.B.bytes_received > 10_000);
      assert.ok(r.streams.P.ok > 100);
    } finally {
      proxy.close();
      await svc.close();
    }
  });

  test('a middlebox that drops half-close cuts the bulk echo short: the stream is not verified', async () => {
    const svc = await startService({ port: 0, bind: '127.0.0.1' });
    const proxy = await dribbleProxy(svc.port, false, 50);
    try {
      const h = runClient(base((proxy.address() as net.AddressInfo).port, { persistent: null, perRequest: null, slow: null, bulk: { rateBytesPerSec: 256 * 1024 } }));
      await waitFor(() => svc.stats().bulk_bytes > 20_000, { what: 'bulk running' });
      const r = await h.stop();
      assert.equal(r.stream_verified, false);
      assert.equal(r.streams.B.failures.closed, 1, JSON.stringify(r.streams.B));
      assert.equal(r.broken_connections, 1);
      assert.ok(r.streams.B.bytes_received < r.streams.B.bytes_sent);
    } finally {
      proxy.close();
      await svc.close();
    }
  });
});

test('socket errors map to failure reasons', () => {
  const table: Array<[string | undefined, string]> = [
    ['ECONNRESET', 'reset'], ['EPIPE', 'reset'], ['ECONNREFUSED', 'refused'], ['ETIMEDOUT', 'timeout'],
    ['EHOSTUNREACH', 'unreachable'], ['ENETUNREACH', 'unreachable'], ['ENETDOWN', 'unreachable'], ['EHOSTDOWN', 'unreachable'],
    ['EMFILE', 'error'], [undefined, 'error'],
  ];
  for (const [code, want] of table) assert.equal(reasonOf(Object.assign(new Error('x'), { code })), want, String(code));
});

test('ready without P: the bulk stream alone becomes ready on its first echo', async () => {
  const svc = await startService({ port: 0, bind: '127.0.0.1' });
  try {
    const h = runClient(base(svc.port, { persistent: null, perRequest: null, slow: null }));
    await h.ready;
    const r = await h.stop();
    assertClean(r);
    assert.equal(r.max_gap_ms, 0, 'no P stream: no P gap');
  } finally {
    await svc.close();
  }
});

test('CLI: `lab serve` prints READY <port>, `lab client --json` prints the report as its last line, SIGTERM stops the service', async () => {
  const main = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));
  const svc = spawn(process.execPath, [main, 'lab', 'serve', '--port', '0', '--bind', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      createInterface({ input: svc.stdout! }).once('line', (l) => {
        const m = /^READY (\d+)$/.exec(l);
        if (m) resolve(Number(m[1])); else reject(new Error(`unexpected first line: ${l}`));
      });
      svc.once('exit', (c) => reject(new Error(`service exited ${c}`)));
    });
    const cli = spawn(process.execPath, [main, 'lab', 'client', '--target', `127.0.0.1:${port}`, '--duration', '1', '--hold', '200', '--json', '--progress'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    cli.stdout!.on('data', (d: Buffer) => (out += d));
    cli.stderr!.on('data', (d: Buffer) => (err += d));
    const code = await new Promise<number | null>((r) => cli.once('exit', r));
    assert.equal(code, 0, err);
    const lines = out.trim().split('\n');
    const r = JSON.parse(lines.at(-1)!) as WorkloadReport;
    assertClean(r);
    assert.equal(r.stop_reason, 'duration');
    assert.ok(r.requests > 100);
    const progress = err.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { t: number; requests: number });
    assert.ok(progress.length >= 3, `progress lines: ${progress.length}`);
    const exit = new Promise<number | null>((r) => svc.once('exit', r));
    svc.kill('SIGTERM');
    assert.equal(await exit, 0);
  } finally {
    svc.kill('SIGKILL');
  }
});
