// Embedded topology `l3` (issue 15, docs/l3.md): a routed fabric. Client c behind spine s; two racks, each a ToR
// router (t1, t2) with its own subnet on a rack switch (sw1, sw2); server a in rack 1, b in rack 2, a private veth
// a-b. Spine, ToRs and servers run BIRD with eBGP (one AS each): the ToRs announce their rack subnets, the servers
// only the host routes hanet installs while helping. a's service address is its own address on its rack subnet.

/** One rack: ToR `tor` with uplink `up` (to the spine) and the rack subnet 10.<rack>.0.0/24 on switch sw<rack>. */
function rack(n: 1 | 2, server: string): string {
  return `  t${n}:
    role: router
    ports:
      - { name: eth0, addresses: [10.255.${n}.2/30] }
      - { name: eth1, addresses: [10.${n}.0.1/24], switch: sw${n} }
    sysctls:
      net.ipv4.ip_forward: 1
    bgp: { as: 6500${n}, neighbors: [{ address: 10.255.${n}.1, as: 65000 }, { address: 10.${n}.0.10, as: 650${n}${n} }] }
  sw${n}:
    role: switch
  ${server}:
    role: server
    ports:
      - { name: eth0, addresses: [10.${n}.0.10/24], switch: sw${n} }
      - { name: eth1, addresses: [192.168.100.${n}/30] }
    routes:
      - { to: default, via: 10.${n}.0.1 }
    bgp: { as: 650${n}${n}, neighbors: [{ address: 10.${n}.0.1, as: 6500${n} }] }
`;
}

export const L3_YAML = `
name: l3
description: client c - spine s - ToRs t1, t2 (BIRD, eBGP) - rack switches sw1, sw2 - server a (rack 1, 10.1.0.10), b (rack 2, 10.2.0.10); private veth a-b
nodes:
  c:
    role: client
    ports:
      - { name: eth0, addresses: [10.9.0.2/24] }
    routes:
      - { to: default, via: 10.9.0.1 }
  s:
    role: router
    ports:
      - { name: eth0, addresses: [10.9.0.1/24] }
      - { name: eth1, addresses: [10.255.1.1/30] }
      - { name: eth2, addresses: [10.255.2.1/30] }
    sysctls:
      net.ipv4.ip_forward: 1
    bgp: { as: 65000, neighbors: [{ address: 10.255.1.2, as: 65001 }, { address: 10.255.2.2, as: 65002 }] }
${rack(1, 'a')}${rack(2, 'b')}links:
  - { ends: [c:eth0, s:eth0] }
  - { ends: [s:eth1, t1:eth0] }
  - { ends: [s:eth2, t2:eth0] }
  - { ends: [a:eth1, b:eth1] }
`;
