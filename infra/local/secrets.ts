// The local stack's generated secrets (admin token, encryption keys), kept under the data dir so a second
// start, the inbox CLI and the key rotation script use the same ones.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface LocalSecrets {
  adminToken: string;
  encryptionKeys: string;
}

export function localSecretsFile(dataDir: string): string {
  return join(dataDir, 'secrets.json');
}

/** The stored secrets, or undefined when `npm start` never ran with this data dir. */
export function readLocalSecrets(dataDir: string): LocalSecrets | undefined {
  const file = localSecretsFile(dataDir);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LocalSecrets) : undefined;
}

/** The stored secrets, generated and written (mode 600) on first use. */
export function ensureLocalSecrets(dataDir: string): LocalSecrets {
  const stored = readLocalSecrets(dataDir);
  if (stored) return stored;
  const fresh: LocalSecrets = {
    adminToken: randomBytes(24).toString('base64url'),
    encryptionKeys: `k1:${randomBytes(32).toString('base64')}`,
  };
  writeFileSync(localSecretsFile(dataDir), JSON.stringify(fresh, null, 2), { mode: 0o600 });
  return fresh;
}
