// Embedded topology `pair-serial`: `pair` with the a-b Ethernet link replaced by a 115200-baud serial line (a
// pseudo-terminal pair and a rate-limited relay). ser0 on each server is the TUN hanet creates for the line.
export const PAIR_SERIAL_YAML = `
name: pair-serial
description: client c - router r - switch sw - servers a and b, private serial line a-b at 115200 baud
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
      - { name: ser0, addresses: [192.168.101.1/30] }
    routes:
      - { to: default, via: 10.0.0.1 }
  b:
    role: server
    ports:
      - { name: eth0, addresses: [10.0.0.12/24], switch: sw }
      - { name: ser0, addresses: [192.168.101.2/30] }
    routes:
      - { to: default, via: 10.0.0.1 }
links:
  - { ends: [c:eth0, r:eth0] }
  - { kind: serial, ends: [a:ser0, b:ser0], baud: 115200 }
`;
