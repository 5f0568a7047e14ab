// Wire-level address helpers of the codecs: Linux address family numbers and MAC text <-> bytes. IP address text
// and prefixes live in the one address module, src/core/ip.ts.

import type { Family } from '../core/ip.js';

export type IpFamily = Family;

/** Linux address family numbers used on the wire (AF_INET, AF_INET6). */
export const AF_INET = 2;
export const AF_INET6 = 10;

export const familyToAf = (f: IpFamily): number => (f === 4 ? AF_INET : AF_INET6);
export const afToFamily = (af: number): IpFamily | undefined => (af === AF_INET ? 4 : af === AF_INET6 ? 6 : undefined);
export const addrLen = (f: IpFamily): number => (f === 4 ? 4 : 16);

/** "aa:bb:cc:dd:ee:ff" (lowercase) for any length of link-layer address. */
export function formatMac(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

/** Parses "aa:bb:cc:dd:ee:ff" (also with '-'); 6 bytes only. */
export function parseMac(s: string): Uint8Array | undefined {
  const parts = s.split(/[:-]/);
  if (parts.length !== 6) return undefined;
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    const p = parts[i]!;
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) return undefined;
    out[i] = parseInt(p, 16);
  }
  return out;
}
