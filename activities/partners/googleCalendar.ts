// Google Calendar: the busy time of a property's tour calendars, from the Calendar API's free/busy query
// (POST /calendar/v3/freeBusy, OAuth 2.0 bearer token; a refresh token is exchanged at the token endpoint). Tour
// slots that overlap busy time are not offered. Facts and sources: docs/partners/google-calendar.md.
import { z } from 'zod';
import { PartnerError, baseUrl, joinUrl, jsonOf, partnerRequest, type PartnerResponse } from './http';
import type { Interval } from '../../shared/tours';
import { TokenSession, type TokenSet } from './tokenSession';
import type { PartnerAdapter, PartnerConnection } from './types';

export const GOOGLE_API_BASE = 'https://www.googleapis.com';
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';

export const GoogleCalendarConfig = z
  .object({
    calendar_ids: z
      .array(z.string().min(1).max(300))
      .min(1)
      .max(50)
      .default(['primary'])
      .describe(
        'Calendars whose busy time blocks tour slots (an email address or calendar id; primary by default)',
      ),
    base_url: z
      .url()
      .optional()
      .describe('Calendar API host (https://www.googleapis.com unless a proxy or sandbox)'),
    token_url: z
      .url()
      .optional()
      .describe('OAuth token endpoint (https://oauth2.googleapis.com/token by default)'),
  })
  .loose();

export const GoogleCalendarCredentials = z
  .object({
    client_id: z.string().min(1).optional().describe('OAuth client id'),
    client_secret: z.string().min(1).optional().describe('OAuth client secret'),
    refresh_token: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Refresh token of a user who can see the calendars (scope calendar.freebusy or calendar.readonly)',
      ),
    access_token: z
      .string()
      .min(1)
      .optional()
      .describe('An access token used as is (expires within the hour)'),
  })
  .loose()
  .superRefine((value, ctx) => {
    if (value.access_token || (value.refresh_token && value.client_id && value.client_secret)) return;
    ctx.addIssue({
      code: 'custom',
      path: [value.refresh_token ? (value.client_id ? 'client_secret' : 'client_id') : 'refresh_token'],
      message: 'refresh_token with client_id and client_secret, or an access_token',
    });
  });

interface GoogleErrorBody {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    errors?: { reason?: string; message?: string }[];
  };
}

/** Google's `{error: {code, message, errors: [{domain, reason}]}}`: the message and the first reason. */
function googleError(response: PartnerResponse): { message: string; code?: string } {
  try {
    const body = JSON.parse(response.text) as GoogleErrorBody & { error_description?: string };
    if (typeof body.error === 'string') {
      // The token endpoint's `{error, error_description}`.
      return { message: `${body.error}: ${body.error_description ?? ''}`.trim(), code: body.error };
    }
    const reason = body.error?.errors?.[0]?.reason;
    return {
      message: body.error?.message ?? response.text.slice(0, 200),
      ...(reason ? { code: reason } : {}),
    };
  } catch {
    return { message: response.text.slice(0, 200) || '(empty answer)' };
  }
}

// Google answers some rate limits with 403 (usageLimits): they pass with time, unlike other 403s.
const RATE_LIMIT_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded', 'quotaExceeded']);

async function googleCall(
  connection: PartnerConnection,
  request: Parameters<typeof partnerRequest>[2],
): Promise<PartnerResponse> {
  try {
    return await partnerRequest('google_calendar', connection, { ...request, describeError: googleError });
  } catch (error) {
    if (
      error instanceof PartnerError &&
      error.status === 403 &&
      RATE_LIMIT_REASONS.has(error.details.partnerCode ?? '')
    ) {
      throw new PartnerError('google_calendar', 'retryable', error.message, error.details);
    }
    throw error;
  }
}

/** The call's token: the given one, else one got with the refresh token; a 401 gets one new token (TokenSession). */
function tokenSession(connection: PartnerConnection): TokenSession {
  const { access_token, refresh_token, client_id, client_secret } = connection.credentials;
  const refresh =
    refresh_token && client_id && client_secret
      ? async (): Promise<TokenSet> => {
          const response = await googleCall(connection, {
            method: 'POST',
            url:
              typeof connection.config.token_url === 'string'
                ? connection.config.token_url
                : GOOGLE_TOKEN_URL,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: new URLSearchParams({
              grant_type: 'refresh_token',
              refresh_token,
              client_id,
              client_secret,
            }).toString(),
          });
          const accessToken = jsonOf<{ access_token?: string }>('google_calendar', response).access_token;
          if (!accessToken) {
            throw new PartnerError(
              'google_calendar',
              'retryable',
              'google answered the token request without a token',
            );
          }
          return { accessToken };
        }
      : undefined;
  return new TokenSession(
    'google_calendar',
    { accessToken: access_token || undefined, refresh },
    'the Google Calendar integration holds no token (credentials.refresh_token with client_id and client_secret, or access_token)',
  );
}

interface FreeBusyAnswer {
  calendars?: Record<string, { busy?: Interval[]; errors?: { domain?: string; reason?: string }[] }>;
}

/** Busy intervals of every configured calendar between `from` and `to`, merged. */
export async function freeBusy(
  connection: PartnerConnection,
  range: { from: string; to: string },
): Promise<Interval[]> {
  const config = GoogleCalendarConfig.parse(connection.config);
  const answer = await tokenSession(connection).call(async (token) =>
    jsonOf<FreeBusyAnswer>(
      'google_calendar',
      await googleCall(connection, {
        method: 'POST',
        url: joinUrl(baseUrl(connection, GOOGLE_API_BASE), '/calendar/v3/freeBusy'),
        headers: { authorization: `Bearer ${token}` },
        body: { timeMin: range.from, timeMax: range.to, items: config.calendar_ids.map((id) => ({ id })) },
      }),
    ),
  );
  const busy: Interval[] = [];
  for (const id of config.calendar_ids) {
    const calendar = answer.calendars?.[id];
    const failure = calendar?.errors?.[0];
    // A calendar the user cannot see answers per-calendar errors, not an HTTP error: its busy time is unknown.
    if (!calendar || failure) {
      throw new PartnerError(
        'google_calendar',
        'final',
        `google_calendar cannot read calendar ${id}: ${failure?.reason ?? 'not in the answer'}`,
        { partnerCode: failure?.reason ?? 'notFound', status: 200 },
      );
    }
    busy.push(...(calendar.busy ?? []));
  }
  return busy.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
}

export const googleCalendar: PartnerAdapter = {
  partner: 'google_calendar',
  integration: {
    webhookSecret: { kind: 'none' },
    config: GoogleCalendarConfig,
    credentials: GoogleCalendarCredentials,
  },
  calendar: {
    freeBusy,
    async testConnection(connection) {
      const now = new Date();
      const day = new Date(now.getTime() + 24 * 3_600_000);
      const busy = await freeBusy(connection, { from: now.toISOString(), to: day.toISOString() });
      const ids = GoogleCalendarConfig.parse(connection.config).calendar_ids;
      return { detail: `read ${ids.join(', ')}: ${busy.length} busy period(s) in the next 24 hours` };
    },
  },
};
