// Closed-loop maximum throughput with autocannon: a fixed number of keep-alive connections, each sending its
// next webhook as soon as the previous one is answered; every request is a new, freshly signed message.
import { round } from './load';
import type { SignedWebhook } from './workload';

interface AutocannonRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string;
}

interface AutocannonResult {
  requests: { total: number };
  latency: { p50: number; p97_5: number; p99: number; max: number };
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  requests: { setupRequest: (request: AutocannonRequest) => AutocannonRequest }[];
}) => Promise<AutocannonResult>;

// autocannon ships no types; this is the part of its API used here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const autocannon = require('autocannon') as Autocannon;

export interface AutocannonSummary {
  sent: number;
  ok: number;
  non2xx: number;
  errors: number;
  durationSeconds: number;
  /** Successful answers per second. */
  throughput: number;
  latency: { p50: number; p97_5: number; p99: number; max: number };
}

export async function autocannonRun(options: {
  webhook: (i: number) => SignedWebhook;
  connections: number;
  durationSeconds: number;
}): Promise<AutocannonSummary> {
  const first = options.webhook(0);
  const url = new URL(first.url);
  let next = 0;
  const result = await autocannon({
    url: url.origin,
    connections: options.connections,
    duration: options.durationSeconds,
    requests: [
      {
        setupRequest: (request) => {
          const webhook = options.webhook(next++);
          return {
            ...request,
            method: 'POST',
            path: new URL(webhook.url).pathname,
            headers: webhook.headers(),
            body: webhook.body,
          };
        },
      },
    ],
  });
  const sent = result.requests.total;
  const ok = sent - result.non2xx;
  return {
    sent,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    durationSeconds: result.duration,
    throughput: round(ok / result.duration),
    latency: {
      p50: result.latency.p50,
      p97_5: result.latency.p97_5,
      p99: result.latency.p99,
      max: result.latency.max,
    },
  };
}
