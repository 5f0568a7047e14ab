// `hanet demo`: runs the takeover story on the embedded lab and prints what the clients saw.
// The action imports the demo when it runs; registering loads nothing of src/lab.
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import type { DemoLinkKind } from '../lab/link-profiles.js';
import { FAILURE_MODES, type FailureMode } from './lab-options.js';

export function registerDemoCommands(program: Command): void {
  program
    .command('demo')
    .description('on the embedded lab: run hanet on a and b, load a, cut a\'s public port, heal, and show that nothing was lost (root)')
    .option('--json', 'print one JSON object')
    .option('--mode <mode>', 'failure mode: carrier, silent or admin', 'carrier')
    .option('--cycles <n>', 'failure/heal cycles on the same connections', '1')
    .option('--outage <ms>', 'how long the port stays cut', '3000')
    .option('--name <lab>', 'lab name', 'demo')
    .option('--link <kind>', 'private link a-b: ethernet (veth), serial (115200-baud line) or udp (tunnel over a routed network)', 'ethernet')
    .option('--ipv6', 'on the IPv6-only lab (pair6: no IPv4 on the public LAN or the client network), clients reach a over IPv6')
    .option('--topology <name>', 'an embedded topology with servers a and b instead (e.g. l3: a and b in two racks behind BGP routers, docs/l3.md)')
    .option('--report <file>', 'write the HTML report here (default without --json: /tmp/hanet-demo-<time>.html)')
    .action(async (o: { json?: boolean; mode: string; cycles: string; outage: string; name: string; report?: string; link: string; ipv6?: boolean; topology?: string }) => {
      const [{ runDemo }, { DEMO_LINK_KINDS }, { createLiveView }, { renderDemoReport }, { LabError }] = await Promise.all([
        import('../lab/demo.js'), import('../lab/link-profiles.js'), import('../lab/demo-live.js'), import('../lab/demo-report.js'), import('../lab/errors.js'),
      ]);
      if (!(FAILURE_MODES as readonly string[]).includes(o.mode)) throw new LabError(`--mode must be carrier, silent or admin, not ${o.mode}`);
      if (!DEMO_LINK_KINDS.includes(o.link as DemoLinkKind)) throw new LabError(`--link must be ${DEMO_LINK_KINDS.join(', ')}, not ${o.link}`);
      if (o.ipv6 && o.link !== 'ethernet') throw new LabError(`--ipv6 runs on the Ethernet link only, not --link ${o.link}`);
      if (o.topology !== undefined && (o.ipv6 || o.link !== 'ethernet')) throw new LabError('--topology picks the lab itself: not with --ipv6 or --link');
      const ac = new AbortController();
      process.once('SIGINT', () => ac.abort());
      // On a terminal: a live one-screen view; otherwise plain step lines. Either way the daemons' events are
      // collected for the HTML report.
      const live = !o.json && process.stderr.isTTY === true;
      const view = createLiveView({ out: process.stderr, title: `hanet demo${o.ipv6 ? ' (IPv6)' : ''}${o.topology ? ` (${o.topology})` : ''}: ${o.mode} failure of a:eth0, ${o.cycles} cycle(s)`, quiet: !live });
      let res;
      try {
        res = await runDemo({
          name: o.name, mode: o.mode as FailureMode, cycles: Number(o.cycles), outageMs: Number(o.outage), link: o.link as DemoLinkKind, ipv6: o.ipv6 === true, signal: ac.signal,
          ...(o.topology !== undefined ? { topology: o.topology } : {}),
          onStep: o.json ? undefined : live ? (s) => view.step(s) : (s) => process.stderr.write(`${(s.at_ms / 1000).toFixed(2).padStart(7)} s  ${s.step}${s.detail ? `: ${s.detail}` : ''}\n`),
          observe: (h) => view.observe(h),
        });
      } finally {
        view.close();
      }
      const reportPath = o.report ?? (o.json ? undefined : `/tmp/hanet-demo-${new Date().toISOString().replace(/[:.]/g, '-')}.html`);
      if (reportPath) {
        writeFileSync(reportPath, renderDemoReport({ result: res, events: view.events }));
        if (o.json) process.stderr.write(`report: ${reportPath}\n`);
      }
      if (o.json) process.stdout.write(JSON.stringify(res) + '\n');
      else {
        const w = (k: string, v: unknown) => process.stdout.write(`  ${k.padEnd(20)} ${String(v)}\n`);
        process.stdout.write(`\nhanet demo (${res.mode} failure, ${res.cycles} cycle${res.cycles > 1 ? 's' : ''}, clients against ${res.target}): ${res.ok ? 'NOTHING LOST' : 'LOSS DETECTED'}\n`);
        w('requests', res.requests);
        w('failed', res.failed);
        w('broken connections', res.broken_connections);
        w('in-flight lost', res.inflight_lost);
        w('stream verified', res.stream_verified);
        w('largest gap', `${res.max_gap_ms.toFixed(1)} ms (budget ${res.max_gap_budget_ms} ms)`);
        w('latency p50 / p99', `${res.latency_ms.p50.toFixed(2)} / ${res.latency_ms.p99.toFixed(2)} ms`);
        w('takeover seen after', res.takeover_ms.map((x) => `${x} ms`).join(', '));
        if (reportPath) w('report', reportPath);
      }
      process.exitCode = res.ok ? 0 : 1;
    });
}
