// Embedded topology `trio`: three servers a, b, d on one switch, fully meshed by private /30 veth links
// (a-b 192.168.100.0/30, a-d 192.168.101.0/30, b-d 192.168.102.0/30), client c behind router r.
import { CLIENT, ROUTER_AND_SWITCH, server } from './parts.js';

export const TRIO_YAML = `
name: trio
description: client c - router r - switch sw - servers a, b, d; private links a-b, a-d, b-d
nodes:
${CLIENT}${ROUTER_AND_SWITCH}${server('a', '10.0.0.11', ['{ name: eth1, addresses: [192.168.100.1/30] }', '{ name: eth2, addresses: [192.168.101.1/30] }'])}${server('b', '10.0.0.12', ['{ name: eth1, addresses: [192.168.100.2/30] }', '{ name: eth2, addresses: [192.168.102.1/30] }'])}${server('d', '10.0.0.13', ['{ name: eth1, addresses: [192.168.101.2/30] }', '{ name: eth2, addresses: [192.168.102.2/30] }'])}links:
  - { ends: [c:eth0, r:eth0] }
  - { ends: [a:eth1, b:eth1] }
  - { ends: [a:eth2, d:eth1] }
  - { ends: [b:eth2, d:eth2] }
`;
