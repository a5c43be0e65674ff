// The Google Calendar adapter against its sandbox twin over real HTTP: a refresh token exchanged for an access token,
// free/busy of every configured calendar merged, a token that expired replaced once, and Google's errors sorted
// (a calendar nobody shared and a revoked grant are final; rate limits, even as 403, retry).
import { randomUUID } from 'node:crypto';
import { freeBusy, googleCalendar } from '../../activities/partners/googleCalendar';
import type { PartnerConnection } from '../../activities/partners/types';
import { startGoogleCalendarSandbox, type GoogleCalendarSandbox } from '../../infra/sandbox/googleCalendar';
import { partnerError } from './support';

let sandbox: GoogleCalendarSandbox;
const range = { from: '2030-05-06T00:00:00.000Z', to: '2030-05-07T00:00:00.000Z' };

beforeAll(async () => {
  sandbox = await startGoogleCalendarSandbox({
    calendars: {
      primary: [{ start: '2030-05-06T15:00:00.000Z', end: '2030-05-06T16:00:00.000Z' }],
      'tours@oak.example': [
        { start: '2030-05-06T13:30:00.000Z', end: '2030-05-06T14:00:00.000Z' },
        { start: '2030-05-08T13:00:00.000Z', end: '2030-05-08T14:00:00.000Z' },
      ],
    },
  });
});
afterAll(async () => {
  await sandbox?.close();
});
afterEach(() => {
  sandbox.faults.length = 0;
  sandbox.down = false;
});

function connection(
  config: Record<string, unknown> = {},
  credentials: Record<string, string> = {
    client_id: sandbox.clientId,
    client_secret: sandbox.clientSecret,
    refresh_token: sandbox.refreshToken,
  },
): PartnerConnection {
  return {
    integrationId: randomUUID(),
    workspaceId: 'ws_calendar',
    config: {
      calendar_ids: ['primary', 'tours@oak.example'],
      base_url: sandbox.url,
      token_url: `${sandbox.url}/token`,
      ...config,
    },
    credentials,
    timeoutMs: 5_000,
  };
}

test('busy time of every configured calendar in the range, merged in time order', async () => {
  await expect(freeBusy(connection(), range)).resolves.toEqual([
    { start: '2030-05-06T13:30:00.000Z', end: '2030-05-06T14:00:00.000Z' },
    { start: '2030-05-06T15:00:00.000Z', end: '2030-05-06T16:00:00.000Z' },
  ]);
  const calls = sandbox.requests.items.slice(-2).map((r) => `${r.method} ${r.url}`);
  expect(calls).toEqual(['POST /token', 'POST /calendar/v3/freeBusy']);
  expect(sandbox.queries.at(-1)).toEqual({
    timeMin: range.from,
    timeMax: range.to,
    items: ['primary', 'tours@oak.example'],
  });
});

test('an access token that expired is replaced once with the refresh token', async () => {
  const first = await fetch(`${sandbox.url}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: sandbox.refreshToken,
      client_id: sandbox.clientId,
      client_secret: sandbox.clientSecret,
    }).toString(),
  }).then((r) => r.json() as Promise<{ access_token: string }>);
  sandbox.expireTokens();
  const stale = connection({}, { ...connection().credentials, access_token: first.access_token });
  await expect(freeBusy(stale, range)).resolves.toHaveLength(2);
  expect(sandbox.requests.items.slice(-3).map((r) => `${r.url} ${r.status}`)).toEqual([
    '/calendar/v3/freeBusy 401',
    '/token 200',
    '/calendar/v3/freeBusy 200',
  ]);
  // With no refresh token, an expired token is the end of it: final, for staff to reconnect.
  const only = await partnerError(freeBusy(connection({}, { access_token: first.access_token }), range));
  expect(only).toMatchObject({ kind: 'final', status: 401, details: { partnerCode: 'authError' } });
});

test('a calendar nobody shared is a final error naming it; a revoked grant is final too', async () => {
  const unshared = await partnerError(
    freeBusy(connection({ calendar_ids: ['primary', 'nobody@oak.example'] }), range),
  );
  expect(unshared).toMatchObject({ kind: 'final', details: { partnerCode: 'notFound' } });
  expect(unshared.message).toContain('nobody@oak.example');
  const revoked = await partnerError(
    freeBusy(connection({}, { ...connection().credentials, refresh_token: '1//revoked-token' }), range),
  );
  expect(revoked).toMatchObject({ kind: 'final', status: 400, details: { partnerCode: 'invalid_grant' } });
});

test('rate limits retry, also when Google answers them with 403', async () => {
  sandbox.faults.push({ status: 403, pathIncludes: 'freeBusy' });
  expect(await partnerError(freeBusy(connection(), range))).toMatchObject({
    kind: 'retryable',
    status: 403,
    details: { partnerCode: 'rateLimitExceeded' },
  });
  sandbox.faults.push({ status: 503, retryAfterSeconds: 5, pathIncludes: 'freeBusy' });
  expect(await partnerError(freeBusy(connection(), range))).toMatchObject({
    kind: 'retryable',
    details: { retryAfterMs: 5000 },
  });
});

test('test connection reads the next day of busy time', async () => {
  await expect(googleCalendar.calendar!.testConnection(connection())).resolves.toEqual({
    detail: 'read primary, tours@oak.example: 0 busy period(s) in the next 24 hours',
  });
  const none = await partnerError(googleCalendar.calendar!.testConnection(connection({}, {})));
  expect(none).toMatchObject({ kind: 'final', details: { partnerCode: 'credentials_missing' } });
});
