// The one HTTP path of outbound partner calls: timeout, and every answer sorted into success, retryable
// (429, 5xx, network errors, timeouts; Retry-After kept) or final (other 4xx) with the partner's own message.
import type { PartnerName } from '../../shared/lifecycle';
import { PARTNER_ANSWER_LIMIT, answerTooLargeOf, capAnswer, egressRefusalOf, guardedFetch } from '../egress';
import type { PartnerConnection } from './types';

export type PartnerErrorKind = 'retryable' | 'final';

export class PartnerError extends Error {
  override readonly name = 'PartnerError';
  constructor(
    readonly partner: PartnerName,
    readonly kind: PartnerErrorKind,
    message: string,
    readonly details: {
      /** The partner's HTTP status, when it answered. */
      status?: number;
      /**
       * The partner's own error code (`INVALID_SESSION_ID`, `CONFLICT`, 21610…), or ours before any call:
       * `credentials_missing` (the integration holds no API credentials: inbound only, pushes are skipped),
       * `credentials_unbound` (the stored credentials were given for another destination: re-enter them).
       */
      partnerCode?: string;
      /** How long the partner asked us to wait (Retry-After, rate-limit headers). */
      retryAfterMs?: number;
    } = {},
  ) {
    super(message);
  }

  get status(): number | undefined {
    return this.details.status;
  }
}

export interface PartnerResponse {
  status: number;
  headers: Headers;
  text: string;
}

export interface PartnerRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** A string is sent as is (set content-type); an object is sent as JSON. */
  body?: string | object;
  /** The partner's error message and code out of an error answer (default: the first 200 characters). */
  describeError?: (response: PartnerResponse) => { message: string; code?: string };
  /** Statuses that are answers, not errors (e.g. 404 for a lookup, 409 for "already exists"). */
  accept?: number[];
}

const DEFAULT_TIMEOUT_MS = 10_000;

/** Retry-After in ms: delta seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Joins a base URL from config and a path, whatever slashes either has. */
export function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

/** The integration's `config.base_url`, or the partner's public default. */
export function baseUrl(connection: PartnerConnection, fallback: string): string {
  const configured = connection.config.base_url;
  return typeof configured === 'string' && configured.length > 0 ? configured : fallback;
}

export async function partnerRequest(
  partner: PartnerName,
  connection: PartnerConnection,
  request: PartnerRequest,
): Promise<PartnerResponse> {
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  let body: string | undefined;
  if (typeof request.body === 'string') body = request.body;
  else if (request.body !== undefined) {
    body = JSON.stringify(request.body);
    headers['content-type'] ??= 'application/json';
  }
  const timeoutMs = connection.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let response: Response;
  try {
    response = await (connection.fetch ?? guardedFetch)(request.url, {
      method: request.method,
      headers,
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const refused = egressRefusalOf(error);
    if (refused) {
      // Where the integration points is not allowed: no retry can change that, only its configuration.
      throw new PartnerError(partner, 'final', `${partner}: ${refused.message}`, {
        partnerCode: 'egress_refused',
      });
    }
    // By name, not instanceof: fetch rejects with a DOMException from Node's own realm (not an Error under jest).
    const name = (error as { name?: unknown } | null)?.name;
    const timedOut = name === 'TimeoutError' || name === 'AbortError';
    throw new PartnerError(
      partner,
      'retryable',
      timedOut
        ? `${partner} did not answer ${request.method} ${pathOf(request.url)} within ${timeoutMs} ms`
        : `${partner} is unreachable (${request.method} ${pathOf(request.url)}): ${causeOf(error)}`,
    );
  }
  let text: string;
  try {
    text = await capAnswer(response, PARTNER_ANSWER_LIMIT).text();
  } catch (error) {
    const cut = answerTooLargeOf(error);
    if (cut) {
      // No partner answer we read is that long: a misbehaving or hostile server, not a passing fault.
      throw new PartnerError(
        partner,
        'final',
        `${partner} answer to ${request.method} ${pathOf(request.url)}: ${cut.message}`,
        {
          status: response.status,
          partnerCode: cut.code,
        },
      );
    }
    throw new PartnerError(partner, 'retryable', `${partner} answer was cut off: ${causeOf(error)}`, {
      status: response.status,
    });
  }
  const answer: PartnerResponse = { status: response.status, headers: response.headers, text };
  if (response.ok || request.accept?.includes(response.status)) return answer;
  const described = request.describeError?.(answer) ?? { message: text.slice(0, 200) };
  const retryable = response.status === 429 || response.status >= 500 || response.status === 408;
  throw new PartnerError(
    partner,
    retryable ? 'retryable' : 'final',
    `${partner} answered ${response.status} to ${request.method} ${pathOf(request.url)}: ${described.message}`,
    {
      status: response.status,
      partnerCode: described.code,
      retryAfterMs: retryAfterMs(response.headers.get('retry-after')),
    },
  );
}

/** JSON of an answer, or a retryable error when the partner sent something else (a proxy's HTML page). */
export function jsonOf<T>(partner: PartnerName, response: PartnerResponse): T {
  try {
    return JSON.parse(response.text) as T;
  } catch {
    throw new PartnerError(partner, 'retryable', `${partner} answered ${response.status} without JSON`, {
      status: response.status,
    });
  }
}

/** The URL without its query string: queries may carry keys, and logs must not. */
function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '(invalid url)';
  }
}

function causeOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? error.message;
  }
  return String(error);
}
