// Whether hanet's own files are safe to trust: the cluster key, the configuration and the notify hook. A pure
// decision from stat results (fileSafetyIssues) and a thin fs wrapper (checkFileSafety) for doctor and `hanet run`.
//
// Rules (root runs hanet, so whoever can change these files controls what root does or can forge takeovers):
//  - key:    a regular file owned by root, no access at all for group and other (the key authenticates takeovers);
//  - config: a regular file owned by root, not writable by group or other (it names the hook root runs);
//  - hook:   a regular file owned by root, not writable by group or other, executable by its owner;
//  - and for each: the directory holding it owned by root and not writable by group or other (else the file can be
//    replaced), unless it is sticky (like /tmp, where only the owner may rename or delete).
import { statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';

export type SafeFileRole = 'key' | 'config' | 'hook';

export type FileSafetyProblem =
  | 'missing'
  | 'not-regular'
  | 'not-root-owned'
  | 'group-other-access'
  | 'group-other-writable'
  | 'not-executable'
  | 'dir-not-root-owned'
  | 'dir-writable';

export interface FileSafetyIssue { problem: FileSafetyProblem; message: string; fix: string }

/** What the decision needs from stat(2): of the file (undefined: it does not exist) and of its directory. */
export interface FileFacts {
  path: string;
  file?: { isFile: boolean; uid: number; mode: number };
  dir?: { path: string; uid: number; mode: number };
}

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');

/** The problems of one file, none if it is safe. `ownerUid` is the uid that must own it (root). Pure. */
export function fileSafetyIssues(role: SafeFileRole, facts: FileFacts, ownerUid = 0): FileSafetyIssue[] {
  const { path, file, dir } = facts;
  if (!file) return [{ problem: 'missing', message: `${role} ${path} does not exist`, fix: role === 'key' ? `hanet key generate --out ${path} (the same key on every node)` : `create ${path}` }];
  if (!file.isFile) return [{ problem: 'not-regular', message: `${role} ${path} is not a regular file`, fix: `replace ${path} with a regular file` }];
  const out: FileSafetyIssue[] = [];
  if (file.uid !== ownerUid) out.push({ problem: 'not-root-owned', message: `${role} ${path} is owned by uid ${file.uid}, not root`, fix: `chown root:root ${path}` });
  if (role === 'key' && (file.mode & 0o077) !== 0) {
    out.push({ problem: 'group-other-access', message: `key ${path} has mode ${octal(file.mode)}: group or other can read or change it (and forge takeovers)`, fix: `chmod 600 ${path}` });
  } else if (role !== 'key' && (file.mode & 0o022) !== 0) {
    out.push({ problem: 'group-other-writable', message: `${role} ${path} has mode ${octal(file.mode)}: group or other can change what root runs`, fix: `chmod go-w ${path}` });
  }
  if (role === 'hook' && (file.mode & 0o100) === 0) out.push({ problem: 'not-executable', message: `hook ${path} is not executable (mode ${octal(file.mode)})`, fix: `chmod 755 ${path}` });
  if (dir) {
    if (dir.uid !== ownerUid) out.push({ problem: 'dir-not-root-owned', message: `directory ${dir.path} holding the ${role} is owned by uid ${dir.uid}: its owner can replace ${path}`, fix: `chown root:root ${dir.path}` });
    const sticky = (dir.mode & 0o1000) !== 0;
    if ((dir.mode & 0o022) !== 0 && !sticky) out.push({ problem: 'dir-writable', message: `directory ${dir.path} holding the ${role} has mode ${octal(dir.mode)}: group or other can replace ${path}`, fix: `chmod go-w ${dir.path}` });
  }
  return out;
}

const factsOf = (st: Stats): { uid: number; mode: number } => ({ uid: st.uid, mode: st.mode });

/** Reads the facts of `path` (stat follows symlinks: the target is what hanet opens). */
export function fileFacts(path: string): FileFacts {
  const facts: FileFacts = { path };
  try {
    const st = statSync(path);
    facts.file = { isFile: st.isFile(), ...factsOf(st) };
  } catch { /* missing or unreadable: no file facts */ }
  try {
    const d = dirname(path);
    facts.dir = { path: d, ...factsOf(statSync(d)) };
  } catch { /* no directory facts */ }
  return facts;
}

/** The problems of the file at `path` in the given role; [] when it is safe. */
export function checkFileSafety(path: string, role: SafeFileRole, ownerUid = 0): FileSafetyIssue[] {
  return fileSafetyIssues(role, fileFacts(path), ownerUid);
}
