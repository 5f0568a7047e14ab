// Embedded topology `pair-serial`: `pair` with the a-b Ethernet link replaced by a 115200-baud serial line (a
// pseudo-terminal pair and a rate-limited relay). ser0 on each server is the TUN hanet creates for the line.
import { CLIENT, ROUTER_AND_SWITCH, server } from './parts.js';

export const PAIR_SERIAL_YAML = `
name: pair-serial
description: client c - router r - switch sw - servers a and b, private serial line a-b at 115200 baud
nodes:
${CLIENT}${ROUTER_AND_SWITCH}${server('a', '10.0.0.11', ['{ name: ser0, addresses: [192.168.101.1/30] }'])}${server('b', '10.0.0.12', ['{ name: ser0, addresses: [192.168.101.2/30] }'])}links:
  - { ends: [c:eth0, r:eth0] }
  - { kind: serial, ends: [a:ser0, b:ser0], baud: 115200 }
`;
