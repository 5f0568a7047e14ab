// What every private link kind shares: the peer and the two addresses on the link (documented once, checked once),
// the kind field, and the naming of the TUN device that the serial and udp kinds carry their packets through.
import { z } from 'zod';
import { inPrefix, type Cidr } from '../../core/ip.js';
import { ifName, IPV4, ipAddress, ipMaybePrefix, lanName, nodeName, show, str, type IssueSink } from '../fields.js';

// The families each address field accepts (IPv6: add 6).
const linkAddress = ipMaybePrefix(IPV4);
const peerAddress = ipAddress(IPV4);

export const kindField = <K extends string>(kind: K) =>
  z.literal(kind).meta({ description: 'Link kind; may be omitted for ethernet (the default kind).' });

export const addressField = linkAddress.schema;

/** The peer and its address: the same on every kind. */
export const peerFields = {
  peer: nodeName.meta({ description: 'The node at the other end.' }),
  peer_address: peerAddress.schema.meta({ description: "The peer's address on the link (in the same subnet as address)." }),
};

/** The peer's address must differ from ours and, when ours has a prefix, be inside it. */
export function linkAddressChecks(l: { address?: unknown; peer_address?: unknown }, ctx: IssueSink): void {
  const local = linkAddress.parse(l.address);
  const peer = peerAddress.parse(l.peer_address);
  if (!local || peer === undefined) return;
  if (local.address === peer) {
    ctx.addIssue({ code: 'custom', path: ['peer_address'], message: `${show(l.peer_address)} is the same as this node's address on the link` });
  } else if (str(l.address)?.includes('/') && !inPrefix(peer, local)) {
    ctx.addIssue({ code: 'custom', path: ['peer_address'], message: `${show(l.peer_address)} is not in the same subnet as address ${show(l.address)}` });
  }
}

/** A link's own address, typed: without prefix, and the prefix length when one was given. */
export function typedAddress(a: string): { address: string; addressPrefixLen?: number } {
  const c: Cidr = linkAddress.parse(a)!;
  return { address: c.address, ...(a.includes('/') ? { addressPrefixLen: c.prefixLen } : {}) };
}

// ---------------------------------------------------------------------------------------------------------------
// Links carried through a TUN device (serial, udp)

/** The TUN device hanet creates for a link named `name`, unless `interface` names it. */
export const tunName = (name: string): string => `hn${name}`;

/** name, interface: the link's name is required (it names the TUN device). */
export const tunNaming = {
  name: lanName.meta({ description: 'Name of the link in logs, status and metrics; required for serial and udp links.' }),
  interface: ifName.optional().meta({
    description: 'Name of the TUN interface hanet creates for the link (at most 15 characters). Default: hn<name>.',
  }),
};

/** address, peer, peer_address of a TUN link: point-to-point addresses on the TUN. */
export const tunAddresses = {
  address: addressField.meta({ description: "This node's address on the TUN (point-to-point), with or without prefix." }),
  ...peerFields,
};

/** Checks shared by the TUN-backed kinds: the default TUN name fits, and the two point-to-point addresses. */
export function tunLinkChecks(l: { name?: unknown; interface?: unknown; address?: unknown; peer_address?: unknown }, ctx: IssueSink): void {
  if (l.interface === undefined && typeof l.name === 'string' && tunName(l.name).length > 15) {
    ctx.addIssue({ code: 'custom', path: ['interface'], message: `the default TUN name "${tunName(l.name)}" is longer than 15 characters: set interface, or a shorter name` });
  }
  linkAddressChecks(l, ctx);
}

/** The TUN interface a partially parsed link occupies when it leaves `interface` out (document-wide checks). */
export const defaultTunInterface = (l: Record<string, unknown>): string | undefined => {
  const name = str(l.name);
  return name !== undefined ? tunName(name) : undefined;
};

/** The typed fields of a TUN link: its TUN device and point-to-point address. */
export function typedTun(l: { name: string; interface?: string | undefined; address: string }) {
  return { interface: l.interface ?? tunName(l.name), ...typedAddress(l.address) };
}
