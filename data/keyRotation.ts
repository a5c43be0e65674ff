// Key rotation: every sealed column re-sealed with the key ring's first key, so the keys after it can be retired;
// credentials sealed before they were bound to their destination are bound on the way.
// Used by `npm run rotate-keys` and POST /api/v1/admin/rotate-keys. Idempotent: a second pass finds nothing stale.
import type pg from 'pg';
import type { KeyRing } from '../shared/crypto';
import { secretContext } from './webhookEndpoints';
import { credentialDestination } from '../shared/destination';
import { credentialsContext, webhookSecretContext } from './integrations';

interface SealedColumn {
  table: 'integrations' | 'webhook_endpoints';
  column: string;
  /** The context the value was sealed for (shared/crypto.ts binds each ciphertext to its row and field). */
  context: (id: string) => string;
  /**
   * For values bound to where they are sent: the row's destination, from its config. Rotation binds values
   * sealed before destinations were (`v1`), and leaves one given for another destination as a failure.
   */
  destination?: (config: Record<string, unknown>) => string;
}

/** Every column holding a KeyRing-sealed value (grep for `.seal(` when adding one). */
export const SEALED_COLUMNS: readonly SealedColumn[] = [
  {
    table: 'integrations',
    column: 'credentials_encrypted',
    context: credentialsContext,
    destination: credentialDestination,
  },
  { table: 'integrations', column: 'webhook_secret_encrypted', context: webhookSecretContext },
  { table: 'webhook_endpoints', column: 'secret_sealed', context: secretContext },
  { table: 'webhook_endpoints', column: 'previous_secret_sealed', context: secretContext },
];

export interface TableCounts {
  /** Sealed values looked at. */
  checked: number;
  /** Sealed again with the first key (or, in a dry run, that would be). */
  resealed: number;
  /** Already sealed with the first key. */
  current: number;
  /** Not openable with any key of the ring (a key retired too early): left as they are. */
  failed: number;
}

export interface RotationReport {
  primary_key_id: string;
  dry_run: boolean;
  tables: Record<SealedColumn['table'], TableCounts>;
  /** Which values could not be opened, for the operator (ids and fields, never the values). */
  failures: { table: string; column: string; id: string; error: string }[];
}

const BATCH = 500;

export async function resealSecrets(
  pool: pg.Pool,
  keyRing: KeyRing,
  options: { dryRun?: boolean } = {},
): Promise<RotationReport> {
  const blank = (): TableCounts => ({ checked: 0, resealed: 0, current: 0, failed: 0 });
  const report: RotationReport = {
    primary_key_id: keyRing.primaryKeyId,
    dry_run: options.dryRun === true,
    tables: { integrations: blank(), webhook_endpoints: blank() },
    failures: [],
  };
  for (const sealed of SEALED_COLUMNS) {
    const counts = report.tables[sealed.table];
    // Keyset pagination by id: memory stays flat however many rows there are.
    let after = '00000000-0000-0000-0000-000000000000';
    for (;;) {
      const { rows } = await pool.query<{ id: string; value: string; config?: Record<string, unknown> }>(
        `SELECT id, ${sealed.column} AS value${sealed.destination ? ', config' : ''} FROM ${sealed.table}
          WHERE ${sealed.column} IS NOT NULL AND id > $1 ORDER BY id LIMIT $2`,
        [after, BATCH],
      );
      for (const row of rows) {
        counts.checked += 1;
        if (!keyRing.isStale(row.value, sealed.destination !== undefined)) {
          counts.current += 1;
          continue;
        }
        let resealed: string;
        try {
          const context = sealed.context(row.id);
          const destination = sealed.destination?.(row.config ?? {});
          resealed = keyRing.seal(keyRing.open(row.value, context, destination), context, destination);
        } catch (error) {
          counts.failed += 1;
          report.failures.push({
            table: sealed.table,
            column: sealed.column,
            id: row.id,
            error: error instanceof Error ? error.message : String(error),
          });
          continue;
        }
        if (report.dry_run) {
          counts.resealed += 1;
          continue;
        }
        // Only over the value we opened: a secret replaced meanwhile (sealed with the first key) stays.
        const { rowCount } = await pool.query(
          `UPDATE ${sealed.table} SET ${sealed.column} = $3 WHERE id = $1 AND ${sealed.column} = $2`,
          [row.id, row.value, resealed],
        );
        if ((rowCount ?? 0) > 0) counts.resealed += 1;
        else counts.current += 1;
      }
      if (rows.length < BATCH) break;
      after = rows[rows.length - 1]!.id;
    }
  }
  return report;
}
