// Embedded topology `pair-udp`: `pair` whose private network is routed: a - r2 - b (two subnets and a router, not
// one Ethernet segment), with a udp link between a and b over it. udp0 on each server is the TUN hanet creates.
export const PAIR_UDP_YAML = `
name: pair-udp
description: client c - router r - switch sw - servers a and b; private network routed a - r2 - b, udp tunnel a-b
nodes:
  c:
    role: client
    ports:
      - { name: eth0, addresses: [10.9.0.2/24] }
    routes:
      - { to: default, via: 10.9.0.1 }
  r:
    role: router
    ports:
      - { name: eth0, addresses: [10.9.0.1/24] }
      - { name: eth1, addresses: [10.0.0.1/24], switch: sw }
    sysctls:
      net.ipv4.ip_forward: 1
  sw:
    role: switch
  r2:
    role: router
    ports:
      - { name: eth0, addresses: [192.168.100.2/30] }
      - { name: eth1, addresses: [192.168.100.5/30] }
    sysctls:
      net.ipv4.ip_forward: 1
  a:
    role: server
    ports:
      - { name: eth0, addresses: [10.0.0.11/24], switch: sw }
      - { name: eth1, addresses: [192.168.100.1/30], use: private }
      - { name: udp0, addresses: [192.168.102.1/30] }
    routes:
      - { to: default, via: 10.0.0.1 }
      - { to: 192.168.100.4/30, via: 192.168.100.2 }
  b:
    role: server
    ports:
      - { name: eth0, addresses: [10.0.0.12/24], switch: sw }
      - { name: eth1, addresses: [192.168.100.6/30], use: private }
      - { name: udp0, addresses: [192.168.102.2/30] }
    routes:
      - { to: default, via: 10.0.0.1 }
      - { to: 192.168.100.0/30, via: 192.168.100.5 }
links:
  - { ends: [c:eth0, r:eth0] }
  - { ends: [a:eth1, r2:eth0] }
  - { ends: [r2:eth1, b:eth1] }
  - { kind: udp, ends: [a:udp0, b:udp0], underlay: [a:eth1, b:eth1] }
`;
