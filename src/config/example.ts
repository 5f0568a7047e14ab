// The annotated example configuration printed by `hanet config example`; a unit test checks it parses cleanly.
import { DEFAULTS, serialHeartbeatDefaults, serialMtuDefault } from './schema.js';

const D = DEFAULTS;

/** An annotated example configuration (YAML) for node `a` of the two-node lab topology `pair`. */
export function configExample(): string {
  return `# hanet configuration (YAML). Every field except node, public and private has a default; the
# defaults are shown. Unknown fields are errors. Check a file with: hanet check -c FILE

# This node's name: unique in the cluster; lowercase letters, digits and '-'.
node: a

# The cluster's shared secret, the same file on every node. Makes and verifies the HMAC of every control
# message. At least 16 bytes: hex (what "hanet key generate" writes), base64, or raw bytes. The file must not
# be accessible by other users (chmod 600), or hanet refuses it.
key_file: ${D.keyFile}

# Unix socket for "hanet status" and "hanet events".
control_socket: ${D.controlSocket}

# trace, debug, info, warn, error, fatal or silent.
log_level: ${D.logLevel}

# UDP port of the control protocol on ethernet private links; the same on every node.
port: ${D.port}

# Public interfaces: where clients reach this server. At least one.
public:
  - interface: eth0
    # Name of the LAN segment. Use the same name on every server attached to the same segment: a helper can
    # only answer for addresses of a LAN it is attached to.
    lan: ${D.lan}
    # Service addresses (CIDR) hanet keeps reachable; on failure a helper answers ARP for them. At least one.
    addresses: [10.0.0.11/24]
    # The router on this LAN: target of the ARP probes, and next hop of the default route. Must be inside the
    # prefix of one of the addresses. Required when probe.arp or default_route is true.
    gateway: 10.0.0.1
    # Whether this LAN carries the default route. Default: true for the first public interface (unless another
    # one sets it), false for the others. At most one public interface may carry it.
    default_route: true
    probe:
      # How often the carrier is read directly from the kernel. Measured: carrier-down notifications can arrive
      # up to ~1 s late, so hanet reads the link state itself instead of waiting for them.
      carrier_interval_ms: ${D.probe.carrierIntervalMs}
      # ARP probes of the gateway catch failures the carrier does not show (a dead switch port, a cut uplink).
      arp: ${D.probe.arp}
      arp_interval_ms: ${D.probe.arpIntervalMs}
      # The LAN counts as failed when this many probes in a row got no reply before the next probe went out
      # (about arp_interval_ms * arp_misses after the cut). Counted per probe, so a stalled daemon is no failure.
      arp_misses: ${D.probe.arpMisses}

# Private links to other nodes: the control messages travel on them and, during a takeover, the packets of
# this node's service addresses. At least one.
private:
  - # Name of the link in logs and status. Default: the interface name.
    name: ab
    # Link kind: ethernet (a direct Ethernet, veth or USB-net link; the kernel forwards the packets).
    # Default: ethernet.
    kind: ethernet
    interface: eth1
    # This node's address on the link, with or without prefix. If omitted, hanet uses the interface's first
    # IPv4 address.
    address: 192.168.100.1/30
    # The node at the other end, and its address on the link (in the same subnet as address).
    peer: b
    peer_address: 192.168.100.2
    # Lower is preferred when choosing a helper among the peers that can help.
    cost: ${D.cost}
  - # A serial line (RS232 null-modem cable, or USB serial adapters): the last resort when every network
    # interface of a server has failed. hanet creates a TUN interface (default name hn<name>, at most 15
    # characters) and carries IP packets and control messages over the line in COBS frames with a CRC-32;
    # frames damaged by line noise are dropped and counted, and the device is reopened by itself after it
    # disappears (USB adapter unplugged). 8N1, no flow control. The name is required for serial and udp links.
    name: ab-serial
    kind: serial
    device: /dev/ttyS0
    # A standard rate. 115200 baud carries ~11.5 KB/s each way: enough for control traffic and a few
    # interactive connections, not for bulk.
    baud: 115200
    # interface: hnab-serial
    # This node's and the peer's address on the TUN (point-to-point), as for ethernet links.
    address: 192.168.101.1/30
    peer: b
    peer_address: 192.168.101.2
    # Default: what the line sends in ~50 ms, within 296..1500 (576 at 115200 baud), so a heartbeat never
    # waits long behind a full packet.
    mtu: ${serialMtuDefault(115200)}
    cost: ${D.serial.cost}
    # This link's heartbeats. Default: at most 10 % of the line (at 115200 baud every
    # ${serialHeartbeatDefaults(115200).intervalMs} ms, timeout ${serialHeartbeatDefaults(115200).timeoutMs} ms); the timeout must stay below takeover.lease_ms.
    heartbeat_interval_ms: ${serialHeartbeatDefaults(115200).intervalMs}
    heartbeat_timeout_ms: ${serialHeartbeatDefaults(115200).timeoutMs}
  - # A routed private network (not one Ethernet segment): IP packets travel between the two daemons in UDP
    # through a TUN interface, encrypted and authenticated (AES-256-GCM, keys derived from key_file), with
    # replay protection; control messages use the same socket.
    name: ac-wan
    kind: udp
    # Underlay address (and port, default ${D.udp.port}) this node binds, and the peer's underlay host:port.
    local: 192.168.200.1:${D.udp.port}
    remote: 192.168.201.1:${D.udp.port}
    address: 192.168.102.1/30
    peer: c
    peer_address: 192.168.102.2
    # Default ${D.udp.mtu}: 1500 on the underlay less 28 (IPv4 + UDP) and 33 (header and tag), rounded down.
    mtu: ${D.udp.mtu}
    cost: ${D.udp.cost}

heartbeat:
  # Heartbeats are sent on every private link at this interval.
  interval_ms: ${D.heartbeat.intervalMs}
  # A link is down after this long without a valid heartbeat; more than 2 * interval_ms.
  timeout_ms: ${D.heartbeat.timeoutMs}

takeover:
  # A helper stops answering for this node's addresses when this node has not renewed the lease (in its
  # heartbeats) for this long; more than heartbeat.timeout_ms.
  lease_ms: ${D.takeover.leaseMs}
  # A public interface must be healthy this long before this node takes its addresses back (anti-flap).
  failback_hold_ms: ${D.takeover.failbackHoldMs}
  # Gratuitous ARPs sent after a takeover or failback so that neighbours update their caches at once, and
  # the interval between them: repeated because a single one can be lost.
  garp_count: ${D.takeover.garpCount}
  garp_interval_ms: ${D.takeover.garpIntervalMs}
  # After a release, the helper keeps its route to this node this long, for packets still in flight.
  release_linger_ms: ${D.takeover.releaseLingerMs}
  # Whether this node may act as a helper for its peers.
  can_help: ${D.takeover.canHelp}

metrics:
  # Prometheus metrics at http://LISTEN/metrics (docs/metrics.md lists them).
  enabled: ${D.metrics.enabled}
  # ADDRESS:PORT. Loopback by default: the metrics describe the cluster's state to whoever can read them.
  listen: ${D.metrics.listen}

# A notify hook (like keepalived's notify scripts): an executable run on state changes, with the event as
# its last argument and HANET_EVENT, HANET_NODE, HANET_ROLE, HANET_LAN, HANET_PEER, HANET_ADDRESSES,
# HANET_TIME ... in its environment (docs/hooks.md). It runs after the change was made, never delays it,
# and is killed (with its process group) after timeout_ms. Omit the section for no hook.
# notify:
#   command: /etc/hanet/notify.sh
#   args: []
#   timeout_ms: ${D.notify.timeoutMs}
#   # Default: the state changes (ready, iface-failed, iface-recovered, local-backup, takeover-*, helper-switch,
#   # unserved, failback, help-start, help-release, lease-expired, help-link-down, peer-up, peer-down).
#   events: [takeover-acked, failback, help-start, help-release]
#   # Hooks running at once (1: in order), and events waiting beyond that (the oldest is dropped when full).
#   max_concurrent: ${D.notify.maxConcurrent}
#   max_queue: ${D.notify.maxQueue}
`;
}
