// Tour slots as pure functions: tour hours per weekday in the property's zone (DST days included), slot length,
// capacity, notice, booked tours and busy calendar time; and the settings' validation.
import { TourSettingsBody, freeSlots, slotAt, slotsBetween, type TourSettings } from '../../shared/tours';

const CHICAGO = 'America/Chicago';
const settings = (overrides: Partial<TourSettings> = {}): TourSettings => ({
  hours: { mon: [{ start: '09:00', end: '12:00' }], sat: [{ start: '10:00', end: '11:00' }] },
  slotMinutes: 60,
  capacity: 2,
  noticeMinutes: 60,
  ...overrides,
});

test("slots follow the weekday's tour hours in the property's zone", () => {
  // Monday 2030-05-06 and Saturday 2030-05-11, Chicago on CDT (UTC-5).
  const slots = slotsBetween(
    settings(),
    CHICAGO,
    new Date('2030-05-06T00:00:00Z'),
    new Date('2030-05-12T23:00:00Z'),
  );
  expect(slots.map((s) => s.start)).toEqual([
    '2030-05-06T14:00:00.000Z',
    '2030-05-06T15:00:00.000Z',
    '2030-05-06T16:00:00.000Z',
    '2030-05-11T15:00:00.000Z',
  ]);
  expect(slots[0]!.end).toBe('2030-05-06T15:00:00.000Z');
  // A window shorter than a slot offers none; 90-minute slots fit twice in three hours.
  expect(
    slotsBetween(
      settings({ slotMinutes: 90 }),
      CHICAGO,
      new Date('2030-05-06T00:00:00Z'),
      new Date('2030-05-07T00:00:00Z'),
    ).map((s) => s.start),
  ).toEqual(['2030-05-06T14:00:00.000Z', '2030-05-06T15:30:00.000Z']);
  expect(
    slotsBetween(
      settings({ hours: null }),
      CHICAGO,
      new Date('2030-05-06T00:00:00Z'),
      new Date('2030-05-07T00:00:00Z'),
    ),
  ).toEqual([]);
});

test('tour hours keep their wall-clock time across a daylight-saving change', () => {
  // 2030-03-10 is the spring-forward Sunday in Chicago; the Monday after is on CDT, the one before on CST.
  const hours = settings({ hours: { mon: [{ start: '09:00', end: '10:00' }] } });
  const before = slotsBetween(
    hours,
    CHICAGO,
    new Date('2030-03-04T00:00:00Z'),
    new Date('2030-03-05T00:00:00Z'),
  );
  const after = slotsBetween(
    hours,
    CHICAGO,
    new Date('2030-03-11T00:00:00Z'),
    new Date('2030-03-12T00:00:00Z'),
  );
  expect(before.map((s) => s.start)).toEqual(['2030-03-04T15:00:00.000Z']);
  expect(after.map((s) => s.start)).toEqual(['2030-03-11T14:00:00.000Z']);
});

test('free slots leave out the too-soon, the full and the busy, and say how many places are left', () => {
  const free = freeSlots({
    settings: settings(),
    zone: CHICAGO,
    from: new Date('2030-05-06T00:00:00Z'),
    to: new Date('2030-05-07T00:00:00Z'),
    now: new Date('2030-05-06T13:30:00Z'), // 08:30 local: 09:00 is within the hour's notice
    booked: new Map([['2030-05-06T15:00:00.000Z', 1]]),
    busy: [{ start: '2030-05-06T16:30:00Z', end: '2030-05-06T16:45:00Z' }],
  });
  expect(free).toEqual([
    { start: '2030-05-06T15:00:00.000Z', end: '2030-05-06T16:00:00.000Z', available: 1 },
  ]);
  const full = freeSlots({
    settings: settings({ capacity: 1 }),
    zone: CHICAGO,
    from: new Date('2030-05-06T15:00:00Z'),
    to: new Date('2030-05-06T16:00:00Z'),
    now: new Date('2030-05-01T00:00:00Z'),
    booked: new Map([['2030-05-06T15:00:00.000Z', 1]]),
    busy: [],
  });
  expect(full).toEqual([]);
});

test('a start names a slot only when tour hours make one there', () => {
  expect(slotAt(settings(), CHICAGO, new Date('2030-05-06T15:00:00Z'))).toEqual({
    start: '2030-05-06T15:00:00.000Z',
    end: '2030-05-06T16:00:00.000Z',
  });
  expect(slotAt(settings(), CHICAGO, new Date('2030-05-06T15:30:00Z'))).toBeUndefined();
  expect(slotAt(settings(), CHICAGO, new Date('2030-05-07T15:00:00Z'))).toBeUndefined();
});

test('tour settings name every bad field', () => {
  const result = TourSettingsBody.safeParse({
    tour_hours: {
      mon: [
        { start: '9am', end: '17:00' },
        { start: '12:00', end: '11:00' },
      ],
      funday: [],
    },
    tour_slot_minutes: 5,
    tour_capacity: 0,
  });
  expect(result.success).toBe(false);
  expect(result.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(
    expect.arrayContaining([
      'tour_capacity',
      'tour_hours',
      'tour_hours.mon.0.start',
      'tour_hours.mon.1.end',
      'tour_slot_minutes',
    ]),
  );
  const overlapping = TourSettingsBody.safeParse({
    tour_hours: {
      tue: [
        { start: '09:00', end: '12:00' },
        { start: '11:00', end: '13:00' },
      ],
    },
  });
  expect(overlapping.error!.issues[0]).toMatchObject({
    path: ['tour_hours', 'tue'],
    message: expect.stringContaining('overlap'),
  });
});
