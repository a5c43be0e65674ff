// Recorded partner payloads under test/fixtures/<partner>/, read as text or JSON. No stack needed: the partner
// adapter tests use these without Temporal or Postgres.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export function fixtureText(partner: string, name: string): string {
  return readFileSync(join(__dirname, '..', 'fixtures', partner, name), 'utf8');
}

/** A JSON fixture with top-level (or nested, by dotted path) fields replaced. */
export function fixture<T = any>(partner: string, name: string, overrides: Record<string, unknown> = {}): T {
  const value = JSON.parse(fixtureText(partner, name)) as Record<string, unknown>;
  for (const [path, replacement] of Object.entries(overrides)) {
    const parts = path.split('.');
    let target: any = value;
    for (const part of parts.slice(0, -1)) target = target[part];
    if (replacement === undefined) delete target[parts[parts.length - 1]!];
    else target[parts[parts.length - 1]!] = replacement;
  }
  return value as T;
}
