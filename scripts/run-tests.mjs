// Runs the compiled test files with node's built-in test runner, one file at a time
// (lab tests build network namespaces and measure timing; running them in parallel on a
// 2-core machine would make them disturb each other). Usage: run-tests.mjs [unit|lab]...
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const groups = process.argv.slice(2);
const roots = (groups.length ? groups : ['unit', 'lab']).map((g) => join('dist', 'test', g));
const files = [];
const walk = (dir) => {
  let names;
  try { names = readdirSync(dir); } catch { return; }
  for (const n of names.sort()) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (n.endsWith('.test.js')) files.push(p);
  }
};
roots.forEach(walk);
if (files.length === 0) {
  console.error('no test files found under', roots.join(', '));
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--enable-source-maps', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
