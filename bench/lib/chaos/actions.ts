// The chaos run's hands: every fault it injects and heals, each keeping the watcher's fault record (FaultRecord) in
// step with the lab: a port or link counts as failed once the command that fails it is done, and as working again
// once the command that heals it is done (a command takes ~10-100 ms: the record is never ahead of the lab).
import { setTimeout as sleep } from 'node:timers/promises';
import type { LabHandle } from '../../../src/lab/lab.js';
import type { LiveCluster } from '../../../src/lab/live-cluster.js';
import { failLink, healLink, nodeLinks, privateLinks, type LinkFault, type PrivateLinkInfo } from '../../../src/lab/faults.js';
import type { FaultRecord } from '../../../src/lab/watch/conditions.js';
import { serverPorts } from '../../../src/lab/topology.js';
import type { PortMode } from './schedule.js';

export const GATEWAY_PORT = 'r:eth1';

export class ChaosHands {
  readonly links: PrivateLinkInfo[];
  /** Nodes whose daemon the run has taken down on purpose (settling waits for them to be back). */
  readonly down = new Set<string>();

  constructor(readonly lab: LabHandle, readonly cluster: LiveCluster, readonly rec: FaultRecord) {
    this.links = privateLinks(lab.topology);
  }

  publics(node: string): string[] { return serverPorts(this.lab.topology, node).public.map((p) => p.port); }

  /** The record says failed once the port surely is (after the command), and working once it surely is again. */
  async failPort(port: string, mode: PortMode): Promise<void> {
    const [n, p] = port.split(':') as [string, string];
    await this.lab.fail(port, mode);
    this.rec.failPort(n, p);
  }

  async healPort(port: string): Promise<void> {
    const [n, p] = port.split(':') as [string, string];
    await this.lab.heal(port);
    this.rec.healPort(n, p);
  }

  /** 5 carrier changes within 1 s (down, up, down, up, down): the port is left down. */
  async flap(port: string): Promise<void> {
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      if (i % 2 === 0) await this.failPort(port, 'carrier'); else await this.healPort(port);
      await sleep(Math.max(0, 200 - (performance.now() - t0)));
    }
  }

  link(id: string): PrivateLinkInfo { return this.links.find((l) => l.id === id)!; }

  /** The topology link a daemon's configured link name stands for (ab, bd-ser, bd-udp: cluster.ts names them). */
  linkByName(name: string): PrivateLinkInfo | undefined {
    return this.links.find((l) => {
      const base = [l.ends[0].node, l.ends[1].node].sort().join('');
      return name === (l.kind === 'veth' ? base : `${base}-${l.kind === 'serial' ? 'ser' : 'udp'}`);
    });
  }

  /** Which nodes' packets a fault loses: cut and silent both ends', oneway the sender's towards end `towards`. */
  private losers(l: PrivateLinkInfo, fault: LinkFault, towards: 0 | 1): string[] {
    return fault === 'oneway' ? [l.ends[1 - towards]!.node] : [l.ends[0].node, l.ends[1].node];
  }

  async failLink(id: string, fault: LinkFault, towards: 0 | 1 = 1): Promise<void> {
    const l = this.link(id);
    await failLink(this.lab, id, fault, towards);
    this.rec.failLink(id, this.losers(l, fault, towards));
  }

  async healLink(id: string, fault: LinkFault, towards: 0 | 1 = 1): Promise<void> {
    const l = this.link(id);
    await healLink(this.lab, id);
    this.rec.healLink(id, this.losers(l, fault, towards));
  }

  async unplugSerial(id: string, mode: 'hangup' | 'silent'): Promise<void> {
    const l = this.link(id);
    await this.lab.unplug(`${l.ends[0].node}:${l.ends[0].port}`, mode);
    this.rec.failLink(id, [l.ends[0].node, l.ends[1].node]);
  }

  async plugSerial(id: string): Promise<void> {
    const l = this.link(id);
    await this.lab.plug(`${l.ends[0].node}:${l.ends[0].port}`);
    this.rec.healLink(id, [l.ends[0].node, l.ends[1].node]);
  }

  private nodeLinkIds(node: string): PrivateLinkInfo[] { return this.links.filter((l) => l.ends.some((e) => e.node === node)); }

  async nodeLinksDown(node: string): Promise<void> {
    await nodeLinks(this.lab, node, false);
    for (const l of this.nodeLinkIds(node)) this.rec.failLink(l.id, [l.ends[0].node, l.ends[1].node]);
  }

  async nodeLinksUp(node: string): Promise<void> {
    await nodeLinks(this.lab, node, true);
    for (const l of this.nodeLinkIds(node)) this.rec.healLink(l.id, [l.ends[0].node, l.ends[1].node]);
  }

  async stopDaemon(node: string, signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
    this.down.add(node);
    this.rec.daemonDown(node);
    await this.cluster.kill(node, signal);
  }

  /** Starts the daemon; it counts as up once ready (`wait` false: the caller calls daemonReady()). */
  async startDaemon(node: string, wait = true): Promise<void> {
    await this.cluster.start(node, { wait });
    if (wait) this.daemonReady(node);
  }

  daemonReady(node: string): void {
    this.down.delete(node);
    this.rec.daemonBack(node);
  }

  freeze(node: string): void { this.rec.daemonDown(node); this.cluster.signal(node, 'SIGSTOP'); }
  thaw(node: string): void { this.cluster.signal(node, 'SIGCONT'); if (!this.down.has(node)) this.rec.daemonBack(node); }
}
