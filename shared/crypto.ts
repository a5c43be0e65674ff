// Secrets at rest: AES-256-GCM with a key ring from LEADRELAY_ENCRYPTION_KEYS (`id:base64`, comma-separated;
// the first key seals, every key opens). Uses node:crypto, so workflow code must never import this file.
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { AppError } from './errors';

const VERSION = 'v1';
const IV_BYTES = 12;

/**
 * A sealed value is `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts): the key id travels with the
 * ciphertext so an old key keeps opening what it sealed after a new key is put first. The optional
 * context (e.g. `integration:<id>:credentials`) is authenticated, not stored: a ciphertext copied to
 * another row does not open there.
 */
export class KeyRing {
  private constructor(
    private readonly keys: Map<string, Buffer>,
    readonly primaryKeyId: string,
  ) {}

  /** Parses `id:base64[,id:base64…]`; every key must be 32 bytes and ids unique. */
  static parse(spec: string): KeyRing {
    const keys = new Map<string, Buffer>();
    let primary: string | undefined;
    for (const part of spec
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const separator = part.indexOf(':');
      const id = separator > 0 ? part.slice(0, separator) : '';
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(id))
        throw new Error('encryption key ids are 1-32 of A-Z a-z 0-9 _ -');
      const key = Buffer.from(part.slice(separator + 1), 'base64');
      if (key.length !== 32) throw new Error(`encryption key ${id} is not 32 bytes of base64`);
      if (keys.has(id)) throw new Error(`encryption key id ${id} appears twice`);
      keys.set(id, key);
      primary ??= id;
    }
    if (!primary) throw new Error('no encryption keys given');
    return new KeyRing(keys, primary);
  }

  /** A fresh random key ring, e.g. for tests: `k1:<base64>`. */
  static generateSpec(id = 'k1'): string {
    return `${id}:${randomBytes(32).toString('base64')}`;
  }

  seal(plaintext: string, context = ''): string {
    const key = this.keys.get(this.primaryKeyId)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [VERSION, this.primaryKeyId, b64(iv), b64(cipher.getAuthTag()), b64(ciphertext)].join('.');
  }

  /**
   * A signature of `data` for one purpose (e.g. unsubscribe links): `<keyId>.<mac>`, made with a key derived
   * from the primary key and the purpose. `verify` accepts a signature from any key of the ring.
   */
  sign(purpose: string, data: string, keyId = this.primaryKeyId): string {
    const key = createHash('sha256').update(this.keys.get(keyId)!).update(`\0${purpose}`).digest();
    return `${keyId}.${createHmac('sha256', key).update(data).digest('base64url')}`;
  }

  verify(purpose: string, data: string, signature: string): boolean {
    const keyId = signature.split('.')[0] ?? '';
    if (!this.keys.has(keyId)) return false;
    const expected = Buffer.from(this.sign(purpose, data, keyId));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  /** Opens a sealed value; throws when it was altered, sealed for another context, or by an unknown key. */
  open(sealed: string, context = ''): string {
    const [version, keyId, iv, tag, ciphertext, extra] = sealed.split('.');
    if (version !== VERSION || !keyId || iv === undefined || !tag || ciphertext === undefined || extra) {
      throw new Error('not a value sealed by this key ring');
    }
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`sealed with key ${keyId}, which LEADRELAY_ENCRYPTION_KEYS does not hold`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(context));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  }

  /** Whether a sealed value should be sealed again with the current primary key (rotation). */
  isStale(sealed: string): boolean {
    return sealed.split('.')[1] !== this.primaryKeyId;
  }
}

function b64(bytes: Buffer): string {
  return bytes.toString('base64url');
}

/** The server's key ring, or 503: without LEADRELAY_ENCRYPTION_KEYS nothing is sealed or opened. */
export function requireKeyRing(keyRing: KeyRing | undefined): KeyRing {
  if (!keyRing)
    throw new AppError('unavailable', 'LEADRELAY_ENCRYPTION_KEYS is not configured on this server');
  return keyRing;
}
