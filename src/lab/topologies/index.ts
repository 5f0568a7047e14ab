// The embedded default topologies by name (YAML text, validated by topology.ts when used).
import { DUAL_YAML } from './dual.js';
import { PAIR_YAML } from './pair.js';
import { TRIO_YAML } from './trio.js';

export const EMBEDDED_TOPOLOGIES: Readonly<Record<string, string>> = { pair: PAIR_YAML, trio: TRIO_YAML, dual: DUAL_YAML };
