// Opens a configured private link of any kind behind the PrivateLink interface: ethernet (control over UDP on the
// kernel-forwarded interface), serial (TUN <-> framed serial line) or udp (TUN <-> authenticated UDP tunnel).
import type { PrivateLinkConfig } from '../config/schema.js';
import type { ControlKey, ControlSender } from '../proto/control.js';
import type { ReplayGuard } from '../proto/replay.js';
import { openTunDevice } from '../os/linux/tun.js';
import { SerialLink } from './serial.js';
import type { PrivateLink } from './types.js';
import { UdpControlLink } from './udp-control.js';
import { UdpTunnelLink } from './udp-tunnel.js';

export interface LinkContext {
  key: ControlKey;
  /** The raw cluster key (the udp kind derives its data keys from it). */
  clusterKey: Buffer;
  sender: ControlSender;
  guard: ReplayGuard;
  /** Control port of ethernet links. */
  port: number;
  /** Own address of an ethernet link (resolved from the interface when the config leaves it out). */
  localAddress: string;
  onLineEvent?: (link: string, e: { up: boolean; why?: string }) => void;
}

export async function openPrivateLink(l: PrivateLinkConfig, ctx: LinkContext): Promise<PrivateLink> {
  const common = { name: l.name, peer: l.peer, key: ctx.key, sender: ctx.sender, guard: ctx.guard };
  switch (l.kind) {
    case 'ethernet':
      // The socket is bound to the link's interface: the public LAN cannot reach the control port (issue #11).
      return UdpControlLink.open({ ...common, localAddress: ctx.localAddress, peerAddress: l.peerAddress, device: l.interface, port: ctx.port });
    case 'serial': {
      const tun = await openTunDevice({ name: l.interface, address: l.address, peerAddress: l.peerAddress, mtu: l.mtu });
      return new SerialLink({
        ...common, device: l.device, baud: l.baud, tun,
        ...(ctx.onLineEvent ? { onLineEvent: (e: { up: boolean; why?: string }) => ctx.onLineEvent!(l.name, e) } : {}),
      });
    }
    case 'udp': {
      const tun = await openTunDevice({ name: l.interface, address: l.address, peerAddress: l.peerAddress, mtu: l.mtu });
      try {
        return await UdpTunnelLink.open({
          ...common, clusterKey: ctx.clusterKey, localAddress: l.local.address, localPort: l.local.port,
          remoteHost: l.remote.host, remotePort: l.remote.port, tun,
        });
      } catch (e) {
        tun.close();
        throw e;
      }
    }
  }
}
