// YAML fragments of the IPv6 embedded topologies: the client c, router r and servers of parts.ts in a dual-stack
// ('46') and an IPv6-only ('6') version. Documentation prefixes: the client network 2001:db8:9::/64 (10.9.0.0/24),
// the public LAN 2001:db8::/64 (10.0.0.0/24), a server's IPv6 address ends like its IPv4 one (10.0.0.11 ->
// 2001:db8::11). IPv6-only: no IPv4 on the client network or the public LAN; the private links keep their IPv4
// addresses (the daemons' control protocol runs over IPv4 on the link; IPv6 there is the automatic link-local).
//
// The router's public port also has fe80::1, the link-local address real routers advertise as the next hop; the
// servers' default route and hanet's gateway are that address (cluster.ts; a topology whose router has no
// link-local listed makes the gateway its global address instead).
import { SWITCH } from './parts.js';

/** Dual-stack (both families on the client network and the public LAN) or IPv6-only. */
export type Stack = '46' | '6';

const v4 = (stack: Stack, ...cidrs: string[]): string[] => (stack === '46' ? cidrs : []);
const list = (xs: string[]): string => `[${xs.join(', ')}]`;

/** Client c: 10.9.0.2 (dual-stack) and 2001:db8:9::2, default routes via the router. */
export function client6(stack: Stack): string {
  return `  c:
    role: client
    ports:
      - { name: eth0, addresses: ${list([...v4(stack, '10.9.0.2/24'), '2001:db8:9::2/64'])} }
    routes:
${stack === '46' ? '      - { to: default, via: 10.9.0.1 }\n' : ''}      - { to: default, via: 2001:db8:9::1 }
`;
}

/** Router r between the client network and the public LAN, forwarding the families it has, and the switch. */
export function routerAndSwitch6(stack: Stack): string {
  return `  r:
    role: router
    ports:
      - { name: eth0, addresses: ${list([...v4(stack, '10.9.0.1/24'), '2001:db8:9::1/64'])} }
      - { name: eth1, addresses: ${list([...v4(stack, '10.0.0.1/24'), '2001:db8::1/64', 'fe80::1/64'])}, switch: sw }
    sysctls:
${stack === '46' ? '      net.ipv4.ip_forward: 1\n' : ''}      net.ipv6.conf.all.forwarding: 1
${SWITCH}`;
}

/**
 * A server with its public port eth0 on the switch (10.0.0.<host>/24 when dual-stack, 2001:db8::<host>/64) and
 * default routes via the router (IPv6: its link-local fe80::1 on eth0); `ports` and `routes` as in parts.ts.
 */
export function server6(stack: Stack, name: string, host: number, ports: string[], routes: string[] = []): string {
  return `  ${name}:
    role: server
    ports:
      - { name: eth0, addresses: ${list(publicAddresses6(stack, host))}, switch: sw }
${ports.map((p) => `      - ${p}\n`).join('')}    routes:
${stack === '46' ? '      - { to: default, via: 10.0.0.1 }\n' : ''}      - { to: default, via: fe80::1, dev: eth0 }
${routes.map((r) => `      - ${r}\n`).join('')}`;
}

/** The public addresses of host number `host` on the LAN (a second public port: its own host number). */
export const publicAddresses6 = (stack: Stack, host: number): string[] => [...v4(stack, `10.0.0.${host}/24`), `2001:db8::${host}/64`];
