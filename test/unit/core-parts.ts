// Fixtures for the table tests of the core's parts: one node's Out, KernelGate, PeerTable and Lans built from a
// CoreConfig, with helpers to read what a step produced.
import { Out, KernelGate } from '../../src/core/out.js';
import { PeerTable } from '../../src/core/peers.js';
import { Lans } from '../../src/core/lans.js';
import type { CoreConfig, CoreEffect } from '../../src/core/types.js';
import type { HeartbeatMessage, PeerMessage } from '../../src/core/messages.js';

export interface Parts { cfg: CoreConfig; out: Out; gate: KernelGate; peers: PeerTable; lans: Lans; now: number }

export function parts(cfg: CoreConfig): Parts {
  const out = new Out(cfg.takeover);
  return { cfg, out, gate: new KernelGate(), peers: new PeerTable(cfg, out), lans: new Lans(cfg, out), now: 0 };
}

/** Starts a step at `at` (the parts' shared clock). */
export function step(p: Parts, at: number): void {
  p.now = at;
  p.out.begin(at);
  p.lans.setTime(at);
}

/** Ends a step (`changed`: it emitted a new desired state) and returns its effects. */
export function endStep(p: Parts, changed = false): CoreEffect[] {
  p.gate.endStep(changed);
  return p.out.take();
}

/** Every public interface healthy (carrier up, probe answered) at `at`. */
export function allHealthy(p: Parts, at: number): void {
  step(p, at);
  for (const q of p.cfg.publics) {
    p.lans.carrier(q.iface, true, true, true);
    for (const g of q.gateways) p.lans.probeStatus(q.iface, g, 0, true);
  }
}

export const hb = (over: Partial<HeartbeatMessage> = {}): HeartbeatMessage => ({ type: 'heartbeat', ready: true, lans: { lan0: { healthy: true } }, canHelp: true, helping: [], claims: [], ...over });

export const sends = (effects: CoreEffect[]): Array<{ link: string; msg: PeerMessage }> =>
  effects.flatMap((e) => (e.kind === 'send' ? [{ link: e.link, msg: e.msg }] : []));
export const eventTypes = (effects: CoreEffect[]): string[] => effects.flatMap((e) => (e.kind === 'event' ? [e.event.type] : []));
export const kinds = (effects: CoreEffect[]): string[] => effects.map((e) => (e.kind === 'event' ? `event:${e.event.type}` : e.kind === 'send' ? `send:${e.msg.type}` : e.kind));
