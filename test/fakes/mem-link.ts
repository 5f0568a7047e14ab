// An in-memory PrivateLink pair for daemon tests: messages cross after a delay on the (mocked) timers, or on the
// next microtask; envelopes carry a sequence number and a send time like the real links'; a test can cut the
// link, inject a message from anyone, or make the link report a rejected message. Its stats count no bytes: no
// interface carries it (the metrics subtract a link's control bytes from its interface's counters).
import type { PeerMessage } from '../../src/core/messages.js';
import type { LinkStats, PrivateLink, ReceivedMessage, RejectEvent } from '../../src/links/types.js';
import { REJECT_REASONS, type RejectReason } from '../../src/proto/control.js';

export class MemLink implements PrivateLink {
  readonly kind = 'ethernet' as const;
  other: MemLink | undefined;
  /** While false, sent messages are lost (a silent link). */
  up = true;
  readonly sent: PeerMessage[] = [];
  private readonly listeners = new Set<(m: ReceivedMessage) => void>();
  private readonly rejectListeners = new Set<(r: RejectEvent) => void>();
  private seq = 0;
  private readonly counters: LinkStats = {
    sent: 0, sendErrors: 0, bytesSent: 0, received: 0, bytesReceived: 0,
    rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>,
  };

  /** `oneWayMs`: delivery delay on setTimeout (mockable); undefined: on the next microtask. */
  constructor(readonly name: string, readonly self: string, readonly peer: string, private readonly wallNow: () => number, private readonly oneWayMs?: number) {}

  /** Two ends of one link between `a` and `b`. */
  static pair(name: string, a: string, b: string, wallNow: () => number, oneWayMs?: number): [MemLink, MemLink] {
    const x = new MemLink(name, a, b, wallNow, oneWayMs);
    const y = new MemLink(name, b, a, wallNow, oneWayMs);
    x.other = y;
    y.other = x;
    return [x, y];
  }

  send(msg: PeerMessage): void {
    this.sent.push(msg);
    if (!this.up) return;
    const m = this.envelope(this.self, msg);
    const deliver = (): void => this.other!.deliver(m);
    if (this.oneWayMs === undefined) queueMicrotask(deliver);
    else setTimeout(deliver, this.oneWayMs);
  }

  /** A message as if it came off this link from `from` (authenticated), now. */
  inject(from: string, msg: PeerMessage): void { this.deliver(this.envelope(from, msg)); }

  reject(reason: RejectReason, detail = 'test'): void {
    this.counters.rejected[reason]++;
    for (const cb of this.rejectListeners) cb({ link: this.name, reason, from: 'mem', detail, at: this.wallNow(), bytes: 0 });
  }

  onMessage(cb: (m: ReceivedMessage) => void): () => void { this.listeners.add(cb); return () => { this.listeners.delete(cb); }; }
  onReject(cb: (r: RejectEvent) => void): () => void { this.rejectListeners.add(cb); return () => { this.rejectListeners.delete(cb); }; }
  stats(): LinkStats { return { ...this.counters, rejected: { ...this.counters.rejected } }; }
  async close(): Promise<void> { this.up = false; }

  private envelope(sender: string, message: PeerMessage): ReceivedMessage {
    const sentAt = Math.floor(this.wallNow());
    return {
      link: this.name, receivedAt: sentAt, message,
      envelope: { version: 2, type: message.type, flags: 0, sender, recipient: sender === this.self ? this.peer : this.self, session: '00000000000000aa', nonce: '00000000000000bb', echo: '00000000000000cc', seq: BigInt(++this.seq), sentAt },
    };
  }

  private deliver(m: ReceivedMessage): void {
    for (const cb of this.listeners) cb({ ...m, receivedAt: this.wallNow() });
  }
}
