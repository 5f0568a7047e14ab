// Embedded topologies `dual46` and `dual6`: `dual` dual-stack and IPv6-only (server a has a second public port
// eth2, 10.0.0.21 / 2001:db8::21, on the same switch: local backup); addressing in parts6.ts.
import { client6, publicAddresses6, routerAndSwitch6, server6, type Stack } from './parts6.js';

const dualOf = (stack: Stack, name: string, what: string): string => `
name: ${name}
description: ${what} dual - like pair, but server a has a second public port eth2 on the same switch
nodes:
${client6(stack)}${routerAndSwitch6(stack)}${server6(stack, 'a', 11, ['{ name: eth1, addresses: [192.168.100.1/30] }', `{ name: eth2, addresses: [${publicAddresses6(stack, 21).join(', ')}], switch: sw }`])}${server6(stack, 'b', 12, ['{ name: eth1, addresses: [192.168.100.2/30] }'])}links:
  - { ends: [c:eth0, r:eth0] }
  - { ends: [a:eth1, b:eth1] }
`;

export const DUAL46_YAML = dualOf('46', 'dual46', 'dual-stack');
export const DUAL6_YAML = dualOf('6', 'dual6', 'IPv6-only');
