// The `metrics` section: the Prometheus endpoint (GET /metrics). Typed, `listen` becomes `host` and `port`.
import { z } from 'zod';
import { camelKeys } from '../camel.js';
import { parseListen, show } from '../fields.js';

export const metricsSchema = z.strictObject({
  enabled: z.boolean().default(true).meta({ description: 'Whether to serve Prometheus metrics at http://LISTEN/metrics (docs/metrics.md lists them).' }),
  listen: z.string().superRefine((v, ctx) => {
    if (!parseListen(v)) ctx.addIssue({ code: 'custom', message: `${show(v)} is not ADDRESS:PORT (like 127.0.0.1:9742 or [::1]:9742)` });
  }).default('127.0.0.1:9742').meta({
    description: "ADDRESS:PORT. Loopback by default: the metrics describe the cluster's state to whoever can read them.",
  }),
});

/** The typed section: `listen` split into the address and port to listen on. */
export function toMetrics(m: z.output<typeof metricsSchema>) {
  const { listen, ...rest } = m;
  return { ...camelKeys(rest), ...parseListen(listen)! };
}
export type MetricsConfig = ReturnType<typeof toMetrics>;
