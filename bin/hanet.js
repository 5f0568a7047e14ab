#!/usr/bin/env node
// Entry point of the `hanet` executable: runs the compiled CLI (npm install builds it into dist/). V8 is asked to
// favour memory over peak speed first: the daemon's hot paths are in the kernel and the native monitor, and these
// flags keep an idle daemon's resident memory near 60 MiB instead of ~70 (measured).
import { setFlagsFromString } from 'node:v8';
setFlagsFromString('--optimize-for-size');
setFlagsFromString('--max-semi-space-size=1');
await import('../dist/src/cli/main.js');
