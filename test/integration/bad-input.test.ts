// Bad input stays bad input: on every list route with a cursor a forged or damaged cursor answers 400 naming
// `cursor`, never 500 (a stale one, its row gone, still answers a page); time zones are IANA zones at input.
import { randomUUID } from 'node:crypto';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';

let harness: Harness;
let key: string;
let endpointId: string;

beforeAll(async () => {
  harness = await startHarness();
  ({ apiKey: key } = await registerWorkspace(harness.apiUrl));
  const created = await call(`${harness.apiUrl}/api/v1/webhook-endpoints`, 'POST', key, {
    name: 'cursor test',
    url: 'http://127.0.0.1:9/hook',
    events: ['lead.status_changed'],
  });
  expect(created.status).toBe(201);
  endpointId = created.body.id;
});
afterAll(async () => {
  await harness?.stop();
});

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
/** Every route's time key at once, so one forged value reaches each route's reading. */
const atEveryKey = (at: unknown, id: unknown = randomUUID()) =>
  encode({ createdAt: at, convertedAt: at, r: at, wonAt: at, c: at, id });

const FORGED: [string, string][] = [
  ['not base64 JSON', '!!not a cursor!!'],
  ['JSON null', encode(null)],
  ['a JSON array', encode([1, 2])],
  ['no id', encode({ createdAt: '2025-01-01T00:00:00Z' })],
  ['a time JavaScript parses and Postgres refuses', atEveryKey('1')],
  ['year zero', atEveryKey('0000-01-01T00:00:00Z')],
  ['30 February', atEveryKey('2025-02-30T00:00:00Z')],
  ['past year 9999', atEveryKey('+275760-09-13T00:00:00Z')],
  ['a time that is a number', atEveryKey(1_700_000_000_000)],
  ['an id of dashes', atEveryKey('2025-01-01T00:00:00Z', '-'.repeat(36))],
];

/** Each list route: how to ask it for a page after `cursor`. */
const ROUTES: [string, (cursor: string) => Promise<{ status: number; body: any }>][] = [
  ['GET /api/v1/leads', (cursor) => call(`${harness.apiUrl}/api/v1/leads?cursor=${cursor}`, 'GET', key)],
  [
    'GET /api/v1/conversions',
    (cursor) => call(`${harness.apiUrl}/api/v1/conversions?cursor=${cursor}`, 'GET', key),
  ],
  ['GET /api/v1/inbox', (cursor) => call(`${harness.apiUrl}/api/v1/inbox?cursor=${cursor}`, 'GET', key)],
  [
    'GET /api/v1/referral-fees',
    (cursor) => call(`${harness.apiUrl}/api/v1/referral-fees?cursor=${cursor}`, 'GET', key),
  ],
  [
    'GET /api/v1/webhook-endpoints/:id/deliveries',
    (cursor) =>
      call(
        `${harness.apiUrl}/api/v1/webhook-endpoints/${endpointId}/deliveries?cursor=${cursor}`,
        'GET',
        key,
      ),
  ],
  [
    'POST /api/v1/admin/whatif',
    (cursor) =>
      call(`${harness.apiUrl}/api/v1/admin/whatif`, 'POST', key, {
        cursor,
        candidate: { reducer: 'current' },
      }),
  ],
];

describe.each(ROUTES)('%s', (_route, ask) => {
  test.each(FORGED)('a forged cursor (%s) is 400 naming cursor', async (_what, cursor) => {
    const answer = await ask(encodeURIComponent(cursor) === cursor ? cursor : encodeURIComponent(cursor));
    expect({ status: answer.status, code: answer.body?.error?.code }).toEqual({
      status: 400,
      code: 'validation_failed',
    });
    expect(answer.body.error.details.fields).toEqual([expect.objectContaining({ field: 'cursor' })]);
  });

  test('a stale cursor (its row gone) answers a page', async () => {
    const answer = await ask(atEveryKey('2025-01-01T00:00:00.123456Z'));
    expect(answer.status).toBe(200);
  });
});

test.each(['1e30', '99999999999', '-1', '1.5', 'x'])(
  "an import's rows after=%s (not a row number) is 400 naming after, never 500",
  async (after) => {
    const answer = await call(
      `${harness.apiUrl}/api/v1/imports/${randomUUID()}/rows?after=${after}`,
      'GET',
      key,
    );
    expect(answer.status).toBe(400);
    const fields = answer.body.error.details.fields as { field: string }[];
    expect([...new Set(fields.map((f) => f.field))]).toEqual(['after']);
  },
);

describe('time zones are IANA zones at input, the error naming the field', () => {
  const BAD_ZONES = ['Mars/Olympus_Mons', 'EST5EDT6', 'America/New York', ''];

  test.each(BAD_ZONES)(
    'a lead with custom_data.timezone %j is 400 naming custom_data.timezone',
    async (zone) => {
      const answer = await call(`${harness.apiUrl}/api/v1/leads`, 'POST', key, {
        source: 'webform',
        email: `${randomUUID()}@example.com`,
        custom_data: { timezone: zone },
      });
      expect(answer.status).toBe(400);
      expect(answer.body.error.details.fields).toEqual([
        expect.objectContaining({ field: 'custom_data.timezone' }),
      ]);
    },
  );

  test.each(BAD_ZONES)('a property with timezone %j is 400 naming timezone', async (zone) => {
    const answer = await call(`${harness.apiUrl}/api/v1/properties`, 'POST', key, {
      name: 'Maple Court',
      timezone: zone,
      vertical: 'multifamily',
    });
    expect(answer.status).toBe(400);
    expect(answer.body.error.details.fields).toEqual([expect.objectContaining({ field: 'timezone' })]);
  });

  test('a real zone is taken, on a lead and on a property', async () => {
    const lead = await call(`${harness.apiUrl}/api/v1/leads`, 'POST', key, {
      source: 'webform',
      email: `${randomUUID()}@example.com`,
      custom_data: { timezone: 'America/Chicago', other: 1 },
    });
    expect(lead.status).toBe(201);
    const property = await call(`${harness.apiUrl}/api/v1/properties`, 'POST', key, {
      name: 'Maple Court',
      timezone: 'Europe/Berlin',
      vertical: 'multifamily',
    });
    expect(property.status).toBe(201);
  });
});
