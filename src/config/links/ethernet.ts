// The `ethernet` private link kind (the default): a direct Ethernet, veth or USB-net port to a peer; the kernel
// forwards the packets and the control messages travel in UDP (src/links/udp-control.ts).
import { z } from 'zod';
import { camelKeys } from '../camel.js';
import { cost, ifName, lanName } from '../fields.js';
import { addressField, kindField, linkAddressChecks, peerFields, typedAddress } from './common.js';

export const ethernetSchema = z.strictObject({
  kind: kindField('ethernet'),
  name: lanName.optional().meta({ description: 'Name of the link in logs, status and metrics. Default: the interface name.' }),
  interface: ifName.meta({ description: 'The interface of the link (veth, Ethernet port, USB-net).' }),
  address: addressField.optional().meta({
    description: "This node's address on the link, with or without prefix. If omitted, hanet uses the interface's first IPv4 address.",
  }),
  ...peerFields,
  cost: cost(10),
}).superRefine((l, ctx) => linkAddressChecks(l, ctx)).meta({
  description: 'A direct Ethernet, veth or USB-net link: the kernel forwards the packets; control messages in UDP (port).',
});

/** The typed link: named after its interface unless named, its address split from the prefix. */
export function toEthernetLink(l: z.output<typeof ethernetSchema>) {
  const { address, ...rest } = l;
  return { ...camelKeys(rest), name: l.name ?? l.interface, ...(address !== undefined ? typedAddress(address) : {}) };
}
export type EthernetLinkConfig = ReturnType<typeof toEthernetLink>;
