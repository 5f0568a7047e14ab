// hanet's own version (from package.json), for `hanet --version`, `hanet status` and the metrics' info gauge.
import { readFileSync } from 'node:fs';

/** The package version, read once; "0.0.0" if package.json cannot be read (a broken install still runs). */
export const HANET_VERSION: string = (() => {
  try {
    // dist/src/version.js -> ../../package.json (and src/version.ts -> ../package.json when run from source)
    for (const rel of ['../../package.json', '../package.json']) {
      try {
        const p = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
        if (p.name === 'hanet' && p.version) return p.version;
      } catch { /* try the next */ }
    }
  } catch { /* fall through */ }
  return '0.0.0';
})();
