// Lab test scaffolding: a lab from an embedded topology (or a given one) with hanet running on its servers, torn down afterwards
// whatever happens, and the daemons' last log lines attached to the test output when the test fails.
import type { TestContext } from 'node:test';
import { readFileSync } from 'node:fs';
import { requireRoot } from '../helpers.js';
import { labUp, type LabHandle } from '../../src/lab/lab.js';
import { defaultTopology, type Topology } from '../../src/lab/topology.js';
import { startCluster, type Cluster, type ClusterOptions } from '../../src/lab/cluster.js';

export const logTail = (path: string, lines = 40): string => {
  try { return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n'); } catch { return '(no log)'; }
};

/** Skips without root; otherwise runs `fn` with the lab and its cluster and always cleans up. */
export async function withCluster(
  t: TestContext,
  opts: { name: string; topology: string | Topology; cluster?: ClusterOptions },
  fn: (lab: LabHandle, c: Cluster) => Promise<void>,
): Promise<void> {
  if (!requireRoot(t)) return;
  const lab = await labUp(typeof opts.topology === 'string' ? defaultTopology(opts.topology) : opts.topology, { name: opts.name, replace: true });
  let cluster: Cluster | undefined;
  try {
    cluster = await startCluster(lab, opts.cluster);
    await fn(lab, cluster);
  } catch (err) {
    if (cluster) for (const n of cluster.servers) t.diagnostic(`${n} log:\n${logTail(cluster.logPath(n))}`);
    throw err;
  } finally {
    await cluster?.stop();
    await lab.down();
  }
}
