// Tour self-scheduling over HTTP on the real stack: tour settings validated field by field, free slots that leave
// out the property's Google Calendar busy time (its sandbox twin), two leads racing for a slot's last place (one
// wins, the other hears 409 with the next free slots), the journey moving to tour_scheduled, the calendar, and a
// cancelled tour giving its seat back.
import { randomUUID } from 'node:crypto';
import { startGoogleCalendarSandbox, type GoogleCalendarSandbox } from '../../infra/sandbox/googleCalendar';
import { call, registerWorkspace, startHarness, type Harness } from '../support/harness';
import { createIntegration, journeyWhere, uniqueEmail } from '../support/ingest';

let harness: Harness;
let calendar: GoogleCalendarSandbox;
let workspace: { workspaceId: string; apiKey: string };
let calendarId: string;

const api = (path: string) => `${harness.apiUrl}/api/v1${path}`;
const DAY = 86_400_000;
// Two days ahead, whole UTC days: every slot is past any notice and inside the booking horizon.
const day = new Date(Math.floor(Date.now() / DAY) * DAY + 2 * DAY);
const at = (hhmm: string) => new Date(`${day.toISOString().slice(0, 10)}T${hhmm}:00.000Z`).toISOString();
const range = { from: at('00:00'), to: new Date(day.getTime() + DAY).toISOString() };
const every = Object.fromEntries(
  ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'].map((d) => [d, [{ start: '09:00', end: '12:00' }]]),
);

beforeAll(async () => {
  [harness, calendar] = await Promise.all([
    startHarness(),
    startGoogleCalendarSandbox({ calendars: { primary: [{ start: at('10:00'), end: at('11:00') }] } }),
  ]);
  workspace = await registerWorkspace(harness.apiUrl, { workspace_name: 'Tours', timezone: 'UTC' });
  for (const property_id of ['oak', 'elm']) {
    const created = await call(api('/properties'), 'POST', workspace.apiKey, {
      property_id,
      name: property_id,
      timezone: 'UTC',
      vertical: 'multifamily',
    });
    expect(created.status).toBe(201);
  }
  ({ id: calendarId } = await createIntegration(harness, workspace.apiKey, {
    partner: 'google_calendar',
    property_id: 'oak',
    config: { calendar_ids: ['primary'], base_url: calendar.url, token_url: `${calendar.url}/token` },
    credentials: {
      client_id: calendar.clientId,
      client_secret: calendar.clientSecret,
      refresh_token: calendar.refreshToken,
    },
  }));
});
afterAll(async () => {
  await harness?.stop();
  await calendar?.close();
});

const slots = async (property: string) => {
  const answer = await call(
    api(`/properties/${property}/tour-slots?from=${range.from}&to=${range.to}`),
    'GET',
    workspace.apiKey,
  );
  expect(answer.status).toBe(200);
  return answer.body;
};

async function lead(property: string) {
  const created = await call(api('/leads'), 'POST', workspace.apiKey, {
    source: 'website',
    email: uniqueEmail('tour'),
    property_id: property,
  });
  expect(created.status).toBe(201);
  return created.body.id as string;
}

test('tour settings name every bad field; good ones are kept and read back', async () => {
  const bad = await call(api('/properties/oak/tour-settings'), 'PATCH', workspace.apiKey, {
    tour_hours: { mon: [{ start: '09:00', end: '08:00' }], funday: [] },
    tour_slot_minutes: 5,
    tour_capacity: 0,
  });
  expect(bad.status).toBe(400);
  expect(bad.body.error.code).toBe('validation_failed');
  const fields = bad.body.error.details.fields.map((f: { field: string }) => f.field);
  expect(fields).toEqual(expect.arrayContaining(['tour_slot_minutes', 'tour_capacity']));
  expect(fields.some((f: string) => f.startsWith('tour_hours'))).toBe(true);
  const empty = await call(api('/properties/oak/tour-settings'), 'PATCH', workspace.apiKey, {});
  expect(empty.status).toBe(400);
  const unknown = await call(api('/properties/nowhere/tour-settings'), 'GET', workspace.apiKey);
  expect(unknown.status).toBe(404);

  for (const [property, capacity] of [
    ['oak', 1],
    ['elm', 2],
  ] as const) {
    const saved = await call(api(`/properties/${property}/tour-settings`), 'PATCH', workspace.apiKey, {
      tour_hours: every,
      tour_slot_minutes: 60,
      tour_capacity: capacity,
      tour_notice_minutes: 0,
    });
    expect(saved.status).toBe(200);
    expect(saved.body).toMatchObject({
      property_id: property,
      tour_capacity: capacity,
      tour_slot_minutes: 60,
    });
  }
  const read = await call(api('/properties/oak/tour-settings'), 'GET', workspace.apiKey);
  expect(read.body.tour_hours.mon).toEqual([{ start: '09:00', end: '12:00' }]);
});

test('free slots are tour hours minus the connected calendar’s busy time; a bad range is refused', async () => {
  // The connection tests as other partners' do: it reads the next day of busy time.
  const tested = await call(api(`/integrations/${calendarId}/test`), 'POST', workspace.apiKey);
  expect(tested.status).toBe(200);
  expect(tested.body.ok).toBe(true);
  const oak = await slots('oak');
  expect(oak.busy_source).toBe('google_calendar');
  expect(oak.slots.map((s: { start: string }) => s.start)).toEqual([at('09:00'), at('11:00')]);
  // Elm has no calendar of its own or the workspace's: all three hours, two places each.
  const elm = await slots('elm');
  expect(elm.busy_source).toBeNull();
  expect(elm.slots).toEqual([
    { start: at('09:00'), end: at('10:00'), available: 2 },
    { start: at('10:00'), end: at('11:00'), available: 2 },
    { start: at('11:00'), end: at('12:00'), available: 2 },
  ]);
  const backwards = await call(
    api(`/properties/oak/tour-slots?from=${range.to}&to=${range.from}`),
    'GET',
    workspace.apiKey,
  );
  expect(backwards.status).toBe(400);
  expect(backwards.body.error.details.fields).toEqual([{ field: 'to', message: 'must be after from' }]);
  const garbled = await call(api('/properties/oak/tour-slots?from=tomorrow'), 'GET', workspace.apiKey);
  expect(garbled.status).toBe(400);
  expect(garbled.body.error.details.fields[0].field).toBe('from');
  // The calendar not answering is a 503, not slots offered blind.
  calendar.down = true;
  try {
    const down = await call(api('/properties/oak/tour-slots'), 'GET', workspace.apiKey);
    expect(down.status).toBe(503);
  } finally {
    calendar.down = false;
  }
});

test('two leads race for the last place in a slot: exactly one wins, the other gets 409 with the next free slots', async () => {
  const [first, second] = await Promise.all([lead('oak'), lead('oak')]);
  const answers = await Promise.all(
    [first, second].map((id) =>
      call(api(`/leads/${id}/tour`), 'POST', workspace.apiKey, { start: at('09:00') }),
    ),
  );
  expect(answers.map((a) => a.status).sort()).toEqual([201, 409]);
  const won = answers.find((a) => a.status === 201)!;
  const lost = answers.find((a) => a.status === 409)!;
  expect(won.body).toMatchObject({ start: at('09:00'), end: at('10:00'), status: 'booked', seat: 1 });
  expect(lost.body.error.code).toBe('slot_taken');
  expect(lost.body.error.details.next[0]).toEqual({ start: at('11:00'), end: at('12:00'), available: 1 });
  const winner = won.body.lead_id as string;
  const loser = winner === first ? second : first;

  const journey = await journeyWhere(
    harness,
    workspace.workspaceId,
    winner,
    (s) => s.status === 'tour_scheduled',
  );
  expect(journey.status).toBe('tour_scheduled');
  expect((await call(api(`/leads/${loser}/tour`), 'GET', workspace.apiKey)).body).toEqual({ tour: null });
  expect((await slots('oak')).slots.map((s: { start: string }) => s.start)).toEqual([at('11:00')]);

  // A start that is no slot, a busy hour, and leads that do not exist are refused with reasons.
  const offSlot = await call(api(`/leads/${loser}/tour`), 'POST', workspace.apiKey, { start: at('09:30') });
  expect(offSlot.status).toBe(400);
  expect(offSlot.body.error.details.fields[0].field).toBe('start');
  // What it offers instead: the next free slots from now, the full one left out.
  const offered = offSlot.body.error.details.next.map((s: { start: string }) => s.start);
  expect(offered.length).toBeGreaterThan(0);
  expect(offered).not.toContain(at('09:00'));
  expect(offered.every((start: string) => start > new Date().toISOString())).toBe(true);
  const busy = await call(api(`/leads/${loser}/tour`), 'POST', workspace.apiKey, { start: at('10:00') });
  expect(busy.status).toBe(409);
  const missing = await call(api(`/leads/${randomUUID()}/tour`), 'POST', workspace.apiKey, {
    start: at('11:00'),
  });
  expect(missing.status).toBe(404);
  const notUuid = await call(api('/leads/abc/tour'), 'POST', workspace.apiKey, { start: 'soon' });
  expect(notUuid.status).toBe(400);
  expect(notUuid.body.error.details.fields.map((f: { field: string }) => f.field)).toEqual(['id']);

  // The calendar shows the tour with its lead; cancelling frees the seat and the journey steps back.
  const tours = await call(
    api(`/properties/oak/tours?from=${range.from}&to=${range.to}`),
    'GET',
    workspace.apiKey,
  );
  expect(tours.body.tours).toEqual([
    expect.objectContaining({ lead_id: winner, start: at('09:00'), lead_status: 'tour_scheduled' }),
  ]);
  const cancelled = await call(api(`/leads/${winner}/tour`), 'DELETE', workspace.apiKey, {
    reason: 'lead asked to move it',
  });
  expect(cancelled.status).toBe(200);
  expect(cancelled.body).toMatchObject({ status: 'cancelled', cancel_reason: 'lead asked to move it' });
  await journeyWhere(harness, workspace.workspaceId, winner, (s) => s.status === 'qualified');
  expect((await slots('oak')).slots.map((s: { start: string }) => s.start)).toEqual([
    at('09:00'),
    at('11:00'),
  ]);
  const again = await call(api(`/leads/${loser}/tour`), 'POST', workspace.apiKey, { start: at('09:00') });
  expect(again.status).toBe(201);
});
