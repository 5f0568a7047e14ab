// What `hanet doctor` reports: findings, each with a severity and the fix, and what they add up to (the exit status).
// Every check is a small function returning findings; the pure decisions take facts so that tests can plant them.

export type Severity = 'ok' | 'warn' | 'block';

/** One check's name; with `subject` (an interface, a link, a file) it identifies a finding. */
export type CheckId =
  | 'privileges'
  | 'native-addon'
  | 'netlink'
  | 'af-packet'
  | 'tun'
  | 'proxy-arp'
  | 'proxy-ndp'
  | 'sysctl-writable'
  | 'forwarding'
  | 'proxy-delay'
  | 'rp-filter'
  | 'config'
  | 'interface'
  | 'carrier'
  | 'enslaved'
  | 'bonding'
  | 'keepalived'
  | 'network-manager'
  | 'systemd-networkd'
  | 'clock'
  | 'file'
  | 'peer'
  | 'bird'
  | 'bird-session';

export interface Finding {
  id: CheckId;
  /** What the finding is about (interface, link or file), when the check runs once per such thing. */
  subject?: string;
  severity: Severity;
  message: string;
  /** What to do about it (warn and block findings always have one). */
  fix?: string;
}

export const ok = (id: CheckId, message: string, subject?: string): Finding => ({ id, ...(subject !== undefined ? { subject } : {}), severity: 'ok', message });
export const warn = (id: CheckId, message: string, fix: string, subject?: string): Finding => ({ id, ...(subject !== undefined ? { subject } : {}), severity: 'warn', message, fix });
export const block = (id: CheckId, message: string, fix: string, subject?: string): Finding => ({ id, ...(subject !== undefined ? { subject } : {}), severity: 'block', message, fix });

export interface DoctorSummary { blocking: number; warnings: number; ok: boolean }

/** ok: nothing blocks a takeover (warnings do not). */
export function summarise(findings: readonly Finding[]): DoctorSummary {
  const blocking = findings.filter((f) => f.severity === 'block').length;
  return { blocking, warnings: findings.filter((f) => f.severity === 'warn').length, ok: blocking === 0 };
}
