// Module-loading hooks for tests (registered with node's module.register): appends the URL of every module the
// process resolves to a file, so a test can see which modules a real `hanet` command loaded.
import { appendFileSync } from 'node:fs';
import type { InitializeHook, ResolveHook } from 'node:module';

let logFile: string | undefined;

export const initialize: InitializeHook<{ logFile: string }> = (data) => {
  logFile = data.logFile;
};

export const resolve: ResolveHook = async (specifier, context, nextResolve) => {
  const r = await nextResolve(specifier, context);
  // Synchronous: the line is in the file before the importing module goes on.
  if (logFile !== undefined) appendFileSync(logFile, `${r.url}\n`);
  return r;
};
