// `npm run rotate-keys [-- --dry-run] [--json]`: re-seals every stored secret with the first key of
// LEADRELAY_ENCRYPTION_KEYS (straight on Postgres), so the keys after it can be retired. Put the new key first
// on every process, restart them, run this, then drop the old key. Exit 1 when a value could not be opened.
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { resealSecrets, type RotationReport } from '../data/keyRotation';
import { createPool } from '../data/pool';
import { loadConfigOrExit, requireVariables } from '../shared/config';
import { KeyRing } from '../shared/crypto';

export const USAGE = 'usage: npm run rotate-keys [-- --dry-run] [--json]';

/** Runs the pass and prints it; answers the exit code (1 when some value could not be opened). */
export async function runRotateKeys(
  argv: string[],
  deps: { pool: pg.Pool; keyRing: KeyRing },
  out: (line: string) => void,
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } },
  });
  const report = await resealSecrets(deps.pool, deps.keyRing, { dryRun: values['dry-run'] === true });
  if (values.json) out(JSON.stringify(report));
  else for (const line of describe(report)) out(line);
  return report.failures.length > 0 ? 1 : 0;
}

function describe(report: RotationReport): string[] {
  const verb = report.dry_run ? 'would reseal' : 'resealed';
  const lines = [
    `sealing key: ${report.primary_key_id}${report.dry_run ? ' (dry run: nothing written)' : ''}`,
  ];
  for (const [table, counts] of Object.entries(report.tables)) {
    lines.push(
      `${table}: ${counts.checked} checked, ${counts.resealed} ${verb}, ${counts.current} already current, ${counts.failed} failed`,
    );
  }
  for (const failure of report.failures) {
    lines.push(`  cannot open ${failure.table}.${failure.column} of ${failure.id}: ${failure.error}`);
  }
  return lines;
}

if (require.main === module) {
  const config = loadConfigOrExit();
  requireVariables(config, ['DATABASE_URL', 'LEADRELAY_ENCRYPTION_KEYS']);
  const pool = createPool(config.DATABASE_URL!);
  const keyRing = KeyRing.parse(config.LEADRELAY_ENCRYPTION_KEYS!);
  runRotateKeys(process.argv.slice(2), { pool, keyRing }, (line) => process.stdout.write(`${line}\n`))
    .then(
      (code) => {
        process.exitCode = code;
      },
      (error: unknown) => {
        const usage = String((error as { code?: unknown }).code).startsWith('ERR_PARSE_ARGS');
        process.stderr.write(
          `leadrelay rotate-keys: ${error instanceof Error ? error.message : String(error)}\n${usage ? `${USAGE}\n` : ''}`,
        );
        process.exitCode = usage ? 2 : 1;
      },
    )
    .finally(() => pool.end());
}
