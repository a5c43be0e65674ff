// A local stand-in for the GA4 Measurement Protocol: POST /mp/collect?measurement_id&api_secret answers 204 to
// anything (as GA does, even when it drops an event: an unknown secret, a missing client_id, an invalid or reserved
// name, too many events or parameters); POST /debug/mp/collect is the validation server, answering
// `{ validationMessages: [{ fieldPath, description, validationCode }] }` and not checking the api_secret. Faults,
// `down` and `ignoreWrites` from partner.ts.
import { randomBytes } from 'node:crypto';
import { send, startPartnerSandbox, type PartnerSandbox, type SandboxHandlerContext } from './partner';

export interface Ga4Event {
  measurementId: string;
  clientId: string;
  timestampMicros?: number;
  name: string;
  params: Record<string, unknown>;
}

export interface ValidationMessage {
  fieldPath: string;
  description: string;
  validationCode: string;
}

export interface Ga4Sandbox extends PartnerSandbox {
  measurementId: string;
  apiSecret: string;
  /** Events GA would count. */
  events: Ga4Event[];
  /** Requests answered 2xx whose events GA would silently drop, with why. */
  dropped: { reason: string; body: string }[];
}

const RESERVED_EVENTS = new Set([
  'session_start',
  'first_visit',
  'first_open',
  'user_engagement',
  'app_remove',
  'error',
]);
const RESERVED_PREFIXES = ['_', 'firebase_', 'ga_', 'google_'];

/** GA's documented rules for a request body: what the validation server reports and collection drops. */
export function validate(body: unknown): ValidationMessage[] {
  const messages: ValidationMessage[] = [];
  const add = (fieldPath: string, validationCode: string, description: string) =>
    messages.push({ fieldPath, validationCode, description });
  if (!body || typeof body !== 'object') {
    add('', 'VALUE_INVALID', 'Unable to parse Measurement Protocol JSON payload.');
    return messages;
  }
  const request = body as { client_id?: unknown; events?: unknown };
  if (typeof request.client_id !== 'string' || request.client_id === '') {
    add('client_id', 'VALUE_REQUIRED', 'Measurement requires a client_id.');
  }
  if (!Array.isArray(request.events) || request.events.length === 0) {
    add('events', 'VALUE_REQUIRED', 'Measurement requires at least one event.');
    return messages;
  }
  if (request.events.length > 25)
    add('events', 'EXCEEDED_MAX_ENTITIES', 'A request may carry at most 25 events.');
  request.events.forEach((raw: unknown, i: number) => {
    const event = (raw ?? {}) as { name?: unknown; params?: unknown };
    const name = typeof event.name === 'string' ? event.name : '';
    if (!/^[A-Za-z][A-Za-z0-9_]{0,39}$/.test(name)) {
      add(
        'events',
        'NAME_INVALID',
        `Event at index: [${i}] has invalid name [${name}]. Names must start with an alphabetic character.`,
      );
    } else if (RESERVED_EVENTS.has(name) || RESERVED_PREFIXES.some((p) => name.startsWith(p))) {
      add('events', 'NAME_RESERVED', `Event at index: [${i}] has name [${name}] which is reserved.`);
    }
    const params = (event.params ?? {}) as Record<string, unknown>;
    if (Object.keys(params).length > 25) {
      add(`events[${i}].params`, 'EXCEEDED_MAX_ENTITIES', `Event at index: [${i}] has more than 25 params.`);
    }
    for (const [key, value] of Object.entries(params)) {
      if (key.length > 40 || RESERVED_PREFIXES.some((p) => key.startsWith(p))) {
        add(`events[${i}].params`, 'NAME_INVALID', `Event param [${key}] has an invalid name.`);
      }
      if (typeof value === 'string' && value.length > 100) {
        add(
          `events[${i}].params.${key}`,
          'VALUE_OUT_OF_BOUNDS',
          `Event param [${key}] has a value longer than 100.`,
        );
      }
    }
  });
  return messages;
}

export async function startGa4Sandbox(options: { port?: number } = {}): Promise<Ga4Sandbox> {
  const measurementId = `G-${randomBytes(5).toString('hex').toUpperCase()}`;
  const apiSecret = randomBytes(12).toString('base64url');
  const events: Ga4Event[] = [];
  const dropped: { reason: string; body: string }[] = [];

  function handle({ sandbox, req, res, body, url }: SandboxHandlerContext): void {
    if (req.method !== 'POST') return send(res, 405, '');
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = undefined;
    }
    if (url.pathname === '/debug/mp/collect') {
      const messages = url.searchParams.get('measurement_id') ? validate(parsed) : [];
      if (!url.searchParams.get('measurement_id')) {
        messages.push({
          fieldPath: 'measurement_id',
          validationCode: 'VALUE_REQUIRED',
          description: 'Unable to find measurement_id in the request.',
        });
      }
      return send(res, 200, { validationMessages: messages });
    }
    if (url.pathname !== '/mp/collect') return send(res, 404, '');
    // GA answers 2xx whatever happens next: a client cannot tell a dropped event from a counted one.
    res.writeHead(204).end();
    const reasonDropped =
      url.searchParams.get('measurement_id') !== measurementId
        ? 'unknown measurement_id'
        : url.searchParams.get('api_secret') !== apiSecret
          ? 'api_secret does not belong to the stream'
          : validate(parsed)
              .map((m) => m.validationCode)
              .join(', ') || (sandbox.ignoreWrites ? 'ignored' : '');
    if (reasonDropped) {
      dropped.push({ reason: reasonDropped, body });
      return;
    }
    const request = parsed as {
      client_id: string;
      timestamp_micros?: number;
      events: { name: string; params?: Record<string, unknown> }[];
    };
    for (const event of request.events) {
      events.push({
        measurementId,
        clientId: request.client_id,
        ...(request.timestamp_micros !== undefined ? { timestampMicros: request.timestamp_micros } : {}),
        name: event.name,
        params: event.params ?? {},
      });
    }
  }

  const sandbox = await startPartnerSandbox({
    port: options.port,
    // GA's collection endpoint has no error body of its own; a proxy's plain text stands in.
    errorBody: (status, message) => ({ contentType: 'text/plain', body: `${status} ${message}` }),
    handle,
  });
  return Object.assign(sandbox, { measurementId, apiSecret, events, dropped });
}
