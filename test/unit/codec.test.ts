// The Temporal payload codec (shared/codec.ts): AES-256-GCM with the LEADRELAY_ENCRYPTION_KEYS ring.
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import {
  ENCRYPTED_ENCODING,
  EncryptionCodec,
  isEncrypted,
  KEY_ID_METADATA,
  PayloadDecryptionError,
  payloadFromJson,
  payloadToJson,
} from '../../shared/codec';
import { KeyRing } from '../../shared/crypto';

const k1 = KeyRing.generateSpec('k1');
const k2 = KeyRing.generateSpec('k2');
const codec = (spec: string) => new EncryptionCodec(KeyRing.parse(spec));
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('utf8');

const personal = {
  first_name: 'José',
  last_name: 'Nuñez 🏡',
  email: 'jose.nunez@example.com',
  phone: '+13035550170',
};
const plain = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);

async function failureOf(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PayloadDecryptionError);
  return error as Error;
}

test('round trip: every payload leaves encrypted and comes back byte for byte, metadata included', async () => {
  const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
  const payloads: Payload[] = [
    plain(personal),
    plain('Spoke with José at jose.nunez@example.com'),
    plain(undefined),
    plain(allBytes),
    { metadata: { encoding: Buffer.from('json/plain'), custom: Buffer.from([0, 255, 128]) }, data: allBytes },
  ];
  const c = codec(k1);
  const encoded = await c.encode(payloads);
  expect(encoded).toHaveLength(payloads.length);
  for (const payload of encoded) {
    expect(text(payload.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
    expect(text(payload.metadata?.[KEY_ID_METADATA])).toBe('k1');
    expect(Object.keys(payload.metadata ?? {}).sort()).toEqual(['encoding', KEY_ID_METADATA].sort());
    const raw = Buffer.from(payload.data!).toString('latin1');
    expect(raw).not.toContain('jose.nunez');
    expect(raw).not.toContain('json/plain');
  }
  const decoded = await c.decode(encoded);
  const normalize = (p: Payload) => ({
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, [...(v ?? [])]])),
    data: [...(p.data ?? [])],
  });
  expect(decoded.map(normalize)).toEqual(payloads.map(normalize));
  expect(defaultPayloadConverter.fromPayload(decoded[0]!)).toEqual(personal);
});

test('an encrypted payload is about as small as the plain one (no base64 inside)', async () => {
  const payload = plain({ note: 'x'.repeat(10_000) });
  const [encrypted] = await codec(k1).encode([payload]);
  // IV, tag and a few bytes of protobuf framing around the original metadata and data.
  expect(encrypted!.data!.length).toBeLessThan(payload.data!.length + 100);
});

test('a fresh IV each time: the same value never encrypts to the same bytes', async () => {
  const c = codec(k1);
  const [a] = await c.encode([plain(personal)]);
  const [b] = await c.encode([plain(personal)]);
  expect(Buffer.from(a!.data!).equals(Buffer.from(b!.data!))).toBe(false);
});

test('key rotation: the first key encrypts, every key of the ring decrypts', async () => {
  const [old] = await codec(k1).encode([plain(personal)]);
  const rotated = codec(`${k2},${k1}`);
  const [fresh] = await rotated.encode([plain(personal)]);
  expect(text(fresh!.metadata?.[KEY_ID_METADATA])).toBe('k2');
  const decoded = await rotated.decode([old!, fresh!]);
  expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([personal, personal]);
  // Once k1 is dropped from the ring, what it encrypted no longer opens, and the error says why.
  const error = await failureOf(codec(k2).decode([old!]));
  expect(error.message).toBe(
    'payload was encrypted with key k1, which LEADRELAY_ENCRYPTION_KEYS does not hold',
  );
});

test('a different key under the same id fails clearly, naming the key id', async () => {
  const [encrypted] = await codec(k1).encode([plain(personal)]);
  const error = await failureOf(codec(KeyRing.generateSpec('k1')).decode([encrypted!]));
  expect(error.message).toMatch(/^payload encrypted with key k1 does not open: the key k1 .* is not the one/);
  expect(error.message).not.toContain('jose');
});

test('altered ciphertext, a swapped key id or a truncated payload is refused', async () => {
  const c = codec(`${k1},${k2}`);
  const [encrypted] = await c.encode([plain(personal)]);
  const flipped = Buffer.from(encrypted!.data!);
  flipped[flipped.length - 1]! ^= 1;
  await failureOf(c.decode([{ ...encrypted!, data: flipped }]));
  const otherId = { ...encrypted!.metadata, [KEY_ID_METADATA]: Buffer.from('k2') };
  await failureOf(c.decode([{ metadata: otherId, data: encrypted!.data }]));
  const short = await failureOf(c.decode([{ metadata: encrypted!.metadata, data: Buffer.alloc(10) }]));
  expect(short.message).toMatch(/malformed/);
  const noKeyId = await failureOf(
    c.decode([{ metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING) }, data: encrypted!.data }]),
  );
  expect(noKeyId.message).toMatch(/malformed/);
});

test('a credential sealed by the same ring is not accepted as a payload (the context is authenticated)', async () => {
  const ring = KeyRing.parse(k1);
  const [, keyId, iv, tag, ciphertext] = ring.seal('{"secret":"x"}', 'integration:1:credentials').split('.');
  const forged: Payload = {
    metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from(keyId!) },
    data: Buffer.concat([iv!, tag!, ciphertext!].map((part) => Buffer.from(part, 'base64url'))),
  };
  await failureOf(new EncryptionCodec(ring).decode([forged]));
});

test('decoding passes unencrypted payloads through untouched (histories recorded before encryption)', async () => {
  const payloads = [plain(personal), plain(null), plain(new Uint8Array([1, 2, 3]))];
  const decoded = await codec(k1).decode(payloads);
  decoded.forEach((payload, i) => expect(payload).toBe(payloads[i]));
  expect(payloads.some(isEncrypted)).toBe(false);
});

test('encoding an already encrypted payload leaves it as it is', async () => {
  const c = codec(k1);
  const [once] = await c.encode([plain(personal)]);
  const [twice] = await c.encode([once!]);
  expect(twice).toBe(once);
});

test('the codec endpoint wire form (proto3 JSON, base64 bytes) round-trips payloads', async () => {
  const [encrypted] = await codec(k1).encode([plain(personal)]);
  const json = payloadToJson(encrypted!);
  expect(json.metadata?.encoding).toBe(Buffer.from(ENCRYPTED_ENCODING).toString('base64'));
  expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  const back = payloadFromJson(json);
  const [decoded] = await codec(k1).decode([back]);
  expect(defaultPayloadConverter.fromPayload(decoded!)).toEqual(personal);
  // URL-safe base64 is valid proto3 JSON too.
  const urlSafe = payloadFromJson({
    metadata: { encoding: Buffer.from('json/plain').toString('base64url') },
    data: Buffer.from('"?>?"').toString('base64url'),
  });
  expect(defaultPayloadConverter.fromPayload(urlSafe)).toBe('?>?');
});
