// A local stand-in for the parts of Google's APIs tour scheduling uses: the OAuth token endpoint (POST /token,
// grant_type=refresh_token → a short-lived bearer token; invalid_grant / invalid_client errors) and the Calendar
// API's free/busy query (POST /calendar/v3/freeBusy with timeMin, timeMax and items; busy intervals per calendar,
// per-calendar notFound errors, 401 authError, 400 timeRangeEmpty, 403 rateLimitExceeded), in Google's error
// format. Faults, `down` and `ignoreWrites` from partner.ts.
import { randomBytes } from 'node:crypto';
import { send, startPartnerSandbox, type PartnerSandbox, type SandboxHandlerContext } from './partner';

export interface BusyInterval {
  start: string;
  end: string;
}

export interface GoogleCalendarSandbox extends PartnerSandbox {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /** Busy intervals per calendar id; a calendar not in the map answers notFound. */
  calendars: Map<string, BusyInterval[]>;
  /** Every access token issued so far stops working (they expired). */
  expireTokens(): void;
  /** The free/busy queries received, parsed. */
  queries: { timeMin: string; timeMax: string; items: string[] }[];
}

/** Google's `{error: {errors: [{domain, reason, message}], code, message}}`. */
export function googleError(code: number, reason: string, message: string, domain = 'global') {
  return { error: { errors: [{ domain, reason, message }], code, message } };
}

export async function startGoogleCalendarSandbox(
  options: { port?: number; calendars?: Record<string, BusyInterval[]> } = {},
): Promise<GoogleCalendarSandbox> {
  const clientId = `${randomBytes(6).toString('hex')}.apps.googleusercontent.com`;
  const clientSecret = `GOCSPX-${randomBytes(12).toString('base64url')}`;
  const refreshToken = `1//${randomBytes(24).toString('base64url')}`;
  const calendars = new Map<string, BusyInterval[]>(Object.entries(options.calendars ?? { primary: [] }));
  const tokens = new Set<string>();
  const queries: GoogleCalendarSandbox['queries'] = [];

  function token({ res, body }: SandboxHandlerContext): void {
    const form = new URLSearchParams(body);
    if (form.get('client_id') !== clientId || form.get('client_secret') !== clientSecret) {
      return send(res, 401, {
        error: 'invalid_client',
        error_description: 'The OAuth client was not found.',
      });
    }
    if (form.get('grant_type') !== 'refresh_token' || form.get('refresh_token') !== refreshToken) {
      return send(res, 400, {
        error: 'invalid_grant',
        error_description: 'Token has been expired or revoked.',
      });
    }
    const accessToken = `ya29.${randomBytes(24).toString('base64url')}`;
    tokens.add(accessToken);
    send(res, 200, {
      access_token: accessToken,
      expires_in: 3599,
      scope: 'https://www.googleapis.com/auth/calendar.freebusy',
      token_type: 'Bearer',
    });
  }

  function freeBusy({ req, res, body }: SandboxHandlerContext): void {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!bearer || !tokens.has(bearer)) {
      return send(res, 401, googleError(401, 'authError', 'Invalid Credentials'));
    }
    let query: { timeMin?: string; timeMax?: string; items?: { id?: string }[] };
    try {
      query = JSON.parse(body) as typeof query;
    } catch {
      return send(res, 400, googleError(400, 'parseError', 'Parse Error'));
    }
    const min = Date.parse(query.timeMin ?? '');
    const max = Date.parse(query.timeMax ?? '');
    if (Number.isNaN(min)) return send(res, 400, googleError(400, 'required', 'Missing timeMin.'));
    if (Number.isNaN(max)) return send(res, 400, googleError(400, 'required', 'Missing timeMax.'));
    if (max <= min)
      return send(
        res,
        400,
        googleError(400, 'timeRangeEmpty', 'The specified time range is empty.', 'calendar'),
      );
    const ids = (query.items ?? []).map((item) => item.id ?? '');
    queries.push({ timeMin: query.timeMin!, timeMax: query.timeMax!, items: ids });
    const answer: Record<string, unknown> = {};
    for (const id of ids) {
      const busy = calendars.get(id);
      answer[id] = busy
        ? {
            busy: busy
              .filter((b) => Date.parse(b.start) < max && Date.parse(b.end) > min)
              .map((b) => ({
                start: new Date(Math.max(Date.parse(b.start), min)).toISOString(),
                end: new Date(Math.min(Date.parse(b.end), max)).toISOString(),
              })),
          }
        : { errors: [{ domain: 'global', reason: 'notFound' }], busy: [] };
    }
    send(res, 200, {
      kind: 'calendar#freeBusy',
      timeMin: new Date(min).toISOString(),
      timeMax: new Date(max).toISOString(),
      calendars: answer,
    });
  }

  const sandbox = await startPartnerSandbox({
    port: options.port,
    errorBody: (status, message) => ({
      contentType: 'application/json',
      body: JSON.stringify(
        status === 403
          ? googleError(403, 'rateLimitExceeded', 'Rate Limit Exceeded', 'usageLimits')
          : status === 429
            ? googleError(429, 'rateLimitExceeded', 'Rate Limit Exceeded', 'usageLimits')
            : googleError(status, status >= 500 ? 'backendError' : 'badRequest', message),
      ),
    }),
    handle(context) {
      if (context.req.method === 'POST' && context.url.pathname === '/token') return token(context);
      if (context.req.method === 'POST' && context.url.pathname === '/calendar/v3/freeBusy')
        return freeBusy(context);
      return send(context.res, 404, googleError(404, 'notFound', 'Not Found'));
    },
  });
  return Object.assign(sandbox, {
    clientId,
    clientSecret,
    refreshToken,
    calendars,
    queries,
    expireTokens: () => tokens.clear(),
  });
}
