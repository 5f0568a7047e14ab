// Writes docs/configuration.md from the compiled configuration schema (run by `npm run docs:config` after a build).
import { writeFileSync } from 'node:fs';
import { configReference } from '../dist/src/config/reference.js';

const path = new URL('../docs/configuration.md', import.meta.url);
writeFileSync(path, configReference());
console.log(`wrote ${path.pathname}`);
