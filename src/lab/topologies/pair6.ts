// Embedded topologies `pair46` and `pair6`: `pair` dual-stack and IPv6-only (client c, router r, switch sw,
// servers a and b, private veth link a-b with IPv4 addresses); addressing in parts6.ts.
import { client6, routerAndSwitch6, server6, type Stack } from './parts6.js';

const pairOf = (stack: Stack, name: string, what: string): string => `
name: ${name}
description: ${what} pair - client c - router r - switch sw - servers a and b, private link a-b
nodes:
${client6(stack)}${routerAndSwitch6(stack)}${server6(stack, 'a', 11, ['{ name: eth1, addresses: [192.168.100.1/30] }'])}${server6(stack, 'b', 12, ['{ name: eth1, addresses: [192.168.100.2/30] }'])}links:
  - { ends: [c:eth0, r:eth0] }
  - { ends: [a:eth1, b:eth1] }
`;

export const PAIR46_YAML = pairOf('46', 'pair46', 'dual-stack');
export const PAIR6_YAML = pairOf('6', 'pair6', 'IPv6-only');
