// RESULTS.md's scale section (issue #15): the generated N-server cluster with K failing at once, per fabric.
import type { ScaleResult } from './scale.js';

const f = (x: number, d = 0): string => (Number.isFinite(x) ? x.toFixed(d) : '–');

export function renderScale(rs: readonly ScaleResult[]): string[] {
  if (rs.length === 0) return [];
  const sizes = [...new Set(rs.map((r) => `${r.servers} servers (${r.fabric.toUpperCase()})`))];
  const L: string[] = [`## Scale: ${sizes.join(', ')}, ${[...new Set(rs.map((r) => r.failing))].join(' / ')} failing at once`, ''];
  L.push('A generated lab (`hanet lab up --servers N --links GRAPH --fabric l2|l3`), hanet on every server with its default settings; '
    + 'after an idle window, K servers\' public ports fail at the same instant (spread around the private-link ring, so each keeps a helper), '
    + 'each under its own P/N/S/B workload (lighter than the single-failure bench: 2 persistent connections at 20 ms, a new connection every 100 ms, '
    + '2 slow requests, 128 KiB/s bulk), and are healed together. All of it on this machine\'s 2 cores.', '');
  L.push('| fabric | heartbeat (ms) | servers / failing | links | failure detected → helper acknowledged, median / max (ms) | seen acknowledged by the bench (polled), median / max (ms) | largest gap median / max (ms) | failed | broken | in-flight lost | streams | requests | idle CPU, all daemons (% of a core) | idle memory, all daemons: RSS / PSS / private (MiB) | daemons\' CPU during the failures | machine idle meanwhile | false failures while idle |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rs) {
    L.push(`| ${r.fabric} | ${r.heartbeat ? `${r.heartbeat.interval_ms} / ${r.heartbeat.timeout_ms}` : '50 / 200 (default)'} | ${r.servers} / ${r.failing} | ${r.links} | ${f(r.median_ack_ms ?? NaN, 1)} / ${f(r.max_ack_ms ?? NaN, 1)} | ${f(r.median_takeover_ms)} / ${f(r.max_takeover_ms)} | ${f(r.median_gap_ms, 1)} / ${f(r.max_gap_ms, 1)} | ${r.failed} | ${r.broken} | ${r.lost} | ${r.streams_ok ? 'all verified' : '**NOT verified**'} | ${r.requests} | ${f(r.idle.cpu_pct, 1)}% (${f(r.idle.cpu_pct / r.servers, 2)}% each) | ${f(r.idle.rss_mib)} / ${f(r.idle.pss_mib)} / ${f(r.idle.private_mib)} (${f(r.idle.pss_mib / r.servers, 1)} PSS each) | ${f(r.failover_cpu_pct, 1)}% | ${f(r.machine_idle_pct)}% | ${r.idle_false_events ?? '–'} |`);
  }
  L.push('');
  for (const r of rs) {
    L.push(`${r.fabric} (${r.servers} servers; lab up ${f(r.lab_up_s, 1)} s, cluster ready ${f(r.cluster_ready_s, 1)} s), per failed server: `
      + r.per_server.map((p) => `${p.node} → ${p.helper}: acknowledged ${f(p.ack_ms ?? NaN, 1)} ms after detection, gap ${f(p.max_gap_ms, 1)} ms`).join('; ') + '.', '');
  }
  L.push('"Detected → acknowledged" is on each owner\'s own clock (its iface-failed and takeover-acked events); "seen by the bench" is when '
    + 'the owner\'s status, polled over 8 control sockets at once on the saturated machine, showed it: an upper bound. The gaps are the clients\' own measure. RSS counts the node binary\'s shared pages once per daemon; PSS shares them out.', '');
  return L;
}
