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
/** A value bound to a destination: the destination travels in the envelope and is authenticated with it. */
const BOUND_VERSION = 'v2';
const IV_BYTES = 12;

/** A value bound to one destination opened for another: staff re-enter what was sealed. */
export class DestinationMismatch extends Error {
  override readonly name = 'DestinationMismatch';
  constructor(
    readonly sealedFor: string,
    readonly openedFor: string,
    message = `sealed for "${sealedFor}", opened for "${openedFor}"`,
  ) {
    super(message);
  }
}

/**
 * A sealed value is `v1.<keyId>.<iv>.<tag>.<ciphertext>` (base64url parts): the key id travels with the
 * ciphertext so an old key keeps opening what it sealed after a new key is put first. The optional
 * context (e.g. `integration:<id>:credentials`) is authenticated, not stored: a ciphertext copied to
 * another row does not open there. A value sealed for a destination (where credentials may be sent) is
 * `v2.<keyId>.<destination>.<iv>.<tag>.<ciphertext>`: the destination is stored, so a mismatch can name it, and
 * authenticated with the context, so editing it breaks the seal. `v1` values stay readable (sealed before
 * destinations were bound); rotation seals them again as `v2`.
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

  /** Seals `plaintext` for `context`; with a `destination`, only `open` with that same destination opens it. */
  seal(plaintext: string, context = '', destination?: string): string {
    const key = this.keys.get(this.primaryKeyId)!;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(Buffer.from(additionalData(context, destination)));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const sealed = [b64(iv), b64(cipher.getAuthTag()), b64(ciphertext)];
    return destination === undefined
      ? [VERSION, this.primaryKeyId, ...sealed].join('.')
      : [BOUND_VERSION, this.primaryKeyId, b64(Buffer.from(destination)), ...sealed].join('.');
  }

  /** The destination a value was sealed for; undefined for a value sealed without one (`v1`). */
  boundTo(sealed: string): string | undefined {
    const [version, , destination] = sealed.split('.');
    return version === BOUND_VERSION && destination !== undefined
      ? Buffer.from(destination, 'base64url').toString('utf8')
      : undefined;
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

  /**
   * Opens a sealed value; throws when it was altered, sealed for another context, or by an unknown key. A value
   * bound to a destination opens only for that `destination` (DestinationMismatch otherwise); one sealed
   * without (`v1`, older) opens whatever the destination.
   */
  open(sealed: string, context = '', destination?: string): string {
    const parts = sealed.split('.');
    const bound = parts[0] === BOUND_VERSION ? this.boundTo(sealed) : undefined;
    const [version, keyId, iv, tag, ciphertext, extra] =
      bound === undefined ? parts : [parts[0], parts[1], ...parts.slice(3)];
    if (
      (version !== VERSION && bound === undefined) ||
      !keyId ||
      iv === undefined ||
      !tag ||
      ciphertext === undefined ||
      extra
    ) {
      throw new Error('not a value sealed by this key ring');
    }
    if (bound !== undefined && bound !== destination) {
      throw new DestinationMismatch(bound, destination ?? '(none)');
    }
    const key = this.keys.get(keyId);
    if (!key) throw new Error(`sealed with key ${keyId}, which LEADRELAY_ENCRYPTION_KEYS does not hold`);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(additionalData(context, bound)));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString(
      'utf8',
    );
  }

  /**
   * Whether a sealed value should be sealed again (rotation): with the current primary key, and, for a value
   * that belongs to a destination (`bound`), as one bound to it.
   */
  isStale(sealed: string, bound = false): boolean {
    return sealed.split('.')[1] !== this.primaryKeyId || (bound && this.boundTo(sealed) === undefined);
  }
}

/** The authenticated data: the context, and the destination after a NUL (no context contains one). */
function additionalData(context: string, destination: string | undefined): string {
  return destination === undefined ? context : `${context}\0${destination}`;
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
