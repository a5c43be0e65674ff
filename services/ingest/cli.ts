// `npm run inbox -- list|replay|relay …`: the operators' inbox tool, straight on Postgres and Temporal.
//   list   [--workspace ws] [--partner p] [--status s1,s2] [--from iso] [--to iso] [--limit n] [--json]
//   replay <inbox-event-id>
//   replay --from iso --to iso [--workspace ws] [--partner p] [--status s1,s2] [--limit n]
//   relay  (one relay pass now: delivers due pending events)
import { parseArgs } from 'node:util';
import { INBOX_STATUSES, listInboxEvents, type InboxStatus } from '../../data/inbox';
import { readLocalSecrets } from '../../infra/local/secrets';
import { KeyRing } from '../../shared/crypto';
import { createPool } from '../../data/pool';
import { loadConfigOrExit } from '../../shared/config';
import { PARTNERS } from '../../shared/lifecycle';
import { replayInboxEvent, replayInboxWindow, type DeliveryDeps } from '../../usecases/inbox';
import { JourneyClient } from '../../usecases/journeys';
import { connectClient } from '../common/temporal';
import { relayOnce } from './relay';

export const USAGE = `usage: npm run inbox -- <command>
  list   [--workspace ws] [--partner p] [--status pending,unmatched] [--from iso] [--to iso] [--limit n] [--json]
  replay <inbox-event-id>
  replay --from iso --to iso [--workspace ws] [--partner p] [--status s] [--limit n]
  relay  deliver due pending events now`;

export class UsageError extends Error {}

function statuses(value: string | undefined): InboxStatus[] | undefined {
  if (!value) return undefined;
  const list = value.split(',').filter(Boolean);
  for (const status of list) {
    if (!(INBOX_STATUSES as readonly string[]).includes(status)) {
      throw new UsageError(`--status: ${status} is not one of ${INBOX_STATUSES.join(', ')}`);
    }
  }
  return list as InboxStatus[];
}

function time(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (Number.isNaN(Date.parse(value))) throw new UsageError(`--${name}: not a date or time: ${value}`);
  return new Date(value).toISOString();
}

function limit(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 10_000)
    throw new UsageError('--limit: a whole number from 1 to 10000');
  return n;
}

/** Runs one command; writes lines through `out`. Throws UsageError for a bad command line. */
export async function runInboxCli(
  argv: string[],
  deps: DeliveryDeps,
  out: (line: string) => void,
): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      workspace: { type: 'string' },
      partner: { type: 'string' },
      status: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const [command, id] = positionals;
  if (values.partner && !(PARTNERS as readonly string[]).includes(values.partner)) {
    throw new UsageError(`--partner: ${values.partner} is not one of ${PARTNERS.join(', ')}`);
  }
  const filter = {
    workspaceId: values.workspace,
    partner: values.partner,
    status: statuses(values.status),
    receivedFrom: time(values.from, 'from'),
    receivedTo: time(values.to, 'to'),
  };
  switch (command) {
    case 'list': {
      const rows = await listInboxEvents(deps.pool, { ...filter, limit: limit(values.limit, 50) });
      for (const row of rows) {
        const fields = {
          id: row.id,
          received_at: row.received_at.toISOString(),
          workspace_id: row.workspace_id,
          partner: row.partner,
          event_type: row.event_type,
          status: row.status,
          lead_id: row.lead_id,
          attempts: row.attempts,
          last_error: row.last_error,
        };
        out(
          values.json
            ? JSON.stringify(fields)
            : [
                fields.id,
                fields.received_at,
                fields.partner,
                fields.event_type,
                fields.status,
                fields.lead_id ?? '-',
                fields.last_error ?? '',
              ]
                .join('  ')
                .trimEnd(),
        );
      }
      if (!values.json) out(`${rows.length} event(s)`);
      return;
    }
    case 'replay': {
      if (id) {
        const result = await replayInboxEvent(deps, id, values.workspace);
        if (!result) throw new UsageError(`no inbox event ${id}`);
        out(JSON.stringify(result));
        return;
      }
      if (!filter.receivedFrom || !filter.receivedTo) {
        throw new UsageError('replay needs an inbox event id, or --from and --to for a time window');
      }
      const results = await replayInboxWindow(deps, { ...filter, limit: limit(values.limit, 500) });
      for (const result of results) out(JSON.stringify(result));
      out(`${results.length} event(s) replayed`);
      return;
    }
    case 'relay': {
      out(
        JSON.stringify(
          await relayOnce(deps, { limit: limit(values.limit, 100), workspaceId: values.workspace }),
        ),
      );
      return;
    }
    default:
      throw new UsageError(command ? `unknown command ${command}` : 'no command given');
  }
}

async function main(): Promise<void> {
  const command = process.argv[2];
  if (!command || !['list', 'replay', 'relay'].includes(command)) {
    throw new UsageError(command ? `unknown command ${command}` : 'no command given');
  }
  const config = loadConfigOrExit();
  // Unset: the stack `npm start` runs (its Temporal dev server and embedded Postgres on their default ports).
  const temporalAddress = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`;
  const databaseUrl =
    config.DATABASE_URL ?? `postgres://postgres:postgres@127.0.0.1:${config.POSTGRES_PORT}/leadrelay`;
  // The same keys as the services: set in the environment, else the ones `npm start` generated.
  const keys =
    config.LEADRELAY_ENCRYPTION_KEYS ?? readLocalSecrets(config.LEADRELAY_DATA_DIR)?.encryptionKeys;
  const temporal = await connectClient(
    temporalAddress,
    config.TEMPORAL_NAMESPACE,
    keys ? KeyRing.parse(keys) : undefined,
  );
  const pool = createPool(databaseUrl, 2);
  const journeys = new JourneyClient({ client: temporal, taskQueue: config.TEMPORAL_TASK_QUEUE });
  try {
    await runInboxCli(process.argv.slice(2), { pool, temporal, journeys }, (line) =>
      process.stdout.write(`${line}\n`),
    );
  } finally {
    await pool.end();
    await temporal.connection.close();
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`leadrelay inbox: ${(error as Error).message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`leadrelay inbox: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
