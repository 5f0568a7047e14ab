// Child processes of bench/monitor.ts, run inside the lab's namespaces: the native monitor, the daemon's JS loop
// as it is today, a bare node process, and the cutter (switch side). Imports only what each one measures.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';

export type ChildMode = 'native' | 'js' | 'node';
/** An observation as a child prints it: `monoMs` when the loop made it, `jsMs` when JavaScript had it (same for
 * the JS loop; for the native monitor, the thread's time and the delivery through uv_async). */
export interface Obs { type: string; iface: string; monoMs: number; jsMs: number; lowerUp?: boolean; misses?: number; source?: string }
// Probed interfaces of server a in the `pair` lab, plus carrier-only interfaces named after the mode on the command line.
const IFACES: Array<{ ifname: string; gw?: string }> = [
  { ifname: 'eth0', gw: '10.0.0.1' }, { ifname: 'eth1', gw: '192.168.100.2' }, ...process.argv.slice(3).map((ifname) => ({ ifname })),
];
/** Carrier read and probe interval of both loops (bench/monitor.ts --interval sets it for its children). */
export const INTERVAL_MS = Number(process.env.HANET_BENCH_INTERVAL_MS ?? 10);
const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6; // CLOCK_MONOTONIC, as the monitor's times
const print = (o: unknown): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };


async function nativeChild(): Promise<void> {
  const { startMonitor, arpTarget } = await import('../../src/os/linux/monitor.js');
  const mon = startMonitor({
    interfaces: IFACES.map((f) => ({
      ifname: f.ifname, carrierIntervalMs: INTERVAL_MS,
      // `ip netns exec` mounts the namespace's own sysfs: the MAC read here is this namespace's interface's.
      targets: f.gw ? [arpTarget({ id: 'gw', ownMac: readFileSync(`/sys/class/net/${f.ifname}/address`, 'utf8').trim(), targetIp: f.gw, intervalMs: INTERVAL_MS })] : [],
    })),
  });
  mon.onObservation((o) => print({ obs: { ...o, jsMs: monoMs() } }));
  print({ ready: true });
}

/** The daemon's loop as it is today (src/daemon/daemon.ts poll()), with miss counting as src/core/health.ts. */
async function jsChild(): Promise<void> {
  const { openKernel } = await import('../../src/os/linux/kernel.js');
  const { openArp } = await import('../../src/os/linux/arp.js');
  const kernel = openKernel();
  const st = IFACES.map((f) => ({
    ...f, arp: f.gw ? openArp(f.ifname) : undefined, ok: undefined as boolean | undefined, since: 0, lastProbe: -Infinity,
    lastProbeAt: undefined as number | undefined, lastReplyAt: -1, misses: 0, confirmed: false,
  }));
  for (const s of st) {
    s.arp?.onReply((r) => {
      if (r.senderIp !== s.gw) return;
      s.lastReplyAt = r.atMs;
      if (s.misses > 0 || !s.confirmed) { const t = monoMs(); print({ obs: { type: 'reply', iface: s.ifname, monoMs: t, jsMs: t, afterMisses: s.misses } }); }
      s.misses = 0;
      s.confirmed = true;
    });
  }
  let polling = false;
  setInterval(() => {
    if (polling) return;
    polling = true;
    void Promise.all(st.map((s) => kernel.getLink(s.ifname).catch(() => undefined))).then((links) => {
      const now = performance.now();
      st.forEach((s, i) => {
        s.arp?.drain();
        const l = links[i];
        const ok = !!l && l.up && l.lowerUp;
        if (ok !== s.ok) {
          s.ok = ok; s.since = now; s.misses = 0; s.confirmed = false;
          const t = monoMs();
          print({ obs: { type: 'link', iface: s.ifname, monoMs: t, jsMs: t, lowerUp: l?.lowerUp ?? false, source: 'poll' } });
        }
      });
      for (const s of st) {
        if (!s.arp || !s.gw) continue;
        if (now - s.lastProbe < INTERVAL_MS * 0.75) continue;
        s.lastProbe = now;
        if (s.ok && s.lastProbeAt !== undefined && s.lastProbeAt >= s.since && s.lastReplyAt < s.lastProbeAt) {
          s.misses++;
          const t = monoMs();
          print({ obs: { type: 'miss', iface: s.ifname, monoMs: t, jsMs: t, misses: s.misses } });
        }
        try { s.arp.sendProbe(s.gw); s.lastProbeAt = now; } catch { /* ENETDOWN: the carrier read says so */ }
      }
      polling = false;
    });
  }, INTERVAL_MS);
  print({ ready: true });
}

/**
 * Cuts ports by netlink from inside their namespace and reports CLOCK_MONOTONIC around the calls (JSON lines in,
 * JSON lines out): `carrier` (admin down: the peer loses carrier), `up`, `silent` (off its bridge, carrier kept),
 * `rejoin` (back on bridge `bridge`), and `blackout` (silent for `ms`, then rejoin: a blackout of known length).
 */
async function cutter(): Promise<void> {
  const { NetlinkSocket } = await import('../../src/os/linux/netlink.js');
  const { native } = await import('../../src/os/linux/native.js');
  const { RTM_NEWLINK, IFF_UP, encodeLink } = await import('../../src/proto/netlink.js');
  const nl = NetlinkSocket.open();
  const IFLA_MASTER = 10;
  type Cmd = { mode: 'carrier' | 'silent' | 'up' | 'rejoin' | 'blackout'; port: string; bridge?: string; ms?: number };
  const set = async (c: Cmd, mode: Exclude<Cmd['mode'], 'blackout'>): Promise<[number, number]> => {
    const ifindex = native().ifNameToIndex(c.port);
    const link = encodeLink({ family: 0, ifindex, type: 0, flags: mode === 'up' ? IFF_UP : 0, change: mode === 'carrier' || mode === 'up' ? IFF_UP : 0 });
    // IFLA_MASTER (u32): 0 takes the port off its bridge (`ip link set ... nomaster`), a bridge's ifindex puts it back
    const master = Buffer.alloc(8);
    master.writeUInt16LE(8, 0);
    master.writeUInt16LE(IFLA_MASTER, 2);
    master.writeUInt32LE(mode === 'rejoin' ? native().ifNameToIndex(c.bridge ?? 'br0') : 0, 4);
    const payload = mode === 'silent' || mode === 'rejoin' ? Buffer.concat([link, master]) : link;
    const t0 = monoMs();
    await nl.request(RTM_NEWLINK, 0, payload, { what: `${mode} ${c.port}` });
    return [t0, monoMs()];
  };
  createInterface({ input: process.stdin }).on('line', (line) => {
    const c = JSON.parse(line) as Cmd;
    const run = async (): Promise<Record<string, number>> => {
      if (c.mode !== 'blackout') { const [t0, t1] = await set(c, c.mode); return { t0, t1 }; }
      const [t0, t1] = await set(c, 'silent');
      while (monoMs() < t1 + (c.ms ?? 20)) { /* busy: a timer would add its own lateness to the blackout */ }
      const [t2, t3] = await set(c, 'rejoin');
      return { t0, t1, t2, t3 };
    };
    run().then(print, (e: Error) => print({ error: e.message }));
  });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const role = process.argv[2];
  const entry = role === 'native' ? nativeChild : role === 'js' ? jsChild : role === 'cutter' ? cutter : async () => { setInterval(() => {}, 1000); };
  entry().catch((e) => { process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
}
