// The top-level scalar fields of the configuration: who this node is and where its files, socket and port are.
import { z } from 'zod';
import { absPath, nodeName } from '../fields.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const rootFields = {
  node: nodeName.meta({ description: "This node's name: unique in the cluster; lowercase letters, digits and '-'." }),
  key_file: absPath.default('/etc/hanet/cluster.key').meta({
    description: 'The cluster\'s shared secret, the same file on every node. Makes and verifies the HMAC of every control message. ' +
      'At least 16 bytes: hex (what "hanet key generate" writes), base64, or raw bytes. The file must not be accessible by other ' +
      'users (chmod 600), or hanet refuses it.',
  }),
  control_socket: absPath.default('/run/hanet/hanet.sock').meta({ description: 'Unix socket for "hanet status" and "hanet events".' }),
  log_level: z.enum(LOG_LEVELS).default('info').meta({ description: `How much the daemon logs: ${LOG_LEVELS.slice(0, -1).join(', ')} or ${LOG_LEVELS.at(-1)}.` }),
  port: z.number().int().min(1).max(65535).default(7431).meta({
    description: 'UDP port of the control protocol on ethernet private links; the same on every node.',
  }),
};
