// Part 3 of the suite: bulk TCP throughput client <-> server a, direct vs through the helper (hanet takeover, b
// relays over the private veth; kernel forwarding only), both directions, with iperf3 (Debian package) in the
// namespaces. Phases alternate direct / helper in one lab so the ratio compares like with like.
import type { ChildProcess } from 'node:child_process';
import { labUp, type LabHandle } from '../../src/lab/lab.js';
import { defaultTopology } from '../../src/lab/topology.js';
import { startCluster } from '../../src/lab/cluster.js';
import { median, r2, r3, sleep } from './common.js';

export interface ThroughputResult {
  seconds: number;
  cycles: number;
  /** Gbit/s, median over cycles; upload = c -> a, download = a -> c */
  direct: { upload_gbps: number; download_gbps: number };
  helper: { upload_gbps: number; download_gbps: number };
  upload_ratio: number;
  download_ratio: number;
  samples: Array<{ phase: 'direct' | 'helper'; dir: 'upload' | 'download'; gbps: number; retransmits: number }>;
}

async function iperf(lab: LabHandle, seconds: number, reverse: boolean): Promise<{ gbps: number; retransmits: number }> {
  const r = await lab.exec('c', ['iperf3', '-c', '10.0.0.11', '-t', String(seconds), '-J', ...(reverse ? ['-R'] : [])], { timeoutMs: seconds * 1000 + 20_000 });
  const j = JSON.parse(r.stdout || '{}') as { end?: { sum_received?: { bits_per_second: number }; sum_sent?: { retransmits?: number } }; error?: string };
  if (!j.end?.sum_received) throw new Error(`iperf3 failed: ${j.error ?? r.stderr}`);
  return { gbps: r3(j.end.sum_received.bits_per_second / 1e9), retransmits: j.end.sum_sent?.retransmits ?? 0 };
}

export async function runThroughput(labName: string, o: { cycles: number; seconds: number; log?: (s: string) => void }): Promise<ThroughputResult> {
  const lab = await labUp(defaultTopology('pair'), { name: labName, replace: true });
  let server: ChildProcess | undefined;
  try {
    const cluster = await startCluster(lab);
    try {
      server = lab.spawn('a', ['iperf3', '-s'], { stdio: 'ignore' });
      const listening = async () => (await lab.exec('c', [process.execPath, '-e', `require('net').connect(5201,'10.0.0.11').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))`], { timeoutMs: 3000 })).code === 0;
      for (let i = 0; i < 100 && !(await listening()); i++) await sleep(50);
      const samples: ThroughputResult['samples'] = [];
      const measure = async (phase: 'direct' | 'helper') => {
        for (const dir of ['upload', 'download'] as const) {
          const s = await iperf(lab, o.seconds, dir === 'download');
          samples.push({ phase, dir, ...s });
          o.log?.(`  throughput ${phase} ${dir}: ${s.gbps} Gbit/s`);
        }
      };
      for (let c = 0; c < o.cycles; c++) {
        await measure('direct');
        await lab.fail('a:eth0', 'carrier');
        await cluster.waitFor('a', (s) => s.claims.some((x) => x.acked), { timeoutMs: 10_000, what: 'takeover' });
        await sleep(300);
        await measure('helper');
        await lab.heal('a:eth0');
        await cluster.waitFor('a', (s) => s.claims.length === 0 && s.publics.every((p) => p.placement.kind === 'own'), { timeoutMs: 15_000, what: 'failback' });
        await sleep(300);
      }
      const med = (phase: string, dir: string) => r3(median(samples.filter((s) => s.phase === phase && s.dir === dir).map((s) => s.gbps)));
      const direct = { upload_gbps: med('direct', 'upload'), download_gbps: med('direct', 'download') };
      const helper = { upload_gbps: med('helper', 'upload'), download_gbps: med('helper', 'download') };
      return {
        seconds: o.seconds, cycles: o.cycles, direct, helper,
        upload_ratio: r2(helper.upload_gbps / direct.upload_gbps), download_ratio: r2(helper.download_gbps / direct.download_gbps), samples,
      };
    } finally {
      server?.kill('SIGTERM');
      await cluster.stop();
    }
  } finally {
    await lab.down();
  }
}
