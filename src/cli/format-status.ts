// Readable text of `hanet status` (tables) and of one `hanet events` line; the JSON forms are the daemon's own objects.
import type { CoreLogEvent } from '../core/types.js';
import type { DaemonStatus } from '../daemon/daemon.js';

/** Left-aligned columns, two spaces apart; the header row first. */
export function table(rows: string[][], indent = '  '): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => { widths[i] = Math.max(widths[i] ?? 0, c.length); });
  return rows.map((r) => indent + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}

const ms = (x: number | null | undefined, digits = 2): string => (x === null || x === undefined ? '-' : `${x.toFixed(digits)} ms`);
const dur = (x: number): string => (x < 1000 ? `${Math.round(x)} ms` : x < 120_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.floor(x / 60_000)} min ${Math.round((x % 60_000) / 1000)} s`);
const kv = (o: Record<string, unknown>): string => Object.entries(o)
  .filter(([, v]) => v !== undefined)
  .map(([k, v]) => `${k}=${typeof v === 'string' ? v : Array.isArray(v) && v.every((x) => typeof x === 'string') ? v.join(',') : JSON.stringify(v)}`).join(' ');

/** One event as a line: "2025-01-01T12:00:01.234Z  takeover-acked        lan=lan0 helper=b ms=1.2". */
export function formatEvent(e: CoreLogEvent, opts: { timeOnly?: boolean } = {}): string {
  const { type, at, time, ...rest } = e;
  void at;
  const t = String(time ?? '');
  return `${opts.timeOnly ? t.slice(11, 23) : t}  ${type.padEnd(20)} ${kv(rest)}`.trimEnd();
}

export function formatStatus(s: DaemonStatus): string {
  const out: string[] = [];
  const kernel = s.kernel.lastError ? `KERNEL ERROR: ${s.kernel.lastError}` : `kernel ok (${s.kernel.reconciles} reconciles)`;
  out.push(`node ${s.node}  ${s.ready ? 'ready' : 'STARTING'}  up ${dur(s.uptimeMs)}  ${kernel}  hanet ${s.hanet ?? '?'}  ${s.time}`);

  out.push('', 'PUBLIC INTERFACES');
  const pubRows = [['INTERFACE', 'LAN', 'HEALTH', 'PROBE RTT', 'ADDRESSES', 'SERVED']];
  for (const p of s.publics) {
    const h = p.health;
    const health = !h.healthy ? `FAILED ${h.reason} ${dur(s.nowMs - h.since)}` : !h.usable ? `recovering (hold-down, ${dur(s.nowMs - h.since)})` : h.reason === 'gateway-unreachable' ? 'ok, GATEWAY UNREACHABLE' : 'healthy';
    const pl = p.placement;
    const served = pl.kind === 'own' ? 'here' : pl.kind === 'local' ? `on ${pl.iface} (local backup)` : pl.kind === 'remote' ? `by ${pl.peer} over ${pl.link}` : 'UNSERVED';
    pubRows.push([p.iface, p.lan, health, h.healthy ? ms(h.rttMs) : '-', p.addresses.join(' '), served]);
  }
  out.push(...table(pubRows));

  out.push('', 'PRIVATE LINKS');
  const linkRows = [['LINK', 'KIND', 'PEER', 'STATE', 'CARRIER', 'LAST HEARTBEAT', 'HEARTBEAT RTT', 'PEER LANS', 'REJECTED']];
  for (const l of s.links) {
    const rtt = l.rtt?.lastMs === null || l.rtt === undefined ? '-' : `${ms(l.rtt.lastMs, 0)} (avg ${ms(l.rtt.avgMs, 1)})`;
    const lans = Object.entries(l.peerLans).map(([k, v]) => `${k}:${!v.healthy ? 'FAILED' : v.gateway === false ? 'no-gateway' : 'ok'}`).join(' ') || '-';
    const rej = Object.entries(l.rejected ?? {}).map(([k, v]) => `${k} ${v}`).join(', ') || '0';
    linkRows.push([l.name, l.kind, l.peer, l.alive ? 'alive' : 'DOWN', l.carrierUp ? 'up' : 'DOWN',
      l.lastHeartbeatAgoMs === null ? 'never' : `${dur(l.lastHeartbeatAgoMs)} ago`, rtt, lans, rej]);
  }
  out.push(...table(linkRows));

  out.push('', 'TAKEOVERS');
  if (!s.claims.length && !s.helping.length) out.push('  none');
  else {
    const rows = [['ROLE', 'LAN', 'PEER', 'ADDRESSES', 'FOR', 'STATE']];
    for (const c of s.claims) rows.push(['owner', c.lan, `${c.helper} carries ours`, c.addresses.join(' '), dur(s.nowMs - c.since), `${c.acked ? 'acknowledged' : 'WAITING FOR ACK'} (claim ${c.claimId})`]);
    for (const h of s.helping) rows.push(['helper', h.lan, `we carry ${h.owner}'s`, h.addresses.join(' '), dur(s.nowMs - h.since), h.lingering ? 'released, route lingers' : `lease ${dur(Math.max(0, h.expiresInMs))} left (claim ${h.claimId})`]);
    out.push(...table(rows));
  }

  const c = s.eventCounts ?? {};
  const n = (k: keyof typeof c) => c[k] ?? 0;
  out.push('', `COUNTS  interface failures ${n('iface-failed')}  takeovers requested ${n('takeover-requested')} / acked ${n('takeover-acked')} / refused ${n('takeover-refused')}  failbacks ${n('failback')}  helped ${n('help-start')}  leases expired ${n('lease-expired')}`);
  const rej = Object.entries(s.rejected);
  if (rej.length) out.push(`REJECTED CONTROL MESSAGES  ${rej.map(([k, v]) => `${k} ${v}`).join(', ')}`);

  out.push('', 'RECENT EVENTS');
  const evs = s.events.slice(-10);
  if (!evs.length) out.push('  none');
  for (const e of evs) out.push(`  ${formatEvent(e, { timeOnly: true })}`);
  return out.join('\n') + '\n';
}
