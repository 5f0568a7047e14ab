// `hanet run`, `hanet status` and `hanet events`: the daemon in the foreground, and what it says about itself.
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { askControl } from '../daemon/control-socket.js';
import type { DaemonStatus } from '../daemon/daemon.js';
import { runDaemon } from '../daemon/run.js';

export function registerRunCommands(program: Command): void {
  program
    .command('run')
    .description('run the hanet daemon in the foreground (as root; systemd Type=simple, logs to stderr)')
    .requiredOption('-c, --config <file>', 'configuration file (YAML)')
    .option('--keep-state-on-exit', 'on SIGTERM leave the kernel state as it is (for a restart that must not interrupt a takeover)')
    .action(async (o: { config: string; keepStateOnExit?: boolean }) => {
      await runDaemon(o.config, { keepStateOnExit: o.keepStateOnExit === true });
    });

  program
    .command('status')
    .description('ask the running daemon for interfaces, peers, takeovers and recent events')
    .option('-c, --config <file>', 'configuration file (to find the control socket)')
    .option('-s, --socket <path>', 'control socket path', '/run/hanet/hanet.sock')
    .option('--json', 'print one JSON object')
    .action(async (o: { config?: string; socket: string; json?: boolean }) => {
      const path = o.config ? loadConfig(o.config).controlSocket : o.socket;
      const [line] = await askControl(path, { cmd: 'status' });
      if (!line) throw new Error('the daemon closed the control socket without an answer');
      if (o.json) { process.stdout.write(line + '\n'); return; }
      process.stdout.write(formatStatus(JSON.parse(line) as DaemonStatus));
    });

  program
    .command('events')
    .description('the daemon\'s event log: failures, takeover steps, failbacks, rejected messages')
    .option('-c, --config <file>', 'configuration file (to find the control socket)')
    .option('-s, --socket <path>', 'control socket path', '/run/hanet/hanet.sock')
    .option('-f, --follow', 'keep printing new events')
    .option('--json', 'JSON lines')
    .action(async (o: { config?: string; socket: string; follow?: boolean; json?: boolean }) => {
      const path = o.config ? loadConfig(o.config).controlSocket : o.socket;
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort());
      await askControl(path, { cmd: 'events', follow: o.follow === true }, (line) => {
        if (o.json) { process.stdout.write(line + '\n'); return; }
        const { type, at, time, ...rest } = JSON.parse(line) as { type: string; at: number; time?: string };
        void at;
        const kv = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
        process.stdout.write(`${time ?? ''}  ${type.padEnd(20)} ${kv}\n`);
      }, ac.signal);
    });
}

export function formatStatus(s: DaemonStatus): string {
  const out: string[] = [];
  out.push(`node ${s.node}  ${s.ready ? 'ready' : 'starting'}  up ${(s.uptimeMs / 1000).toFixed(1)} s  reconciles ${s.kernel.reconciles}${s.kernel.lastError ? `  KERNEL ERROR: ${s.kernel.lastError}` : ''}`);
  out.push('', 'public interfaces:');
  for (const p of s.publics) {
    const pl = p.placement.kind === 'local' ? `on ${p.placement.iface}` : p.placement.kind === 'remote' ? `via ${p.placement.peer} (${p.placement.link})` : p.placement.kind;
    out.push(`  ${p.iface.padEnd(10)} ${p.lan.padEnd(8)} ${(p.health.healthy ? 'healthy' : `FAILED (${p.health.reason})`).padEnd(24)} rtt ${p.health.rttMs === undefined ? '-' : p.health.rttMs.toFixed(2) + ' ms'}  addresses ${p.addresses.join(',')} ${pl}`);
  }
  out.push('', 'private links:');
  for (const l of s.links) {
    out.push(`  ${l.name.padEnd(10)} ${l.kind.padEnd(8)} peer ${l.peer.padEnd(8)} ${l.alive ? 'alive' : 'DOWN'}  carrier ${l.carrierUp ? 'up' : 'down'}  last heartbeat ${l.lastHeartbeatAgoMs === null ? 'never' : `${Math.round(l.lastHeartbeatAgoMs)} ms ago`}`);
  }
  out.push('', 'takeovers:');
  if (!s.claims.length && !s.helping.length) out.push('  none');
  const age = (since: number) => `${((s.nowMs - since) / 1000).toFixed(1)} s`;
  for (const c of s.claims) out.push(`  ${c.helper} carries our ${c.addresses.join(',')} on ${c.lan} for ${age(c.since)} (claim ${c.claimId}, ${c.acked ? 'acknowledged' : 'waiting for ack'})`);
  for (const h of s.helping) out.push(`  we carry ${h.owner}'s ${h.addresses.join(',')} on ${h.lan} for ${age(h.since)} (${h.lingering ? 'releasing' : `lease renews, ${Math.round(h.expiresInMs)} ms left`})`);
  const rej = Object.entries(s.rejected);
  if (rej.length) out.push('', `rejected control messages: ${rej.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  out.push('', 'recent events:');
  for (const e of s.events.slice(-10)) {
    const { type, at, time, ...rest } = e;
    void at;
    out.push(`  ${String(time ?? '').slice(11, 23)} ${type.padEnd(20)} ${Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')}`);
  }
  return out.join('\n') + '\n';
}
