// The embedded default topologies by name (YAML text, validated by topology.ts when used); the names are the
// help's list (cli/lab-options.ts), so a topology missing from either side does not compile.
import type { EmbeddedTopologyName } from '../../cli/lab-options.js';
import { DUAL_YAML } from './dual.js';
import { DUAL46_YAML, DUAL6_YAML } from './dual6.js';
import { PAIR_YAML } from './pair.js';
import { PAIR_DELAY_YAML } from './pair-delay.js';
import { PAIR_SERIAL_YAML } from './pair-serial.js';
import { PAIR_UDP_YAML } from './pair-udp.js';
import { PAIR46_YAML, PAIR6_YAML } from './pair6.js';
import { L346_YAML, L3_YAML } from './l3.js';
import { QUAD_YAML } from './quad.js';
import { TRIO_YAML } from './trio.js';
import { TRIO46_YAML, TRIO6_YAML } from './trio6.js';

export const EMBEDDED_TOPOLOGIES: Readonly<Record<EmbeddedTopologyName, string>> = { pair: PAIR_YAML, trio: TRIO_YAML, dual: DUAL_YAML, 'pair-delay': PAIR_DELAY_YAML, 'pair-serial': PAIR_SERIAL_YAML, 'pair-udp': PAIR_UDP_YAML,
  pair46: PAIR46_YAML, trio46: TRIO46_YAML, dual46: DUAL46_YAML, pair6: PAIR6_YAML, trio6: TRIO6_YAML, dual6: DUAL6_YAML, quad: QUAD_YAML, l3: L3_YAML, l346: L346_YAML };
