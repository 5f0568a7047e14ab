#!/usr/bin/env node
// Entry point of the `hanet` executable: runs the compiled CLI (npm install builds it into dist/).
import '../dist/src/cli/main.js';
