// The one HTTP client of requests made on a workspace's behalf (partner APIs and token endpoints, connection
// tests, polls, pushes, outbound webhooks, Slack): undici's fetch over an agent that refuses, at connect time,
// every address shared/egress.ts refuses — so DNS rebinding and names resolving to private ranges are caught on
// the address actually connected to — and redirects are never followed.
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP, type Socket } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { egressRefusal, hostAllowed, processEgressPolicy, type EgressPolicy } from '../shared/egress';

/** A refused destination: final (retrying cannot help), readable by staff. */
export class EgressRefusedError extends Error {
  override readonly name = 'EgressRefusedError';
  readonly code = 'egress_refused';
  constructor(
    readonly host: string,
    readonly reason: string,
  ) {
    super(`requests to ${host} are not allowed (${reason}); LEADRELAY_EGRESS_ALLOW lists the exceptions`);
  }
}

/** The first error of a type in an error's cause chain (fetch wraps what its connector or body threw). */
function causeOfType<T>(error: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  for (let e = error as { cause?: unknown } | undefined, depth = 0; e && depth < 5; depth += 1) {
    if (e instanceof type) return e as T;
    e = e.cause as { cause?: unknown } | undefined;
  }
  return undefined;
}

/** The egress refusal behind an error of fetch, if that is what it is. */
export const egressRefusalOf = (error: unknown) => causeOfType(error, EgressRefusedError);

type Resolver = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for net/tls.connect that resolves every address of the name and refuses the name when any of them
 * is refused (a name with one private address is not a public name).
 */
function guardedLookup(policy: () => EgressPolicy, resolve: Resolver) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    resolve(hostname, { ...options, all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const current = policy();
      if (!hostAllowed(hostname, current)) {
        for (const { address } of addresses) {
          const reason = egressRefusal(address, current);
          if (reason) {
            return callback(
              new EgressRefusedError(hostname, `it resolves to ${address}, a ${reason} address`),
              [],
            );
          }
        }
      }
      if (options.all) return callback(null, addresses);
      const first = addresses[0];
      if (!first)
        return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
      callback(null, first.address, first.family);
    });
  };
}

export interface EgressOptions {
  /** The allow-list (default: this process's LEADRELAY_EGRESS_ALLOW, read at each connection). */
  policy?: () => EgressPolicy;
  /** Name resolution (default: the system resolver); tests pass a table to resolve names without DNS. */
  resolve?: Resolver;
}

/** An undici agent whose every connection goes only where the policy allows. */
export function egressAgent(options: EgressOptions = {}): Agent {
  const policy = options.policy ?? processEgressPolicy;
  const resolve = options.resolve ?? (dnsLookup as unknown as Resolver);
  const connect = buildConnector({ lookup: guardedLookup(policy, resolve) } as never);
  return new Agent({
    connect(opts, callback) {
      const host = opts.hostname.replace(/^\[|\]$/g, '');
      const current = policy();
      // net.connect skips `lookup` for IP literals: judge them here, before any packet is sent.
      const literal = isIP(host) && !hostAllowed(host, current) ? egressRefusal(host, current) : null;
      if (literal) return callback(new EgressRefusedError(host, `a ${literal} address`), null);
      connect(opts, (error, socket) => {
        if (error || !socket) return callback(error, null);
        // The address actually connected to, whatever resolved it.
        const remote = (socket as Socket).remoteAddress;
        const reason = remote && !hostAllowed(host, current) ? egressRefusal(remote, current) : null;
        if (reason) {
          socket.destroy();
          return callback(
            new EgressRefusedError(host, `it connected to ${remote}, a ${reason} address`),
            null,
          );
        }
        callback(null, socket);
      });
    },
  });
}

/** A fetch over a guarded agent that never follows redirects (a 3xx is the answer, never a new destination). */
export function egressFetch(options: EgressOptions = {}): typeof fetch {
  const dispatcher = egressAgent(options);
  return ((input: Parameters<typeof fetch>[0], init?: Parameters<typeof fetch>[1]) =>
    undiciFetch(input as never, { ...(init as object), redirect: 'manual', dispatcher } as never)) as never;
}

/** The guarded fetch of this process: the default HTTP client of every outbound call made for a workspace. */
export const guardedFetch: typeof fetch = egressFetch();

/** Partner APIs answer at most this much; webhook receivers and Slack much less (their answers are logged only). */
export const PARTNER_ANSWER_LIMIT = 1024 * 1024;
export const RECEIVER_ANSWER_LIMIT = 64 * 1024;

/** An answer longer than its cap: the stream was cut, nothing past the cap was read. */
export class AnswerTooLargeError extends Error {
  override readonly name = 'AnswerTooLargeError';
  readonly code = 'answer_too_large';
  constructor(readonly limit: number) {
    super(`the answer was longer than ${limit} bytes and was cut`);
  }
}

/** Statuses whose Response cannot carry a body. */
const NO_BODY = new Set([101, 204, 205, 304]);

/**
 * The response with its body read at most `limit` bytes: past it, the connection is cancelled and reading fails
 * with AnswerTooLargeError, so an endless or huge answer costs one chunk beyond the cap, not the process's memory.
 */
export function capAnswer(response: Response, limit: number): Response {
  if (!response.body || NO_BODY.has(response.status)) return response;
  const reader = response.body.getReader();
  let seen = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) return controller.close();
      seen += value.byteLength;
      if (seen > limit) {
        await reader.cancel().catch(() => undefined);
        controller.error(new AnswerTooLargeError(limit));
        return;
      }
      controller.enqueue(value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/** The cap an answer was cut at, if reading stopped there. */
export const answerTooLargeOf = (error: unknown) => causeOfType(error, AnswerTooLargeError);
