// The wall-clock test hook: no variable, the real clock; a fixed offset; an offset file re-read while running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../helpers.js';
import { wallClockFromEnv } from '../../src/daemon/test-clock.js';

test('test clock: Date.now without the hook, a fixed offset, and a step through the offset file', async () => {
  const none = wallClockFromEnv({});
  assert.equal(none.injected, false);
  assert.equal(none.now, Date.now);
  const fixed = wallClockFromEnv({ HANET_CLOCK_OFFSET_MS: '-40000' });
  assert.ok(Math.abs(fixed.now() - (Date.now() - 40_000)) < 1000);
  const file = join(mkdtempSync(join(tmpdir(), 'hanet-clock-')), 'a.clock');
  const stepped = wallClockFromEnv({ HANET_CLOCK_OFFSET_FILE: file });
  try {
    assert.ok(Math.abs(stepped.now() - Date.now()) < 1000, 'no file yet: no offset');
    writeFileSync(file, '40000\n');
    await waitFor(() => stepped.offset() === 40_000, { timeoutMs: 2000, what: 'the step to be read' });
    assert.ok(Math.abs(stepped.now() - (Date.now() + 40_000)) < 1000);
    writeFileSync(file, 'garbage');
    await waitFor(() => stepped.offset() === 0, { timeoutMs: 2000, what: 'an unreadable offset to mean none' });
  } finally {
    stepped.close();
  }
});
