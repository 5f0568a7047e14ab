// `hanet run`: builds the daemon's real ports (netlink kernel, AF_PACKET ARP, UDP control links), starts it,
// serves the control socket, and stops cleanly on SIGTERM/SIGINT.
import { getPriority, setPriority } from 'node:os';
import { performance } from 'node:perf_hooks';
import { loadConfig, loadKey } from '../config/load.js';
import { checkFileSafety, type SafeFileRole } from '../config/file-safety.js';
import { HanetError } from '../errors.js';
import type { CorePrivate } from '../core/types.js';
import { openKernel } from '../os/linux/kernel.js';
import { openArp } from '../os/linux/arp.js';
import { openNdp } from '../os/linux/ndp.js';
import { startMonitor } from '../os/linux/monitor.js';
import { startBirdWatch } from '../os/linux/bird-control.js';
import { birdSessionNames } from '../config/bird.js';
import { monitorBinding } from '../os/linux/native.js';
import { NativeWatcher } from './native-watcher.js';
import { ControlSender, deriveControlKey } from '../proto/control.js';
import { ReplayGuard } from '../proto/replay.js';
import { openPrivateLink } from '../links/open.js';
import { toCoreConfig } from './core-config.js';
import { Daemon } from './daemon.js';
import { serveControl } from './control-socket.js';
import { createLogger } from './logger.js';
import { startOperations } from './operations.js';
import { wallClockFromEnv } from './test-clock.js';
import { SysctlMemory, sysctlMemoryPath } from './sysctl-memory.js';

/**
 * An HA daemon must keep its heartbeats and probes on time when other processes saturate every core: measured, at the
 * default priority two busy loops on a 2-core machine made a peer miss heartbeats for over 200 ms (2 false peer-downs
 * a minute). Nice -10 (unless the operator set a priority already, e.g. the unit's Nice=) gives hanet the CPU it
 * needs, which is little.
 */
function raisePriority(log: ReturnType<typeof createLogger>): void {
  try {
    if (getPriority() === 0) setPriority(-10);
  } catch (err) {
    log.warn({ err: String(err) }, 'cannot raise the scheduling priority');
  }
}

function hasNativeMonitor(): boolean {
  try { monitorBinding(); return true; } catch { return false; }
}

/**
 * Root runs hanet: whoever can change its configuration or hook controls what root does, and whoever can read the key
 * can forge takeovers. Refuses to start with the file named and the fix (src/config/file-safety.ts has the rules).
 */
function requireSafeFile(path: string, role: SafeFileRole): void {
  const issues = checkFileSafety(path, role).filter((i) => i.problem !== 'missing');
  if (issues.length === 0) return;
  throw new HanetError('HANET_ERR_PERMISSION', `refusing to start: ${issues.map((i) => `${i.message} (fix: ${i.fix})`).join('; ')}`);
}

export async function runDaemon(configPath: string, opts: { keepStateOnExit: boolean }): Promise<void> {
  if (process.getuid?.() !== 0) throw new HanetError('HANET_ERR_PERMISSION', 'hanet run needs root (CAP_NET_ADMIN, raw sockets)');
  requireSafeFile(configPath, 'config');
  const cfg = loadConfig(configPath);
  requireSafeFile(cfg.keyFile, 'key');
  if (cfg.notify) requireSafeFile(cfg.notify.command, 'hook');
  const clusterKey = loadKey(cfg.keyFile);
  const key = deriveControlKey(clusterKey);
  const log = createLogger(cfg.logLevel, cfg.node);
  const core = toCoreConfig(cfg);
  const sysctls = new SysctlMemory(sysctlMemoryPath(cfg.controlSocket));
  const kernel = sysctls.wrap(openKernel());
  // The wall clock of send times and RTT echoes (a lab test hook can offset it: test-clock.ts). The replay guard
  // reads no wall clock (proto/replay.ts), so a step changes nothing but event times and one RTT sample.
  const clock = wallClockFromEnv();
  if (clock.injected) log.warn({ offsetMs: clock.offset() }, 'wall-clock offset injected (HANET_CLOCK_OFFSET_*: a test hook)');
  const sender = new ControlSender({ node: cfg.node, key, now: clock.now });
  const guard = new ReplayGuard();
  raisePriority(log);
  const carrierIntervalMs = Math.min(...cfg.public.map((p) => p.probe.carrierIntervalMs));
  // The native link monitor watches carrier and probes in its own thread (idle cost ~1% of a core instead of ~5%);
  // HANET_WATCHER=poll, or an addon without it, falls back to the portable loop in JavaScript.
  const native = process.env.HANET_WATCHER !== 'poll' && hasNativeMonitor();
  log.info({ watcher: native ? 'native' : 'poll' }, 'link watcher');
  const daemon = new Daemon(core, {
    now: () => performance.now(),
    kernel,
    // With the native monitor probing, the sockets here only send announcements and see other hosts' (kernel-filtered).
    openArp: (ifname) => openArp(ifname, { announcementsOnly: native }),
    openNdp: (ifname) => openNdp(ifname, { announcementsOnly: native }),
    ...(native ? { watch: ({ cfg: c }) => new NativeWatcher(c, startMonitor, log, carrierIntervalMs) } : {}),
    openLink: (l: CorePrivate) => openPrivateLink(cfg.private.find((p) => p.name === l.name)!, {
      key, clusterKey, sender, guard, port: cfg.port, localAddress: l.localAddress,
      onLineEvent: (link, e) => log[e.up ? 'info' : 'warn']({ link, why: e.why }, e.up ? 'serial line open' : 'serial line lost'),
    }),
    log,
    wallNow: clock.now, // the clock ControlSender stamps envelopes with, so echoed send times match
    sysctlsToRestore: () => sysctls.restore(),
    // L3 interfaces help only while BIRD announces for them (public[].bgp.check).
    watchBgp: (onState) => startBirdWatch(cfg.public.filter((p) => p.mode === 'l3' && p.bgp?.check === true).map((p) => ({ iface: p.interface, socket: p.bgp!.birdSocket, sessions: birdSessionNames(p) })), (iface, up, error) => {
      log[up ? 'info' : 'warn']({ iface, ...(error !== undefined ? { error } : {}) }, up ? 'BIRD: a BGP session is Established' : 'BIRD: no Established BGP session');
      onState(iface, up, error);
    }),
  }, { carrierIntervalMs });
  const operations = await startOperations(cfg, core, daemon, log); // metrics and notify hooks, subscribed before start
  await daemon.start();
  const control = await serveControl(cfg.controlSocket, daemon);
  log.info({ config: configPath, socket: cfg.controlSocket, publics: core.publics.length, links: core.privates.length }, 'hanet running');

  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      log.info({ signal: sig, cleanup: !opts.keepStateOnExit }, 'stopping');
      void (async () => {
        await control.close();
        if (!opts.keepStateOnExit) await daemon.handOver();
        const { cleaned } = await daemon.stop({ cleanup: !opts.keepStateOnExit });
        if (cleaned) sysctls.forget();
        await operations.close();
        clock.close();
        resolve();
      })();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  log.flush?.();
}
