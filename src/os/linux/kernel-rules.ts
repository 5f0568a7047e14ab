// Policy routing rules on the Linux kernel port: reading hanet's rules (protocol HANET_RTPROT) and adding or deleting
// one, over rtnetlink (RTM_GETRULE / RTM_NEWRULE / RTM_DELRULE). Used by src/os/linux/kernel.ts.
import { HANET_RTPROT, normRule } from '../../core/kernel-plan.js';
import type { Family, RuleSpec } from '../../core/kernel-types.js';
import { afToFamily, familyToAf } from '../../proto/inet.js';
import { FR_ACT_BLACKHOLE, FR_ACT_PROHIBIT, FR_ACT_TO_TBL, NLM_F_CREATE, NLM_F_EXCL, RTM_DELRULE, RTM_GETRULE, RTM_NEWRULE, encodeRule, type RuleMsg } from '../../proto/netlink.js';
import { NetlinkError, type NetlinkSocket } from './netlink.js';

const RT_TABLE_MAIN = 254;
const ACTIONS: Record<RuleSpec['action'], number> = { 'lookup-main': FR_ACT_TO_TBL, blackhole: FR_ACT_BLACKHOLE, prohibit: FR_ACT_PROHIBIT };
const ENOENT = 2, EEXIST = 17;

function ruleMsg(rule: RuleSpec, withProto: boolean): RuleMsg {
  const r = normRule(rule);
  const m: RuleMsg = {
    family: familyToAf(r.family), dstLen: r.dst !== undefined ? r.dstLen! : 0, srcLen: r.src !== undefined ? r.srcLen! : 0, tos: 0,
    action: ACTIONS[r.action], flags: 0, table: r.action === 'lookup-main' ? RT_TABLE_MAIN : 0, priority: r.priority,
  };
  if (r.iif !== undefined) m.iifname = r.iif;
  if (r.dst !== undefined) m.dst = r.dst;
  if (r.src !== undefined) m.src = r.src;
  if (withProto) m.protocol = HANET_RTPROT;
  return m;
}

/** hanet's rules (protocol HANET_RTPROT) of both families. */
export async function readRules(nl: NetlinkSocket): Promise<RuleSpec[]> {
  const out: RuleSpec[] = [];
  for (const family of [4, 6] as Family[]) {
    const replies = await nl.dump(RTM_GETRULE, encodeRule({ family: familyToAf(family), dstLen: 0, srcLen: 0, tos: 0, action: 0, flags: 0, table: 0 }), { what: `dump IPv${family} rules` });
    for (const r of replies) {
      if (r.kind !== 'rule' || r.msg.protocol !== HANET_RTPROT) continue;
      const f = afToFamily(r.msg.family);
      if (!f || r.msg.priority === undefined) continue;
      const spec: RuleSpec = { family: f, priority: r.msg.priority, action: r.msg.action === FR_ACT_BLACKHOLE ? 'blackhole' : r.msg.action === FR_ACT_PROHIBIT ? 'prohibit' : 'lookup-main' };
      if (r.msg.iifname !== undefined) spec.iif = r.msg.iifname;
      if (r.msg.dst !== undefined) { spec.dst = r.msg.dst; spec.dstLen = r.msg.dstLen; }
      if (r.msg.src !== undefined) { spec.src = r.msg.src; spec.srcLen = r.msg.srcLen; }
      out.push(spec);
    }
  }
  return out;
}

/** Adds (`add`) or deletes one rule; returns false when the kernel already was in that state. */
export async function applyRule(nl: NetlinkSocket, rule: RuleSpec, add: boolean, what: string): Promise<boolean> {
  try {
    if (add) await nl.request(RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, encodeRule(ruleMsg(rule, true)), { what });
    else await nl.request(RTM_DELRULE, 0, encodeRule(ruleMsg(rule, true)), { what });
    return true;
  } catch (e) {
    if (e instanceof NetlinkError && e.errno === (add ? EEXIST : ENOENT)) return false;
    throw e;
  }
}
