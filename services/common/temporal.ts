// The Temporal client every service uses.
import { Client, Connection } from '@temporalio/client';
import { encryptedDataConverter } from '../../shared/codec';
import type { KeyRing } from '../../shared/crypto';

/**
 * A client whose payloads are encrypted with the key ring (LEADRELAY_ENCRYPTION_KEYS) and decrypted with any of
 * its keys. Without a ring payloads go in plain JSON, which the workers still read: only for tools that have no
 * keys; every service passes one.
 */
export async function connectClient(address: string, namespace: string, keyRing?: KeyRing): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({
    connection,
    namespace,
    ...(keyRing ? { dataConverter: encryptedDataConverter(keyRing) } : {}),
  });
}
