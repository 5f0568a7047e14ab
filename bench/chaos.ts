// `npm run chaos -- --seed N --faults K [--json] [--keep] [--bulk-rate B]`: the seeded chaos run of issue #10 on the
// quad lab (root; see bench/CHAOS.md): prints a summary (or one JSON object) and exits non-zero if anything that is
// not explained by a no-path period was lost, double answering outlasted a heartbeat timeout, or hanet left state.
import { runChaos } from './lib/chaos/runner.js';
import { kindTable } from './lib/chaos/report.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : def;
  if (!Number.isFinite(v)) throw new Error(`${name} needs a number`);
  return v;
};
const json = args.includes('--json');
const t0 = Date.now();
const result = await runChaos({
  seed: opt('--seed', 1), faults: opt('--faults', 20), keep: args.includes('--keep'), bulkRate: opt('--bulk-rate', 256 * 1024),
  log: (l) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(7)} s] ${l}\n`),
});
const ok = result.failed === 0 && result.broken_connections === 0 && result.inflight_lost === 0 && result.stream_verified &&
  result.double_answer_over_timeout_ms === 0 && result.leftovers === 0;
if (json) process.stdout.write(JSON.stringify(result) + '\n');
else {
  process.stdout.write(`chaos run: seed ${result.seed}, ${result.faults} faults in ${result.duration_s} s\n`);
  process.stdout.write(`requests ${result.requests}: failed ${result.failed}, broken connections ${result.broken_connections}, in-flight lost ${result.inflight_lost}, no-path ${result.no_path_requests}, stream ${result.stream_verified ? 'verified' : 'NOT verified'}\n`);
  process.stdout.write(`double answering ${result.double_answer_ms} ms (beyond one heartbeat timeout: ${result.double_answer_over_timeout_ms} ms), black holes ${result.black_hole_ms} ms, no path ${result.no_path_ms} ms, leftovers ${result.leftovers}\n`);
  process.stdout.write(`watcher: ${result.watcher.samples} samples, every ${result.watcher.intervalMs.mean} ms (p99 ${result.watcher.intervalMs.p99}), cost ${result.watcher.cost.samplersCpuPct}% + ${result.watcher.cost.watcherProcessCpuPct}% of a core\n\n`);
  process.stdout.write(kindTable(result) + '\n');
  const worst = [...result.per_episode].sort((a, b) => b.largest_gap_ms - a.largest_gap_ms).slice(0, 5);
  process.stdout.write(`\nlargest gaps: ${worst.map((e) => `#${e.index} ${e.kind} ${e.largest_gap_ms} ms (${e.gap_on})`).join(', ')}\n`);
  for (const u of result.unsettled) process.stdout.write(`unsettled #${u.index} ${u.kind} ${u.what}: ${u.problem}\n`);
  for (const l of result.losses) process.stdout.write(`loss at ${l.at_s} s on ${l.address}: failed ${l.failed}, broken ${l.broken}, lost ${l.lost} (${l.episode ?? 'between episodes'})\n`);
  for (const d of result.double_answers_over_timeout) process.stdout.write(`double answering ${d.address} ${d.ms} ms by ${d.who} (${d.episode ?? 'between episodes'})\n`);
  for (const l of result.leftover_details) process.stdout.write(`leftover on ${l.node}: ${l.what} ${l.detail}\n`);
}
process.exitCode = ok ? 0 : 1;
