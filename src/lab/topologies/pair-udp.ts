// Embedded topology `pair-udp`: `pair` whose private network is routed: a - r2 - b (two subnets and a router, not
// one Ethernet segment), with a udp link between a and b over it. udp0 on each server is the TUN hanet creates.
import { CLIENT, ROUTER_AND_SWITCH, server } from './parts.js';

export const PAIR_UDP_YAML = `
name: pair-udp
description: client c - router r - switch sw - servers a and b; private network routed a - r2 - b, udp tunnel a-b
nodes:
${CLIENT}${ROUTER_AND_SWITCH}  r2:
    role: router
    ports:
      - { name: eth0, addresses: [192.168.100.2/30] }
      - { name: eth1, addresses: [192.168.100.5/30] }
    sysctls:
      net.ipv4.ip_forward: 1
${server('a', '10.0.0.11', ['{ name: eth1, addresses: [192.168.100.1/30], use: private }', '{ name: udp0, addresses: [192.168.102.1/30] }'], ['{ to: 192.168.100.4/30, via: 192.168.100.2 }'])}${server('b', '10.0.0.12', ['{ name: eth1, addresses: [192.168.100.6/30], use: private }', '{ name: udp0, addresses: [192.168.102.2/30] }'], ['{ to: 192.168.100.0/30, via: 192.168.100.5 }'])}links:
  - { ends: [c:eth0, r:eth0] }
  - { ends: [a:eth1, r2:eth0] }
  - { ends: [r2:eth1, b:eth1] }
  - { kind: udp, ends: [a:udp0, b:udp0], underlay: [a:eth1, b:eth1] }
`;
