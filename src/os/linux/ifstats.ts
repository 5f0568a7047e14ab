// Byte counters of network interfaces, read from /proc/net/dev: it shows the network namespace of the reading
// process (unlike /sys/class/net, which shows the namespace sysfs was mounted in), so it is right inside a netns.
import { readFileSync } from 'node:fs';

export interface IfaceBytes { rxBytes: number; txBytes: number; rxPackets: number; txPackets: number }

/** Parses /proc/net/dev text: interface name -> counters. */
export function parseProcNetDev(text: string): Map<string, IfaceBytes> {
  const out = new Map<string, IfaceBytes>();
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    // receive: bytes packets errs drop fifo frame compressed multicast; transmit: bytes packets ...
    if (f.length < 16 || f.some((x) => !Number.isFinite(x))) continue;
    out.set(name, { rxBytes: f[0]!, rxPackets: f[1]!, txBytes: f[8]!, txPackets: f[9]! });
  }
  return out;
}

/** Current counters of one interface of this process's network namespace, or undefined if it does not exist. */
export function readIfaceBytes(ifname: string, path = '/proc/net/dev'): IfaceBytes | undefined {
  try {
    return parseProcNetDev(readFileSync(path, 'utf8')).get(ifname);
  } catch {
    return undefined;
  }
}
