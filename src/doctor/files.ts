// Doctor: permissions of the configuration, the cluster key and the notify hook (rules in config/file-safety.ts,
// the same module `hanet run` uses).
import { isAbsolute } from 'node:path';
import { checkFileSafety, type SafeFileRole } from '../config/file-safety.js';
import { block, ok, warn, type Finding } from './types.js';

export interface SafeFile { path: string; role: SafeFileRole }

/** Findings for each file: one block per problem, or one ok. */
export function fileFindings(files: SafeFile[], ownerUid = 0): Finding[] {
  const out: Finding[] = [];
  for (const f of files) {
    if (f.role === 'hook' && !isAbsolute(f.path)) {
      out.push(warn('file', `notify.command '${f.path}' is not an absolute path: which file root runs depends on PATH`, 'give notify.command as an absolute path', f.path));
      continue;
    }
    const issues = checkFileSafety(f.path, f.role, ownerUid);
    if (issues.length === 0) out.push(ok('file', `${f.role} ${f.path}: owned by root, ${f.role === 'key' ? 'no group/other access' : 'not writable by group/other'}`, f.path));
    for (const i of issues) out.push(block('file', i.message, i.fix, f.path));
  }
  return out;
}
