// Embedded topology `trio`: three servers a, b, d on one switch, fully meshed by private /30 veth links
// (a-b 192.168.100.0/30, a-d 192.168.101.0/30, b-d 192.168.102.0/30), client c behind router r.
export const TRIO_YAML = `
name: trio
description: client c - router r - switch sw - servers a, b, d; private links a-b, a-d, b-d
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
  a:
    role: server
    ports:
      - { name: eth0, addresses: [10.0.0.11/24], switch: sw }
      - { name: eth1, addresses: [192.168.100.1/30] }
      - { name: eth2, addresses: [192.168.101.1/30] }
    routes:
      - { to: default, via: 10.0.0.1 }
  b:
    role: server
    ports:
      - { name: eth0, addresses: [10.0.0.12/24], switch: sw }
      - { name: eth1, addresses: [192.168.100.2/30] }
      - { name: eth2, addresses: [192.168.102.1/30] }
    routes:
      - { to: default, via: 10.0.0.1 }
  d:
    role: server
    ports:
      - { name: eth0, addresses: [10.0.0.13/24], switch: sw }
      - { name: eth1, addresses: [192.168.101.2/30] }
      - { name: eth2, addresses: [192.168.102.2/30] }
    routes:
      - { to: default, via: 10.0.0.1 }
links:
  - { ends: [c:eth0, r:eth0] }
  - { ends: [a:eth1, b:eth1] }
  - { ends: [a:eth2, d:eth1] }
  - { ends: [b:eth2, d:eth2] }
`;
