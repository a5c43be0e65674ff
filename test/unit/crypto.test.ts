import { randomBytes } from 'node:crypto';
import { KeyRing } from '../../shared/crypto';

const key = (id: string) => `${id}:${randomBytes(32).toString('base64')}`;

describe('KeyRing (AES-256-GCM, LEADRELAY_ENCRYPTION_KEYS)', () => {
  test('opens what it sealed, and never shows the plaintext in the sealed form', () => {
    const ring = KeyRing.parse(key('k1'));
    const sealed = ring.seal('whsec_super-secret', 'integration:1:webhook_secret');
    expect(sealed).toMatch(/^v1\.k1\./);
    expect(sealed).not.toContain('super-secret');
    expect(ring.open(sealed, 'integration:1:webhook_secret')).toBe('whsec_super-secret');
  });

  test('sealing twice gives different ciphertexts (fresh IV each time)', () => {
    const ring = KeyRing.parse(key('k1'));
    expect(ring.seal('same')).not.toBe(ring.seal('same'));
  });

  test('the first key seals, every key opens: a rotated ring still opens old values', () => {
    const old = key('old');
    const fresh = key('new');
    const sealedByOld = KeyRing.parse(old).seal('credential');
    const rotated = KeyRing.parse(`${fresh},${old}`);
    expect(rotated.open(sealedByOld)).toBe('credential');
    expect(rotated.isStale(sealedByOld)).toBe(true);
    const resealed = rotated.seal('credential');
    expect(resealed).toMatch(/^v1\.new\./);
    expect(rotated.isStale(resealed)).toBe(false);
  });

  test('refuses a tampered ciphertext, a value sealed for another context, or by an unknown key', () => {
    const ring = KeyRing.parse(key('k1'));
    const sealed = ring.seal('secret', 'integration:a:credentials');
    const parts = sealed.split('.');
    const flipped = Buffer.from(parts[4]!, 'base64url');
    flipped[0] = flipped[0]! ^ 1;
    parts[4] = flipped.toString('base64url');
    expect(() => ring.open(parts.join('.'), 'integration:a:credentials')).toThrow();
    expect(() => ring.open(sealed, 'integration:b:credentials')).toThrow();
    expect(() => KeyRing.parse(key('k2')).open(sealed, 'integration:a:credentials')).toThrow(/k1/);
    expect(() => ring.open('not sealed')).toThrow(/not a value sealed/);
  });

  test('refuses key specs that are not 32-byte base64 keys with unique ids', () => {
    expect(() => KeyRing.parse('k1:c2hvcnQ=')).toThrow(/32 bytes/);
    expect(() => KeyRing.parse(`${key('a')},${key('a')}`)).toThrow(/twice/);
    expect(() => KeyRing.parse('')).toThrow(/no encryption keys/);
    expect(() => KeyRing.parse(`bad.id:${randomBytes(32).toString('base64')}`)).toThrow(/ids/);
  });
});
