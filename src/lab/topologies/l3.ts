// Embedded topologies `l3` and `l346` (issue 15, docs/l3.md): a routed fabric, IPv4 and dual-stack. Client c behind
// spine s; two racks, each a ToR router (t1, t2) with its own subnet on a rack switch (sw1, sw2); server a in rack 1,
// b in rack 2, a private veth a-b (IPv4; IPv6 over it uses link-local next hops). Spine, ToRs and servers run BIRD
// with eBGP (one AS each; one session per family, between global addresses): the ToRs announce their rack subnets,
// the servers only the host routes hanet installs while helping. a's service address is its own address on its rack
// subnet. The ToRs' rack ports also have a link-local address (fe80::<rack>): the servers' IPv6 gateway (parts6.ts).

/** The addresses of one family, and a BGP neighbour entry per family. */
interface Fam { v4: string; v6?: string }
const addrs = (f: Fam, len4: number, len6 = 64): string => [`${f.v4}/${len4}`, ...(f.v6 ? [`${f.v6}/${len6}`] : [])].join(', ');
const neighbors = (peers: Array<{ at: Fam; as: number }>): string =>
  peers.flatMap((p) => [p.at.v4, ...(p.at.v6 ? [p.at.v6] : [])].map((a) => `{ address: ${a}, as: ${p.as} }`)).join(', ');
const forwarding = (v6: boolean): string => `      net.ipv4.ip_forward: 1\n${v6 ? '      net.ipv6.conf.all.forwarding: 1\n' : ''}`;

/** Rack n: ToR t<n> (uplink 10.255.n.2/30 to the spine), subnet 10.n.0.0/24 (2001:db8:n::/64) on sw<n>, its server. */
function rack(n: 1 | 2, server: string, v6: boolean): string {
  const tor: Fam = { v4: `10.${n}.0.1`, ...(v6 ? { v6: `2001:db8:${n}::1` } : {}) };
  const srv: Fam = { v4: `10.${n}.0.10`, ...(v6 ? { v6: `2001:db8:${n}::10` } : {}) };
  const up: Fam = { v4: `10.255.${n}.2`, ...(v6 ? { v6: `2001:db8:255:${n}::2` } : {}) };
  const spine: Fam = { v4: `10.255.${n}.1`, ...(v6 ? { v6: `2001:db8:255:${n}::1` } : {}) };
  return `  t${n}:
    role: router
    ports:
      - { name: eth0, addresses: [${addrs(up, 30)}] }
      - { name: eth1, addresses: [${addrs(tor, 24)}${v6 ? `, fe80::${n}/64` : ''}], switch: sw${n} }
    sysctls:
${forwarding(v6)}    bgp: { as: 6500${n}, neighbors: [${neighbors([{ at: spine, as: 65000 }, { at: srv, as: 65000 + 11 * n }])}] }
  sw${n}:
    role: switch
  ${server}:
    role: server
    ports:
      - { name: eth0, addresses: [${addrs(srv, 24)}], switch: sw${n} }
      - { name: eth1, addresses: [192.168.100.${n}/30] }
    routes:
      - { to: default, via: ${tor.v4} }
${v6 ? `      - { to: default, via: fe80::${n}, dev: eth0 }\n` : ''}    bgp: { as: ${65000 + 11 * n}, neighbors: [${neighbors([{ at: tor, as: 65000 + n }])}] }
`;
}

function fabric(name: string, v6: boolean): string {
  const up = (n: 1 | 2): Fam => ({ v4: `10.255.${n}.1`, ...(v6 ? { v6: `2001:db8:255:${n}::1` } : {}) });
  const tor = (n: 1 | 2): Fam => ({ v4: `10.255.${n}.2`, ...(v6 ? { v6: `2001:db8:255:${n}::2` } : {}) });
  return `
name: ${name}
description: ${v6 ? 'dual-stack ' : ''}client c - spine s - ToRs t1, t2 (BIRD, eBGP) - rack switches sw1, sw2 - server a (rack 1, 10.1.0.10${v6 ? ', 2001:db8:1::10' : ''}), b (rack 2, 10.2.0.10${v6 ? ', 2001:db8:2::10' : ''}); private veth a-b
nodes:
  c:
    role: client
    ports:
      - { name: eth0, addresses: [${addrs({ v4: '10.9.0.2', ...(v6 ? { v6: '2001:db8:9::2' } : {}) }, 24)}] }
    routes:
      - { to: default, via: 10.9.0.1 }
${v6 ? '      - { to: default, via: 2001:db8:9::1 }\n' : ''}  s:
    role: router
    ports:
      - { name: eth0, addresses: [${addrs({ v4: '10.9.0.1', ...(v6 ? { v6: '2001:db8:9::1' } : {}) }, 24)}] }
      - { name: eth1, addresses: [${addrs(up(1), 30)}] }
      - { name: eth2, addresses: [${addrs(up(2), 30)}] }
    sysctls:
${forwarding(v6)}    bgp: { as: 65000, neighbors: [${neighbors([{ at: tor(1), as: 65001 }, { at: tor(2), as: 65002 }])}] }
${rack(1, 'a', v6)}${rack(2, 'b', v6)}links:
  - { ends: [c:eth0, s:eth0] }
  - { ends: [s:eth1, t1:eth0] }
  - { ends: [s:eth2, t2:eth0] }
  - { ends: [a:eth1, b:eth1] }
`;
}

export const L3_YAML = fabric('l3', false);
export const L346_YAML = fabric('l346', true);
