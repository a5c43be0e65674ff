import { randomBytes } from 'node:crypto';
import { DestinationMismatch, KeyRing } from '../../shared/crypto';
import { credentialDestination } from '../../shared/destination';

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

  test('a value sealed for a destination opens only for it; editing the stored destination breaks the seal', () => {
    const ring = KeyRing.parse(key('k1'));
    const context = 'integration:a:credentials';
    const here = credentialDestination({ base_url: 'https://acme.my.salesforce.com/services', name: 'x' });
    expect(here).toBe('base_url=https://acme.my.salesforce.com');
    const sealed = ring.seal('secret', context, here);
    expect(sealed).toMatch(/^v2\.k1\./);
    expect(ring.boundTo(sealed)).toBe(here);
    expect(ring.open(sealed, context, here)).toBe('secret');
    const there = credentialDestination({ base_url: 'https://attacker.example/services' });
    expect(() => ring.open(sealed, context, there)).toThrow(DestinationMismatch);
    expect(() => ring.open(sealed, context)).toThrow(DestinationMismatch);
    // The destination part rewritten to match the moved URL: the authentication tag no longer fits.
    const parts = sealed.split('.');
    parts[2] = Buffer.from(there).toString('base64url');
    expect(() => ring.open(parts.join('.'), context, there)).toThrow(/unable to authenticate/i);
    // Sealed before destinations were bound: opens whatever the destination, and is stale for a bound column.
    const legacy = ring.seal('secret', context);
    expect(ring.open(legacy, context, there)).toBe('secret');
    expect(ring.isStale(legacy)).toBe(false);
    expect(ring.isStale(legacy, true)).toBe(true);
    expect(ring.isStale(sealed, true)).toBe(false);
    // No URL in the config: the partner's fixed default address, bound as the empty destination.
    const byDefault = ring.seal('secret', context, credentialDestination({ stage_property: 'x' }));
    expect(ring.boundTo(byDefault)).toBe('');
    expect(() => ring.open(byDefault, context, there)).toThrow(DestinationMismatch);
  });

  test('refuses key specs that are not 32-byte base64 keys with unique ids', () => {
    expect(() => KeyRing.parse('k1:c2hvcnQ=')).toThrow(/32 bytes/);
    expect(() => KeyRing.parse(`${key('a')},${key('a')}`)).toThrow(/twice/);
    expect(() => KeyRing.parse('')).toThrow(/no encryption keys/);
    expect(() => KeyRing.parse(`bad.id:${randomBytes(32).toString('base64')}`)).toThrow(/ids/);
  });
});
