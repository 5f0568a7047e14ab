// Embedded topology `quad` (the chaos run's lab, issue #10): servers a, b, c, d on one public LAN behind router r,
// a with a second public port (eth1) on the LAN, a LAN-local host h besides the routed client cl; private links of
// every kind: an Ethernet ring a-b-c-d-a plus the diagonal a-c, a serial line b-d and a udp link b-d over a
// routed private network (b - r2 - d). The client is `cl` because `c` is a server here.
import { ROUTER_AND_SWITCH, server } from './parts.js';

/** The client behind the router (not `c`: that is a server here). */
const ROUTED_CLIENT = `  cl:
    role: client
    ports:
      - { name: eth0, addresses: [10.9.0.2/24] }
    routes:
      - { to: default, via: 10.9.0.1 }
`;

export const QUAD_YAML = `
name: quad
description: client cl - router r - switch sw - servers a, b, c, d and LAN host h; private ring a-b-c-d-a, diagonal a-c, serial b-d, udp b-d over router r2
nodes:
${ROUTED_CLIENT}${ROUTER_AND_SWITCH}  h:
    role: client
    ports:
      - { name: eth0, addresses: [10.0.0.50/24], switch: sw }
    routes:
      - { to: default, via: 10.0.0.1 }
  r2:
    role: router
    ports:
      - { name: eth0, addresses: [192.168.110.2/30] }
      - { name: eth1, addresses: [192.168.110.5/30] }
    sysctls:
      net.ipv4.ip_forward: 1
${server('a', '10.0.0.11', [
  '{ name: eth1, addresses: [10.0.0.21/24], switch: sw }',
  '{ name: eth2, addresses: [192.168.100.1/30] }',
  '{ name: eth3, addresses: [192.168.100.14/30] }',
  '{ name: eth4, addresses: [192.168.100.17/30] }',
])}${server('b', '10.0.0.12', [
  '{ name: eth1, addresses: [192.168.100.2/30] }',
  '{ name: eth2, addresses: [192.168.100.5/30] }',
  '{ name: eth3, addresses: [192.168.110.1/30], use: private }',
  '{ name: ser0, addresses: [192.168.101.1/30] }',
  '{ name: udp0, addresses: [192.168.102.1/30] }',
], ['{ to: 192.168.110.4/30, via: 192.168.110.2 }'])}${server('c', '10.0.0.13', [
  '{ name: eth1, addresses: [192.168.100.6/30] }',
  '{ name: eth2, addresses: [192.168.100.9/30] }',
  '{ name: eth3, addresses: [192.168.100.18/30] }',
])}${server('d', '10.0.0.14', [
  '{ name: eth1, addresses: [192.168.100.10/30] }',
  '{ name: eth2, addresses: [192.168.100.13/30] }',
  '{ name: eth3, addresses: [192.168.110.6/30], use: private }',
  '{ name: ser0, addresses: [192.168.101.2/30] }',
  '{ name: udp0, addresses: [192.168.102.2/30] }',
], ['{ to: 192.168.110.0/30, via: 192.168.110.5 }'])}links:
  - { ends: [cl:eth0, r:eth0] }
  - { ends: [a:eth2, b:eth1] }
  - { ends: [b:eth2, c:eth1] }
  - { ends: [c:eth2, d:eth1] }
  - { ends: [d:eth2, a:eth3] }
  - { ends: [a:eth4, c:eth3] }
  - { ends: [b:eth3, r2:eth0] }
  - { ends: [r2:eth1, d:eth3] }
  - { kind: serial, ends: [b:ser0, d:ser0], baud: 115200 }
  - { kind: udp, ends: [b:udp0, d:udp0], underlay: [b:eth3, d:eth3] }
`;
