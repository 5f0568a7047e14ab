// Embedded topology `pair-delay`: like `pair`, with a delay node `dl` routed between client c and router r, where
// src/lab/delay.ts holds packets for an emulated round-trip time (this kernel has no netem).
import { CLIENT, SWITCH, server } from './parts.js';

export const PAIR_DELAY_YAML = `
name: pair-delay
description: like pair, with a delay node dl (a router; startDelay() holds its forwarded packets) between c and r
nodes:
${CLIENT}  dl:
    role: router
    ports:
      - { name: eth0, addresses: [10.9.0.1/24] }
      - { name: eth1, addresses: [10.9.1.1/24] }
    routes:
      - { to: default, via: 10.9.1.2 }
    sysctls:
      net.ipv4.ip_forward: 1
  r:
    role: router
    ports:
      - { name: eth0, addresses: [10.9.1.2/24] }
      - { name: eth1, addresses: [10.0.0.1/24], switch: sw }
    routes:
      - { to: 10.9.0.0/24, via: 10.9.1.1 }
    sysctls:
      net.ipv4.ip_forward: 1
${SWITCH}${server('a', '10.0.0.11', ['{ name: eth1, addresses: [192.168.100.1/30] }'])}${server('b', '10.0.0.12', ['{ name: eth1, addresses: [192.168.100.2/30] }'])}links:
  - { ends: [c:eth0, dl:eth0] }
  - { ends: [dl:eth1, r:eth0] }
  - { ends: [a:eth1, b:eth1] }
`;
