// Shared test helpers: root detection for lab tests and condition polling (instead of sleeps).
import type { TestContext } from 'node:test';

export const isRoot = (): boolean => typeof process.getuid === 'function' && process.getuid() === 0;

/** Skips the test with a clear message unless running as root (lab tests need CAP_NET_ADMIN). */
export function requireRoot(t: TestContext): boolean {
  if (isRoot()) return true;
  t.skip('needs root (network namespaces); run the lab tests as root');
  return false;
}

/** Polls `cond` until it returns a truthy value or the deadline passes; returns that value or throws. */
export async function waitFor<T>(cond: () => T | Promise<T>, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what ?? 'condition'}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 20));
  }
}
