// One-shot job of the production stacks (docker-compose `temporal-setup`, Kubernetes `leadrelay-temporal-setup`):
// waits for the Temporal frontend, registers the namespace if it is missing, and adds our search attributes
// (SPEC section 4) that are missing. Idempotent: run it on every deploy.
//   TEMPORAL_ADDRESS=temporal:7233 TEMPORAL_NAMESPACE=default node infra/docker/setup-temporal.js   (the build)
import { Connection } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import { SEARCH_ATTRIBUTES } from '../../shared/searchAttributes';

/** Temporal's IndexedValueType numbers (temporal.api.enums.v1), for the types we use. */
const INDEXED_VALUE_TYPE: Partial<Record<SearchAttributeType, number>> = {
  [SearchAttributeType.KEYWORD]: 2,
  [SearchAttributeType.DATETIME]: 6,
};

/** Closed journeys stay visible this long unless TEMPORAL_RETENTION_DAYS says otherwise. */
const DEFAULT_RETENTION_DAYS = 30;

export interface SetupReport {
  namespaceCreated: boolean;
  added: string[];
  present: string[];
}

export async function ensureTemporalSetup(
  connection: Connection,
  namespace: string,
  retentionDays = DEFAULT_RETENTION_DAYS,
): Promise<SetupReport> {
  let namespaceCreated = false;
  try {
    await connection.workflowService.describeNamespace({ namespace });
  } catch (error) {
    // gRPC NOT_FOUND (5): the namespace does not exist yet.
    if ((error as { code?: number }).code !== 5) throw error;
    await connection.workflowService.registerNamespace({
      namespace,
      // protobufjs encodes a plain number into the int64 seconds; the generated type only names Long.
      workflowExecutionRetentionPeriod: { seconds: retentionDays * 86_400 } as never,
      description: 'leadrelay lead journeys',
    });
    namespaceCreated = true;
  }
  // A new namespace reaches every frontend's cache within seconds; until then it is NOT_FOUND.
  const deadline = Date.now() + 60_000;
  let customAttributes: Record<string, unknown> | null | undefined;
  for (;;) {
    try {
      ({ customAttributes } = await connection.operatorService.listSearchAttributes({ namespace }));
      break;
    } catch (error) {
      if ((error as { code?: number }).code !== 5 || Date.now() > deadline) throw error;
      await new Promise((resolveLater) => setTimeout(resolveLater, 1000));
    }
  }
  const existing = new Set(Object.keys(customAttributes ?? {}));
  const missing = SEARCH_ATTRIBUTES.filter((key) => !existing.has(key.name));
  if (missing.length > 0) {
    await connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(
        missing.map((key) => {
          const type = INDEXED_VALUE_TYPE[key.type];
          if (type === undefined) throw new Error(`no IndexedValueType for ${key.name} (${key.type})`);
          return [key.name, type];
        }),
      ),
    });
  }
  return {
    namespaceCreated,
    added: missing.map((key) => key.name),
    present: SEARCH_ATTRIBUTES.filter((key) => existing.has(key.name)).map((key) => key.name),
  };
}

/** Connects, retrying while the frontend is still starting (a fresh cluster takes a while). */
async function connectWhenReady(address: string, timeoutMs: number): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 5000 });
      await connection.workflowService.getSystemInfo({});
      return connection;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      process.stdout.write(`waiting for Temporal at ${address}…\n`);
      await new Promise((resolveLater) => setTimeout(resolveLater, 2000));
    }
  }
}

if (require.main === module) {
  const address = process.env.TEMPORAL_ADDRESS;
  const namespace = process.env.TEMPORAL_NAMESPACE || 'default';
  const retention = Number(process.env.TEMPORAL_RETENTION_DAYS || DEFAULT_RETENTION_DAYS);
  if (!address || !Number.isInteger(retention) || retention < 1) {
    process.stderr.write(
      'leadrelay: TEMPORAL_ADDRESS must be set (host:port), TEMPORAL_RETENTION_DAYS a whole number of days\n',
    );
    process.exit(2);
  }
  connectWhenReady(address, 5 * 60_000)
    .then(async (connection) => {
      try {
        const report = await ensureTemporalSetup(connection, namespace, retention);
        process.stdout.write(
          `temporal setup: namespace ${namespace}${report.namespaceCreated ? ' created' : ' present'}; search attributes added: ${report.added.join(', ') || 'none'}; present: ${report.present.join(', ') || 'none'}\n`,
        );
      } finally {
        await connection.close();
      }
    })
    .catch((error: unknown) => {
      process.stderr.write(
        `leadrelay: temporal setup failed: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(1);
    });
}
