// Configuration: every environment variable of the product, validated by one zod schema at start-up.
// The same table generates the README's configuration section (`npm run docs`).
import { z } from 'zod';
import { parseEgressAllow } from './egress';

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
const url = (...protocols: string[]) =>
  z.url().refine((value) => protocols.some((p) => value.startsWith(`${p}:`)), {
    message: `must start with ${protocols.join(' or ')}`,
  });
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

interface Variable {
  schema: z.ZodType;
  expected: string;
  description: string;
  default?: string;
}

/** Every variable: its schema, the form a bad value is told to take, and what it does. */
export const variables = {
  TEMPORAL_ADDRESS: {
    schema: optional(z.string().regex(/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/)),
    expected: 'host:port of a Temporal frontend, e.g. 127.0.0.1:7233',
    description: 'Temporal frontend. Unset: the start command runs a local dev server.',
    default: 'local dev server',
  },
  TEMPORAL_NAMESPACE: {
    schema: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,255}$/)
      .default('default'),
    expected: 'a Temporal namespace name (letters, digits, . _ -)',
    description: 'Temporal namespace.',
    default: 'default',
  },
  TEMPORAL_TASK_QUEUE: {
    schema: z.string().min(1).max(200).default('leads'),
    expected: 'a non-empty task queue name',
    description: 'Task queue the worker polls and clients start journeys on.',
    default: 'leads',
  },
  DATABASE_URL: {
    schema: optional(url('postgres', 'postgresql')),
    expected: 'a postgres:// connection URL',
    description: 'Postgres. Unset: the start command runs an embedded Postgres under .data/pg.',
    default: 'embedded Postgres',
  },
  SMTP_URL: {
    schema: optional(url('smtp', 'smtps')),
    expected: 'an smtp:// or smtps:// URL, e.g. smtp://user:pass@mail.example.com:587',
    description: 'Outgoing mail server. Unset: the local mailbox started by the start command.',
    default: 'local mailbox',
  },
  MAIL_FROM: {
    schema: z.string().min(3).default('leadrelay <no-reply@leadrelay.local>'),
    expected: 'a From address, e.g. "Leasing <leasing@example.com>"',
    description: 'From address of every email.',
    default: 'leadrelay <no-reply@leadrelay.local>',
  },
  TWILIO_ACCOUNT_SID: {
    schema: optional(z.string().regex(/^AC[0-9a-fA-F]{32}$/)),
    expected: 'a Twilio account SID: AC followed by 32 hex digits',
    description: 'Twilio account for SMS.',
  },
  TWILIO_AUTH_TOKEN: {
    schema: optional(z.string().min(16)),
    expected: 'the Twilio auth token (at least 16 characters)',
    description: 'Twilio auth token: signs API calls and verifies X-Twilio-Signature.',
  },
  TWILIO_FROM: {
    schema: optional(z.string().regex(/^(\+[1-9]\d{6,14}|MG[0-9a-fA-F]{32})$/)),
    expected: 'an E.164 number (+15551234567) or a messaging service SID (MG…)',
    description: 'Sender of SMS.',
  },
  TWILIO_API_BASE_URL: {
    schema: optional(url('http', 'https')),
    expected: 'an http(s) URL',
    description: "Override of Twilio's API host (sandboxes, tests).",
    default: 'https://api.twilio.com',
  },
  SLACK_WEBHOOK_URL: {
    schema: optional(url('http', 'https')),
    expected: 'a Slack incoming-webhook URL',
    description: 'Default staff channel; workspaces may set their own.',
  },
  API_PORT: {
    schema: port(8080),
    expected: 'a TCP port number (1-65535)',
    description: 'Port of the api service.',
    default: '8080',
  },
  INGEST_PORT: {
    schema: port(8081),
    expected: 'a TCP port number (1-65535)',
    description: 'Port of the ingest service (partner webhooks).',
    default: '8081',
  },
  WORKER_PORT: {
    schema: port(8082),
    expected: 'a TCP port number (1-65535)',
    description: "Port of the worker's HTTP server: /healthz, /readyz and /metrics.",
    default: '8082',
  },
  TEMPORAL_METRICS_PORT: {
    schema: port(9464),
    expected: 'a TCP port number (1-65535)',
    description: "Port where the worker's Temporal SDK serves its Prometheus metrics (/metrics).",
    default: '9464',
  },
  PUBLIC_BASE_URL: {
    schema: optional(url('http', 'https')),
    expected: 'an http(s) URL without a trailing path, e.g. https://leads.example.com',
    description:
      'Public base URL in links and webhook URLs (a proxy routing /api to api and /webhooks to ingest). Unset: http://localhost:<port> of each service.',
  },
  LEADRELAY_ADMIN_TOKEN: {
    schema: optional(z.string().min(16)),
    expected: 'a secret of at least 16 characters',
    description:
      'Bearer token for admin routes (registering workspaces). The start command generates one under .data/.',
  },
  LEADRELAY_OPERATOR_RATE_LIMIT_PER_HOUR: {
    schema: z.coerce.number().int().positive().default(3600),
    expected: 'a positive whole number of requests',
    description:
      'Hourly budget of operator requests (admin token routes, the codec and its sign-in) per client address; past it, 429 with Retry-After.',
    default: '3600',
  },
  LEADRELAY_ENCRYPTION_KEYS: {
    schema: optional(
      z.string().regex(/^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=(,[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/]{43}=)*$/),
    ),
    expected: 'comma-separated id:base64 keys of 32 bytes each, e.g. k1:<44 base64 chars>',
    description:
      'Encryption keys for credentials and Temporal payloads: the first encrypts, all decrypt. The start command generates one under .data/.',
  },
  LEADRELAY_EGRESS_ALLOW: {
    schema: optional(
      z.string().refine(
        (value) => {
          try {
            parseEgressAllow(value);
            return true;
          } catch {
            return false;
          }
        },
        { message: 'must be comma-separated CIDRs, addresses or host names' },
      ),
    ),
    expected: 'comma-separated CIDRs, addresses and host names, e.g. 10.20.0.0/16,crm.internal',
    description:
      'Exceptions to the egress guard: requests made for a workspace (partner APIs, webhooks, Slack) never go to loopback, private, link-local, CGNAT, multicast or reserved addresses unless listed here. The start command and the tests set loopback (127.0.0.0/8,::1/128,localhost) unless set; production leaves it empty.',
    default: 'nothing (start command and tests: loopback)',
  },
  IMPORT_MAX_BYTES: {
    schema: z.coerce
      .number()
      .int()
      .min(1024)
      .default(64 * 1024 * 1024),
    expected: 'a number of bytes (at least 1024)',
    description:
      'Largest import file the api takes (POST /api/v1/imports); larger ones are refused with 413.',
    default: '67108864',
  },
  IMPORT_ROWS_PER_SECOND: {
    schema: z.coerce.number().positive().max(100_000).default(100),
    expected: 'a positive number of rows per second',
    description:
      'Throttle of imports: rows per second at most, so live webhooks keep their latency while a large file goes in.',
    default: '100',
  },
  INGEST_MAX_WAIT_MS: {
    schema: z.coerce.number().int().min(0).max(60_000).default(10_000),
    expected: 'a number of milliseconds (0-60000)',
    description:
      "Longest expected wait ingest queues a webhook for behind its database gate; beyond it the webhook is answered 503 `overloaded` with Retry-After before anything is stored. Under the shortest partner timeout found (HubSpot's, 5 s; docs/ingest.md) less the 2 s an answer may wait for its signal.",
    default: '10000',
  },
  IMPORT_JOURNEY_WINDOW: {
    schema: z.coerce.number().int().min(1).max(100_000).default(100),
    expected: 'a whole number of rows (at least 1)',
    description:
      'Closed loop of imports: leads an import created whose journey has not recorded its imported history yet, at most; the next batch waits (and takes only what is left of the window) until the journeys catch up.',
    default: '100',
  },
  IMPORT_MAX_QUEUE_DELAY_MS: {
    schema: z.coerce.number().int().min(0).max(3_600_000).default(500),
    expected: 'a number of milliseconds (0 or more)',
    description:
      "Closed loop of imports: how late a live lead may be because of imports. Each look of an import starts a probe (workflow type importProbe: a workflow task, an activity, a workflow task) on TEMPORAL_TASK_QUEUE at a live lead's priority; the import holds its next batch while a probe has run longer than this or the oldest task waiting there has waited longer (Temporal's DescribeTaskQueue stats), halves its pace when a probe took longer, and takes one more row a second each turn they are on time.",
    default: '500',
  },
  LOG_LEVEL: {
    schema: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    expected: 'one of fatal, error, warn, info, debug, trace, silent',
    description: 'pino log level.',
    default: 'info',
  },
  LEADRELAY_DATA_DIR: {
    schema: z.string().min(1).default('.data'),
    expected: 'a directory path',
    description: 'Where the start command keeps the dev server, embedded Postgres and mailbox data.',
    default: '.data',
  },
  TEMPORAL_PORT: {
    schema: port(7233),
    expected: 'a TCP port number (1-65535)',
    description: 'Port of the local Temporal dev server (when TEMPORAL_ADDRESS is unset).',
    default: '7233',
  },
  TEMPORAL_UI_PORT: {
    schema: port(8233),
    expected: 'a TCP port number (1-65535)',
    description: 'Port of the local Temporal Web UI.',
    default: '8233',
  },
  TEMPORAL_UI_URL: {
    schema: z.preprocess(
      (value) => (value === '' ? undefined : value),
      url('http', 'https').default('http://localhost:8233'),
    ),
    expected: 'an http(s) URL of the Temporal Web UI, e.g. https://temporal.example.com',
    description:
      "Base URL of the Temporal Web UI, for the dashboard's links to a lead's run. The start command sets the local UI's.",
    default: 'http://localhost:8233',
  },
  POSTGRES_PORT: {
    schema: port(5433),
    expected: 'a TCP port number (1-65535)',
    description: 'Port of the embedded Postgres (when DATABASE_URL is unset).',
    default: '5433',
  },
  MAILBOX_SMTP_PORT: {
    schema: port(1025),
    expected: 'a TCP port number (1-65535)',
    description: 'SMTP port of the local mailbox (when SMTP_URL is unset).',
    default: '1025',
  },
  MAILBOX_PORT: {
    schema: port(8025),
    expected: 'a TCP port number (1-65535)',
    description: 'Web page of the local mailbox listing received mail.',
    default: '8025',
  },
} satisfies Record<string, Variable>;

type Variables = typeof variables;
export type Config = { [K in keyof Variables]: z.output<Variables[K]['schema']> };

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; a bad value throws a ConfigError whose message is one line. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const config: Record<string, unknown> = {};
  for (const [name, variable] of Object.entries(variables) as [keyof Variables, Variable][]) {
    const result = variable.schema.safeParse(env[name]);
    if (!result.success) {
      const shown = env[name] === undefined ? 'nothing' : JSON.stringify(env[name]);
      throw new ConfigError(name, `${name} must be ${variable.expected}; got ${shown}`);
    }
    config[name] = result.data;
  }
  return config as Config;
}

/** For a service's main: the config, or one clear line on stderr and exit code 2. */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`leadrelay: invalid configuration: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
}

/** Base URLs outsiders use for the api and for partner webhooks. */
export function publicUrls(config: Config): { api: string; ingest: string } {
  const base = config.PUBLIC_BASE_URL?.replace(/\/+$/, '');
  return {
    api: base ?? `http://localhost:${config.API_PORT}`,
    ingest: base ?? `http://localhost:${config.INGEST_PORT}`,
  };
}

/** A service run on its own needs the addresses the start command would otherwise provide. */
export function requireVariables<K extends keyof Config>(config: Config, names: K[]): void {
  for (const name of names) {
    if (config[name] === undefined) {
      process.stderr.write(
        `leadrelay: invalid configuration: ${name} must be set to run this service alone (${variables[name].expected}); \`npm start\` sets it for you\n`,
      );
      process.exit(2);
    }
  }
}

/** Whether SMS can be sent: the three Twilio variables are set (else SMS deliveries are skipped). */
export function smsConfigured(config: Config): boolean {
  return Boolean(config.TWILIO_ACCOUNT_SID && config.TWILIO_AUTH_TOKEN && config.TWILIO_FROM);
}
