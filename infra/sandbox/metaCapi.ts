// A local stand-in for Meta's Conversions API, the part leadrelay uses: POST /{version}/{pixel_id}/events with the
// access token (body, query or bearer header), events checked as Meta documents them (event_name, event_time in
// seconds and at most 7 days old, action_source, hashed user_data, value and currency with Purchase), Graph error
// bodies (OAuthException 190, GraphMethodException 100, transient code 2 / throttling code 4), and deduplication:
// an event with the event_name and event_id of one already received (server or browser pixel) within 48 hours
// counts once. GET /{version}/{pixel_id} reads the dataset. Faults, `down` and `ignoreWrites` from partner.ts.
import { randomBytes } from 'node:crypto';
import { send, startPartnerSandbox, type PartnerSandbox, type SandboxHandlerContext } from './partner';

export interface MetaEvent {
  event_name: string;
  event_time: number;
  event_id?: string;
  action_source: string;
  event_source_url?: string;
  user_data: Record<string, unknown>;
  custom_data?: Record<string, unknown>;
}

export interface MetaSandbox extends PartnerSandbox {
  accessToken: string;
  pixelId: string;
  /** Every event accepted, as sent. */
  received: MetaEvent[];
  /** Conversions as Meta counts them: one per event_name and event_id within 48 hours (pixel events included). */
  conversions: MetaEvent[];
  /** Events sent with a test_event_code (Events Manager → Test events): not counted as conversions. */
  testEvents: MetaEvent[];
  /** What the browser pixel sent for a page (deduplicates a later server event with the same name and id). */
  pixelEvent(eventName: string, eventId: string): void;
}

const DEDUP_WINDOW_SECONDS = 48 * 3600;
const MAX_AGE_SECONDS = 7 * 24 * 3600;
const HASH = /^[0-9a-f]{64}$/;
const HASHED_FIELDS = ['em', 'ph', 'fn', 'ln', 'ge', 'db', 'ct', 'st', 'zp', 'country'];

const traceId = () => randomBytes(8).toString('base64url');

/** Graph's error body. */
function graphError(
  code: number,
  message: string,
  extra: {
    type?: string;
    subcode?: number;
    userTitle?: string;
    userMessage?: string;
    transient?: boolean;
  } = {},
) {
  return {
    error: {
      message,
      type: extra.type ?? (code === 190 ? 'OAuthException' : 'GraphMethodException'),
      code,
      ...(extra.subcode ? { error_subcode: extra.subcode } : {}),
      ...(extra.userTitle ? { error_user_title: extra.userTitle } : {}),
      ...(extra.userMessage ? { error_user_msg: extra.userMessage } : {}),
      ...(extra.transient !== undefined ? { is_transient: extra.transient } : {}),
      fbtrace_id: traceId(),
    },
  };
}

class GraphAnswer extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`meta sandbox ${status}`);
  }
}

const invalid = (userMessage: string) =>
  new GraphAnswer(400, graphError(100, 'Invalid parameter', { type: 'OAuthException', userMessage }));

export async function startMetaSandbox(options: { port?: number } = {}): Promise<MetaSandbox> {
  const accessToken = `EAAB${randomBytes(24).toString('hex')}`;
  const pixelId = String(1_000_000_000_000 + Math.floor(Math.random() * 8_000_000_000_000));
  const received: MetaEvent[] = [];
  const conversions: MetaEvent[] = [];
  const testEvents: MetaEvent[] = [];
  /** `event_name|event_id` → event_time seen first. */
  const seen = new Map<string, number>();

  const count = (event: MetaEvent) => {
    if (event.event_id) {
      const key = `${event.event_name}|${event.event_id}`;
      const first = seen.get(key);
      if (first !== undefined && Math.abs(event.event_time - first) <= DEDUP_WINDOW_SECONDS) return;
      seen.set(key, event.event_time);
    }
    conversions.push(event);
  };

  function check(raw: unknown, now: number): MetaEvent {
    if (!raw || typeof raw !== 'object') throw invalid('Each item in data must be an event object.');
    const event = raw as Record<string, unknown>;
    if (typeof event.event_name !== 'string' || event.event_name === '') {
      throw invalid('The parameter event_name is required.');
    }
    if (
      typeof event.event_time !== 'number' ||
      !Number.isInteger(event.event_time) ||
      event.event_time > 1e11
    ) {
      throw invalid('event_time must be a Unix timestamp in seconds.');
    }
    if (now - event.event_time > MAX_AGE_SECONDS) {
      throw invalid('The timestamp for this event is too far in the past: events may be up to 7 days old.');
    }
    if (typeof event.action_source !== 'string') throw invalid('The parameter action_source is required.');
    const userData = event.user_data as Record<string, unknown> | undefined;
    if (event.action_source === 'website' && (!event.event_source_url || !userData?.client_user_agent)) {
      throw invalid('Website events require event_source_url and client_user_agent.');
    }
    if (!userData || typeof userData !== 'object' || Object.keys(userData).length === 0) {
      throw invalid('The parameter user_data is required and must hold customer information.');
    }
    for (const field of HASHED_FIELDS) {
      const values = userData[field] === undefined ? [] : [userData[field]].flat();
      if (values.some((v) => typeof v !== 'string' || !HASH.test(v))) {
        throw invalid(`user_data.${field} must be SHA-256 hashed (64 lower-case hex characters).`);
      }
    }
    const custom = (event.custom_data ?? {}) as Record<string, unknown>;
    if (
      event.event_name === 'Purchase' &&
      (typeof custom.value !== 'number' || typeof custom.currency !== 'string')
    ) {
      throw invalid('Purchase events require custom_data.value and custom_data.currency.');
    }
    return event as unknown as MetaEvent;
  }

  async function handle({ sandbox, req, res, body, url }: SandboxHandlerContext): Promise<void> {
    try {
      const parts = url.pathname.split('/').filter(Boolean);
      const form = (req.headers['content-type'] ?? '').includes('application/x-www-form-urlencoded');
      const parsed = form
        ? Object.fromEntries(new URLSearchParams(body))
        : body
          ? (JSON.parse(body) as Record<string, unknown>)
          : {};
      const bearer = /^Bearer (.+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const token =
        url.searchParams.get('access_token') ?? (parsed.access_token as string | undefined) ?? bearer;
      if (token !== accessToken) {
        throw new GraphAnswer(400, graphError(190, 'Invalid OAuth access token - Cannot parse access token'));
      }
      const [version, object, edge] = parts;
      if (!version || !/^v\d+\.\d$/.test(version) || object !== pixelId) {
        throw new GraphAnswer(
          400,
          graphError(
            100,
            `Unsupported ${req.method === 'GET' ? 'get' : 'post'} request. Object with ID '${object}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
            { subcode: 33 },
          ),
        );
      }
      if (req.method === 'GET' && edge === undefined) {
        return send(res, 200, { id: pixelId, name: 'Sandbox dataset' });
      }
      if (req.method !== 'POST' || edge !== 'events') {
        throw new GraphAnswer(400, graphError(100, 'Unknown path components', { subcode: 2500 }));
      }
      const rawData = typeof parsed.data === 'string' ? JSON.parse(parsed.data) : parsed.data;
      if (!Array.isArray(rawData) || rawData.length === 0 || rawData.length > 1000) {
        throw invalid('The parameter data is required: an array of 1 to 1000 events.');
      }
      const now = Math.floor(Date.now() / 1000);
      // Meta refuses the whole request when one event is invalid.
      const events = rawData.map((raw) => check(raw, now));
      // A dataset that drops what it is sent still answers 200, with nothing received.
      if (sandbox.ignoreWrites)
        return send(res, 200, { events_received: 0, messages: [], fbtrace_id: traceId() });
      for (const event of events) {
        received.push(event);
        if (typeof parsed.test_event_code === 'string') testEvents.push(event);
        else count(event);
      }
      return send(res, 200, { events_received: events.length, messages: [], fbtrace_id: traceId() });
    } catch (error) {
      if (error instanceof GraphAnswer) return send(res, error.status, error.body);
      if (error instanceof SyntaxError) return send(res, 400, graphError(100, 'Invalid JSON for postcard'));
      throw error;
    }
  }

  const sandbox = await startPartnerSandbox({
    port: options.port,
    errorBody: (status, message) => ({
      contentType: 'application/json',
      body: JSON.stringify(
        status === 429
          ? graphError(4, 'Application request limit reached', { type: 'OAuthException', transient: true })
          : status >= 500
            ? graphError(2, `Service temporarily unavailable (${message})`, {
                type: 'OAuthException',
                transient: true,
              })
            : graphError(100, message),
      ),
    }),
    handle,
  });
  return Object.assign(sandbox, {
    accessToken,
    pixelId,
    received,
    conversions,
    testEvents,
    pixelEvent(eventName: string, eventId: string) {
      count({
        event_name: eventName,
        event_id: eventId,
        event_time: Math.floor(Date.now() / 1000),
        action_source: 'website',
        user_data: {},
      });
    },
  });
}
