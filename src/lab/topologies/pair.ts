// Embedded topology `pair`: the lab drawn in docs/CONTRACTS.md (client c, router r, switch sw, servers a and b
// with a private veth link). Kept as YAML text so it doubles as an example of the topology file format.
export const PAIR_YAML = `
name: pair
description: client c - router r - switch sw - servers a and b, private link a-b
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
    routes:
      - { to: default, via: 10.0.0.1 }
  b:
    role: server
    ports:
      - { name: eth0, addresses: [10.0.0.12/24], switch: sw }
      - { name: eth1, addresses: [192.168.100.2/30] }
    routes:
      - { to: default, via: 10.0.0.1 }
links:
  - { ends: [c:eth0, r:eth0] }
  - { ends: [a:eth1, b:eth1] }
`;
