// The `udp` private link kind: a routed private network to a peer, IP over a TUN device in authenticated UDP
// (src/links/udp-tunnel.ts). Its fields, defaults and checks; typed, `local` and `remote` become host and port.
import { z } from 'zod';
import { camelKeys } from '../camel.js';
import { isIp } from '../../core/ip.js';
import { cost, familyText, IPV4, parseHostPort, show } from '../fields.js';
import { kindField, tunAddresses, tunLinkChecks, tunNaming, typedTun } from './common.js';

/** The UDP port of a udp link's underlay when `local` or `remote` leaves it out. */
export const UDP_PORT = 7432;
/** 1500 on the underlay less 28 (IPv4 + UDP) and 33 (header and tag), rounded down. */
const UDP_MTU = 1420;
// The families each underlay address accepts (IPv6: add 6); `remote` may also be a DNS name.
const LOCAL_FAMILIES = IPV4;
const REMOTE_FAMILIES = IPV4;

export const udpSchema = z.strictObject({
  kind: kindField('udp'),
  ...tunNaming,
  local: z.string().superRefine((v, ctx) => {
    // An address to bind: a name is not enough here.
    const hp = parseHostPort(v, UDP_PORT, LOCAL_FAMILIES);
    if (!hp || !LOCAL_FAMILIES.some((f) => isIp(hp.host, f))) {
      ctx.addIssue({ code: 'custom', message: `${show(v)} is not ADDRESS[:PORT] with an ${familyText(LOCAL_FAMILIES)} address (like 192.168.100.1:${UDP_PORT})` });
    }
  }).meta({ description: `Underlay address (and port, default ${UDP_PORT}) this node binds.` }),
  remote: z.string().superRefine((v, ctx) => {
    if (!parseHostPort(v, UDP_PORT, REMOTE_FAMILIES)) ctx.addIssue({ code: 'custom', message: `${show(v)} is not HOST[:PORT] (like 192.168.100.6:${UDP_PORT})` });
  }).meta({ description: `The peer's underlay host (an address or a DNS name) and port (default ${UDP_PORT}).` }),
  ...tunAddresses,
  mtu: z.number().int().min(576).max(9000).default(UDP_MTU).meta({
    description: `MTU of the TUN interface. Default ${UDP_MTU}: 1500 on the underlay less 28 (IPv4 + UDP) and 33 (header and tag), rounded down.`,
  }),
  cost: cost(20),
}).superRefine((l, ctx) => tunLinkChecks(l, ctx)).meta({
  description: 'A routed private network (not one Ethernet segment): IP packets travel between the two daemons in UDP through a TUN ' +
    'interface, encrypted and authenticated (AES-256-GCM, keys derived from key_file), with replay protection; control messages use ' +
    'the same socket.',
});

/** The typed link: its TUN, and the underlay endpoints as host and port. */
export function toUdpLink(l: z.output<typeof udpSchema>) {
  const { local, remote, ...rest } = l;
  const lp = parseHostPort(local, UDP_PORT, LOCAL_FAMILIES)!;
  return { ...camelKeys(rest), ...typedTun(l), local: { address: lp.host, port: lp.port }, remote: parseHostPort(remote, UDP_PORT, REMOTE_FAMILIES)! };
}
export type UdpLinkConfig = ReturnType<typeof toUdpLink>;
