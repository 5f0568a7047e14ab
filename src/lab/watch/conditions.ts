// The lab's fault record as the watcher reads it: which ports are failed and which private links lose packets in
// which direction, kept by whoever injects the faults (the chaos runner) and updated as each fault is applied.
import type { Conditions } from './model.js';

export class FaultRecord implements Conditions {
  /** `node:port` of failed ports (public ports, the gateway's LAN port), with a count: overlapping faults nest. */
  private readonly ports = new Map<string, number>();
  /** Link id -> the nodes whose packets towards the other end are lost (both ends: a cut or silent link). */
  private readonly links = new Map<string, Map<string, number>>();

  /** Nodes whose daemon is down (killed, frozen, restarting and not yet ready). */
  private readonly daemons = new Set<string>();

  daemonDown(node: string): void { this.daemons.add(node); }
  daemonBack(node: string): void { this.daemons.delete(node); }
  daemonUp(node: string): boolean { return !this.daemons.has(node); }

  failPort(node: string, port: string): void { this.bump(this.ports, `${node}:${port}`, 1); }
  healPort(node: string, port: string): void { this.bump(this.ports, `${node}:${port}`, -1); }

  /** Packets from each node in `from` towards the other end of link `id` are lost. */
  failLink(id: string, from: string[]): void {
    const m = this.links.get(id) ?? new Map<string, number>();
    this.links.set(id, m);
    for (const f of from) this.bump(m, f, 1);
  }
  healLink(id: string, from: string[]): void {
    const m = this.links.get(id);
    if (m) for (const f of from) this.bump(m, f, -1);
  }

  private bump(m: Map<string, number>, k: string, d: number): void {
    const n = (m.get(k) ?? 0) + d;
    if (n > 0) m.set(k, n); else m.delete(k);
  }

  portWorking(node: string, port: string): boolean { return !this.ports.has(`${node}:${port}`); }
  linkWorking(id: string, from: string): boolean { return !this.links.get(id)?.has(from); }

  /** Forgets every fault (everything was healed without the record being told, e.g. after an episode failed). */
  reset(): void {
    this.ports.clear();
    this.links.clear();
    this.daemons.clear();
  }

  /** Nothing is failed. */
  clear(): boolean { return this.ports.size === 0 && this.daemons.size === 0 && [...this.links.values()].every((m) => m.size === 0); }

  describe(): string[] {
    return [...this.ports.keys(), ...[...this.daemons].map((n) => `${n} daemon down`), ...[...this.links].flatMap(([id, m]) => [...m.keys()].map((f) => `${id} from ${f}`))];
  }
}
