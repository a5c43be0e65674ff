// Applies the SQL migrations in infra/db/migrations (node-pg-migrate), serialized by its advisory lock.
import { join } from 'node:path';
import { runner } from 'node-pg-migrate';

export const MIGRATIONS_DIR = join(__dirname, 'migrations');

export async function migrate(
  databaseUrl: string,
  log: (line: string) => void = () => undefined,
): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    count: Infinity,
    checkOrder: true,
    log,
    verbose: false,
  });
  return applied.map((migration) => migration.name);
}

if (require.main === module) {
  const url = process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('leadrelay: DATABASE_URL must be set to run migrations\n');
    process.exit(2);
  }
  migrate(url, (line) => process.stdout.write(`${line}\n`)).then(
    (names) =>
      process.stdout.write(`migrations applied: ${names.length ? names.join(', ') : 'none (up to date)'}\n`),
    (error: unknown) => {
      process.stderr.write(
        `leadrelay: migration failed: ${error instanceof Error ? error.message : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
