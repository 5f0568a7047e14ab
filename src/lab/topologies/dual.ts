// Embedded topology `dual`: like `pair`, but server a has a second public port eth2 (10.0.0.21/24) on the same switch.
import { CLIENT, ROUTER_AND_SWITCH, server } from './parts.js';

export const DUAL_YAML = `
name: dual
description: like pair, but server a has a second public port eth2 on the same switch
nodes:
${CLIENT}${ROUTER_AND_SWITCH}${server('a', '10.0.0.11', ['{ name: eth1, addresses: [192.168.100.1/30] }', '{ name: eth2, addresses: [10.0.0.21/24], switch: sw }'])}${server('b', '10.0.0.12', ['{ name: eth1, addresses: [192.168.100.2/30] }'])}links:
  - { ends: [c:eth0, r:eth0] }
  - { ends: [a:eth1, b:eth1] }
`;
