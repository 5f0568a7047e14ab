// YAML fragments shared by the embedded topologies: the client side (client c — router r — switch sw) and the
// servers on the switch, so that each topology file says only what is its own.

/** Client c (10.9.0.2), default route via the router. */
export const CLIENT = `  c:
    role: client
    ports:
      - { name: eth0, addresses: [10.9.0.2/24] }
    routes:
      - { to: default, via: 10.9.0.1 }
`;

/** The public LAN switch. */
export const SWITCH = `  sw:
    role: switch
`;

/** Router r between the client network (10.9.0.0/24) and the public LAN (10.0.0.0/24), and the switch. */
export const ROUTER_AND_SWITCH = `  r:
    role: router
    ports:
      - { name: eth0, addresses: [10.9.0.1/24] }
      - { name: eth1, addresses: [10.0.0.1/24], switch: sw }
    sysctls:
      net.ipv4.ip_forward: 1
${SWITCH}`;

/**
 * A server with its public port eth0 on the switch (publicAddress/24) and a default route via the router;
 * `ports` and `routes` are further flow-style YAML entries (e.g. "{ name: eth1, addresses: [192.168.100.1/30] }").
 */
export function server(name: string, publicAddress: string, ports: string[], routes: string[] = []): string {
  return `  ${name}:
    role: server
    ports:
      - { name: eth0, addresses: [${publicAddress}/24], switch: sw }
${ports.map((p) => `      - ${p}\n`).join('')}    routes:
      - { to: default, via: 10.0.0.1 }
${routes.map((r) => `      - ${r}\n`).join('')}`;
}
