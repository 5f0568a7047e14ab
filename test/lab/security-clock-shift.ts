// Test preload (`node --import`): shifts a hanet daemon's wall clock (Date.now) by the milliseconds written in
// $HANET_TEST_CLOCK_DIR/<node>.offset (re-read every 10 ms; <node> = the name of the `-c` config file), so a lab
// test can step one daemon's clock without touching the machine's. Does nothing in other processes.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const dir = process.env.HANET_TEST_CLOCK_DIR;
const i = process.argv.indexOf('-c');
const config = i >= 0 ? process.argv[i + 1] : undefined;
if (dir && config) {
  const file = join(dir, `${basename(config, '.yaml')}.offset`);
  let offset = 0;
  const read = (): void => {
    try { offset = Number(readFileSync(file, 'utf8')) || 0; } catch { offset = 0; }
  };
  read();
  setInterval(read, 10).unref();
  const real = Date.now;
  Date.now = () => real() + offset;
}
