// The Temporal payload codec: every workflow and activity payload encrypted with AES-256-GCM by the key ring
// of LEADRELAY_ENCRYPTION_KEYS, and the proto-JSON form the codec endpoint (Temporal UI and CLI) speaks.
// Runs in clients and workers, never inside the workflow sandbox (it uses node:crypto through KeyRing).
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { KeyRing } from './crypto';
import { FAILURE_CONVERTER_PATH } from './failureConverter';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata naming the key that encrypted a payload: operators see it, and decoding reports it. */
export const KEY_ID_METADATA = 'encryption-key-id';
/**
 * Authenticated with every payload: a sealed integration credential copied into a payload (or the reverse)
 * does not open.
 */
const CONTEXT = 'temporal-payload';
const IV_BYTES = 12;
const TAG_BYTES = 16;

const PayloadProto = temporal.api.common.v1.Payload;
const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');

/** A payload could not be decrypted: unknown key, another key under the same id, or altered bytes. */
export class PayloadDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

export function isEncrypted(payload: Payload): boolean {
  return text(payload.metadata?.encoding) === ENCRYPTED_ENCODING;
}

/**
 * Encrypts with the ring's first key and decrypts with whichever key the payload names (rotation: put the new
 * key first, keep the old ones until every run that holds their payloads is closed).
 *
 * The plaintext is the whole Payload as protobuf (its own metadata included, e.g. `encoding: json/plain`), so
 * decoding restores it exactly. KeyRing seals strings, so the bytes travel as a Latin-1 string (one character
 * per byte, lossless); its `v1.<keyId>.<iv>.<tag>.<ciphertext>` form is stored as raw `iv | tag | ciphertext`
 * with the key id in metadata, which keeps an encrypted payload about as small as the plain one.
 *
 * Decoding passes through payloads without the `binary/encrypted` encoding: histories recorded before
 * encryption (test/histories) and runs started by an older, unencrypted deployment still replay and run.
 */
export class EncryptionCodec implements PayloadCodec {
  constructor(private readonly keyRing: KeyRing) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => (isEncrypted(payload) ? this.decrypt(payload) : payload));
  }

  encrypt(payload: Payload): Payload {
    // Already encrypted (e.g. sent back through the codec endpoint's /encode): encrypting twice helps nobody.
    if (isEncrypted(payload)) return payload;
    const plaintext = Buffer.from(PayloadProto.encode(payload).finish()).toString('latin1');
    const [version, keyId, iv, tag, ciphertext] = this.keyRing.seal(plaintext, CONTEXT).split('.');
    if (version !== 'v1' || !keyId || !iv || !tag || ciphertext === undefined) {
      throw new Error('KeyRing sealed a value in a form this codec does not know');
    }
    return {
      metadata: { encoding: utf8(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: utf8(keyId) },
      data: Buffer.concat([
        Buffer.from(iv, 'base64url'),
        Buffer.from(tag, 'base64url'),
        Buffer.from(ciphertext, 'base64url'),
      ]),
    };
  }

  decrypt(payload: Payload): Payload {
    const keyId = text(payload.metadata?.[KEY_ID_METADATA]);
    const data = Buffer.from(payload.data ?? []);
    if (!keyId || data.length < IV_BYTES + TAG_BYTES) {
      throw new PayloadDecryptionError(
        `encrypted payload is malformed: it needs ${KEY_ID_METADATA} metadata and at least ${IV_BYTES + TAG_BYTES} bytes`,
      );
    }
    const sealed = [
      'v1',
      keyId,
      data.subarray(0, IV_BYTES).toString('base64url'),
      data.subarray(IV_BYTES, IV_BYTES + TAG_BYTES).toString('base64url'),
      data.subarray(IV_BYTES + TAG_BYTES).toString('base64url'),
    ].join('.');
    let plaintext: string;
    try {
      plaintext = this.keyRing.open(sealed, CONTEXT);
    } catch (error) {
      // KeyRing names an unknown key id in its message; anything else is a failed authentication.
      throw new PayloadDecryptionError(
        /does not hold/.test(String((error as Error).message))
          ? `payload was encrypted with key ${keyId}, which LEADRELAY_ENCRYPTION_KEYS does not hold`
          : `payload encrypted with key ${keyId} does not open: the key ${keyId} in LEADRELAY_ENCRYPTION_KEYS is not the one that encrypted it, or the payload was altered`,
      );
    }
    const decoded = PayloadProto.decode(Buffer.from(plaintext, 'latin1'));
    return { metadata: decoded.metadata, data: decoded.data };
  }
}

/**
 * The data converter of every client and worker: default JSON conversion, then encryption; failures' messages and
 * stack traces are payloads too (shared/failureConverter.ts), so they are encrypted as well.
 */
export function encryptedDataConverter(keyRing: KeyRing): DataConverter {
  return { payloadCodecs: [new EncryptionCodec(keyRing)], failureConverterPath: FAILURE_CONVERTER_PATH };
}

// ---- the codec endpoint's wire form: Payloads as proto3 JSON (bytes fields base64) ----

export interface JsonPayload {
  metadata?: Record<string, string>;
  data?: string;
}

export function payloadFromJson(json: JsonPayload): Payload {
  const metadata: Record<string, Uint8Array> = {};
  for (const [key, value] of Object.entries(json.metadata ?? {}))
    metadata[key] = Buffer.from(value, 'base64');
  return { metadata, data: Buffer.from(json.data ?? '', 'base64') };
}

export function payloadToJson(payload: Payload): JsonPayload {
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(payload.metadata ?? {})) {
    metadata[key] = Buffer.from(value ?? []).toString('base64');
  }
  return { metadata, data: Buffer.from(payload.data ?? []).toString('base64') };
}
