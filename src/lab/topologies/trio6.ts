// Embedded topologies `trio46` and `trio6`: `trio` dual-stack and IPv6-only (servers a, b, d on one switch, fully
// meshed by private /30 veth links with IPv4 addresses); addressing in parts6.ts.
import { client6, routerAndSwitch6, server6, type Stack } from './parts6.js';

const trioOf = (stack: Stack, name: string, what: string): string => `
name: ${name}
description: ${what} trio - client c - router r - switch sw - servers a, b, d; private links a-b, a-d, b-d
nodes:
${client6(stack)}${routerAndSwitch6(stack)}${server6(stack, 'a', 11, ['{ name: eth1, addresses: [192.168.100.1/30] }', '{ name: eth2, addresses: [192.168.101.1/30] }'])}${server6(stack, 'b', 12, ['{ name: eth1, addresses: [192.168.100.2/30] }', '{ name: eth2, addresses: [192.168.102.1/30] }'])}${server6(stack, 'd', 13, ['{ name: eth1, addresses: [192.168.101.2/30] }', '{ name: eth2, addresses: [192.168.102.2/30] }'])}links:
  - { ends: [c:eth0, r:eth0] }
  - { ends: [a:eth1, b:eth1] }
  - { ends: [a:eth2, d:eth1] }
  - { ends: [b:eth2, d:eth2] }
`;

export const TRIO46_YAML = trioOf('46', 'trio46', 'dual-stack');
export const TRIO6_YAML = trioOf('6', 'trio6', 'IPv6-only');
