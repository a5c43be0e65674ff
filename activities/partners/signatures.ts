// Signature checks shared by adapters: Standard Webhooks through its own library, HMAC comparisons in
// constant time, and the freshness window. Every failure is one 401 that says what was wrong, never why
// a secret did not match.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { AppError } from '../../shared/errors';
import type { InboundRequest } from './types';

export function unauthorized(message: string, reason: string): AppError {
  return new AppError('unauthorized', message, { reason });
}

/** Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature), ±5 minutes, via `standardwebhooks`. */
export function verifyStandardWebhook(request: InboundRequest, secret: string | undefined): void {
  if (!secret) throw unauthorized('this integration has no webhook secret', 'no_secret');
  const headers = {
    'webhook-id': request.headers['webhook-id'] ?? '',
    'webhook-timestamp': request.headers['webhook-timestamp'] ?? '',
    'webhook-signature': request.headers['webhook-signature'] ?? '',
  };
  if (!headers['webhook-id'] || !headers['webhook-timestamp'] || !headers['webhook-signature']) {
    throw unauthorized(
      'missing Standard Webhooks headers: webhook-id, webhook-timestamp, webhook-signature',
      'missing_headers',
    );
  }
  let verifier: Webhook;
  try {
    verifier = new Webhook(secret);
  } catch {
    throw unauthorized('this integration has an unusable webhook secret', 'bad_secret');
  }
  try {
    verifier.verify(request.rawBody, headers, { jsonParse: false });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const stale = /too old|too new/i.test(message);
    throw unauthorized(
      stale
        ? 'webhook-timestamp is outside the 5-minute tolerance'
        : 'webhook-signature does not match the body',
      stale ? 'stale_timestamp' : 'bad_signature',
    );
  }
}

/** HMAC of the given bytes, in the encoding the partner uses. */
export function hmac(
  algorithm: 'sha1' | 'sha256',
  key: string,
  data: Buffer | string,
  encoding: 'hex' | 'base64',
): string {
  return createHmac(algorithm, key).update(data).digest(encoding);
}

/** Constant-time string comparison (different lengths are simply unequal). */
export function safeEqual(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Throws a 401 unless `at` (ms) is within `toleranceMs` of now, either way. */
export function requireFresh(request: InboundRequest, at: number, toleranceMs: number, header: string): void {
  if (!Number.isFinite(at)) throw unauthorized(`${header} is not a timestamp`, 'bad_timestamp');
  if (Math.abs(request.now.getTime() - at) > toleranceMs) {
    throw unauthorized(
      `${header} is outside the ${Math.round(toleranceMs / 1000)}-second tolerance`,
      'stale_timestamp',
    );
  }
}

export function requireSecret(value: string | undefined, what: string): string {
  if (!value) throw unauthorized(`this integration has no ${what}`, 'no_secret');
  return value;
}
