// The log formats: JSON off a terminal, readable lines on one, sd-daemon priority prefixes under journald.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { chooseLogFormat, lineStream } from '../../src/daemon/logger.js';

test('log format: HANET_LOG_FORMAT wins; terminal -> pretty; otherwise json (journal only when JOURNAL_STREAM is our stderr)', () => {
  assert.equal(chooseLogFormat({ HANET_LOG_FORMAT: 'journal' }, true), 'journal');
  assert.equal(chooseLogFormat({}, true), 'pretty');
  assert.equal(chooseLogFormat({}, false), 'json');
  assert.equal(chooseLogFormat({ JOURNAL_STREAM: '1:2' }, false), 'json', 'a JOURNAL_STREAM inherited for another stream is ignored');
});

test('journal and pretty lines: priority prefix by level, event fields as key=value', () => {
  const out: string[] = [];
  const mk = (f: 'journal' | 'pretty') => pino({ level: 'debug', base: { node: 'a' }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (l) => ({ level: l }) } }, lineStream(f, (s) => out.push(s)));
  const j = mk('journal');
  j.info({ event: 'takeover-acked', lan: 'lan0', helper: 'b', ms: 1.5 }, 'takeover-acked');
  j.warn({ event: 'message-rejected', reason: 'bad-mac', detail: 'from 1.2.3.4' }, 'message-rejected');
  j.error({ err: 'boom' }, 'kernel-failed');
  j.debug({}, 'noise');
  assert.deepEqual(out, [
    '<6>takeover-acked lan=lan0 helper=b ms=1.5\n',
    '<4>message-rejected reason=bad-mac detail="from 1.2.3.4"\n',
    '<3>kernel-failed err=boom\n',
    '<7>noise\n',
  ]);
  out.length = 0;
  mk('pretty').info({ event: 'failback', iface: 'eth0' }, 'failback');
  assert.match(out[0]!, /^\d\d:\d\d:\d\d\.\d{3} INFO  \[a\] failback iface=eth0\n$/);
});
