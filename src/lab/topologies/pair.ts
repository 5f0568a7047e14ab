// Embedded topology `pair`: the lab drawn in docs/CONTRACTS.md (client c, router r, switch sw, servers a and b
// with a private veth link). `hanet lab topology pair` prints it as a complete topology file.
import { CLIENT, ROUTER_AND_SWITCH, server } from './parts.js';

export const PAIR_YAML = `
name: pair
description: client c - router r - switch sw - servers a and b, private link a-b
nodes:
${CLIENT}${ROUTER_AND_SWITCH}${server('a', '10.0.0.11', ['{ name: eth1, addresses: [192.168.100.1/30] }'])}${server('b', '10.0.0.12', ['{ name: eth1, addresses: [192.168.100.2/30] }'])}links:
  - { ends: [c:eth0, r:eth0] }
  - { ends: [a:eth1, b:eth1] }
`;
