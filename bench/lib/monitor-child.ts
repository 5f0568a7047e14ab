// Child processes of bench/monitor.ts, run inside the lab's namespaces: the native monitor, the daemon's JS loop
// as it is today, a bare node process, and the cutter (switch side). Imports only what each one measures.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';

export type ChildMode = 'native' | 'js' | 'node';
export interface Obs { type: string; iface: string; monoMs: number; lowerUp?: boolean; misses?: number; source?: string }
const IFACES = [{ ifname: 'eth0', gw: '10.0.0.1' }, { ifname: 'eth1', gw: '192.168.100.2' }];
export const INTERVAL_MS = 10;
const monoMs = (): number => Number(process.hrtime.bigint()) / 1e6; // CLOCK_MONOTONIC, as the monitor's times
const print = (o: unknown): void => { process.stdout.write(`${JSON.stringify(o)}\n`); };


async function nativeChild(): Promise<void> {
  const { startMonitor, arpTarget } = await import('../../src/os/linux/monitor.js');
  const mon = startMonitor({
    interfaces: IFACES.map((f) => ({
      ifname: f.ifname, carrierIntervalMs: INTERVAL_MS,
      // `ip netns exec` mounts the namespace's own sysfs: the MAC read here is this namespace's interface's.
      targets: [arpTarget({ id: 'gw', ownMac: readFileSync(`/sys/class/net/${f.ifname}/address`, 'utf8').trim(), targetIp: f.gw, intervalMs: INTERVAL_MS })],
    })),
  });
  mon.onObservation((o) => print({ obs: o }));
  print({ ready: true });
}

/** The daemon's loop as it is today (src/daemon/daemon.ts poll()), with miss counting as src/core/health.ts. */
async function jsChild(): Promise<void> {
  const { openKernel } = await import('../../src/os/linux/kernel.js');
  const { openArp } = await import('../../src/os/linux/arp.js');
  const kernel = openKernel();
  const st = IFACES.map((f) => ({
    ...f, arp: openArp(f.ifname), ok: undefined as boolean | undefined, since: 0, lastProbe: -Infinity,
    lastProbeAt: undefined as number | undefined, lastReplyAt: -1, misses: 0, confirmed: false,
  }));
  for (const s of st) {
    s.arp.onReply((r) => {
      if (r.senderIp !== s.gw) return;
      s.lastReplyAt = r.atMs;
      if (s.misses > 0 || !s.confirmed) print({ obs: { type: 'reply', iface: s.ifname, monoMs: monoMs(), afterMisses: s.misses } });
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
        s.arp.drain();
        const l = links[i];
        const ok = !!l && l.up && l.lowerUp;
        if (ok !== s.ok) {
          s.ok = ok; s.since = now; s.misses = 0; s.confirmed = false;
          print({ obs: { type: 'link', iface: s.ifname, monoMs: monoMs(), lowerUp: l?.lowerUp ?? false, source: 'poll' } });
        }
      });
      for (const s of st) {
        if (now - s.lastProbe < INTERVAL_MS * 0.75) continue;
        s.lastProbe = now;
        if (s.ok && s.lastProbeAt !== undefined && s.lastProbeAt >= s.since && s.lastReplyAt < s.lastProbeAt) {
          s.misses++;
          print({ obs: { type: 'miss', iface: s.ifname, monoMs: monoMs(), misses: s.misses } });
        }
        try { s.arp.sendProbe(s.gw); s.lastProbeAt = now; } catch { /* ENETDOWN: the carrier read says so */ }
      }
      polling = false;
    });
  }, INTERVAL_MS);
  print({ ready: true });
}

/** Cuts a switch port by netlink from inside the switch's namespace and reports CLOCK_MONOTONIC around the call. */
async function cutter(): Promise<void> {
  const { NetlinkSocket } = await import('../../src/os/linux/netlink.js');
  const { native } = await import('../../src/os/linux/native.js');
  const { RTM_NEWLINK, IFF_UP, encodeLink } = await import('../../src/proto/netlink.js');
  const nl = NetlinkSocket.open();
  const IFLA_MASTER = 10;
  createInterface({ input: process.stdin }).on('line', (line) => {
    const { mode, port } = JSON.parse(line) as { mode: 'carrier' | 'silent'; port: string };
    const ifindex = native().ifNameToIndex(port);
    const link = encodeLink({ family: 0, ifindex, type: 0, flags: 0, change: mode === 'carrier' ? IFF_UP : 0 });
    // silent: IFLA_MASTER = 0 takes the port off the bridge (`ip link set ... nomaster`); the carrier stays up
    const master = Uint8Array.of(8, 0, IFLA_MASTER, 0, 0, 0, 0, 0);
    const payload = mode === 'carrier' ? link : Buffer.concat([link, master]);
    const t0 = monoMs();
    void nl.request(RTM_NEWLINK, 0, payload, { what: `cut ${port}` }).then(() => print({ t0, t1: monoMs() }), (e: Error) => print({ error: e.message }));
  });
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const role = process.argv[2];
  const entry = role === 'native' ? nativeChild : role === 'js' ? jsChild : role === 'cutter' ? cutter : async () => { setInterval(() => {}, 1000); };
  entry().catch((e) => { process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`); process.exit(1); });
}
