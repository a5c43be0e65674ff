import { initialState } from '../../shared/journey/decide';
import {
  DEFAULT_FOLLOW_UP_POLICY,
  deadlineKey,
  dueDeadlines,
  planDeadlines,
} from '../../shared/journey/followUps';
import type { JourneyState } from '../../shared/journey/types';

const T0 = '2026-03-02T15:00:00.000Z';
const plus = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

function state(overrides: Partial<JourneyState> = {}): JourneyState {
  return {
    ...initialState({ workspaceId: 'w', leadId: 'l', journey: 1, source: 'website', now: T0 }),
    ...overrides,
  };
}

test('a new lead has speed-to-lead first, then stale and auto-lost from its last activity', () => {
  expect(planDeadlines(state())).toEqual([
    { name: 'speed_to_lead', fireAt: plus(15 * MIN) },
    { name: 'stale', fireAt: plus(7 * DAY) },
    { name: 'auto_lost', fireAt: plus(30 * DAY) },
  ]);
});

test('a contacted lead has no speed-to-lead deadline, nor one a call already answered', () => {
  expect(planDeadlines(state({ status: 'contacted' })).map((d) => d.name)).toEqual(['stale', 'auto_lost']);
  const called = state({ counters: { events: 2, calls: 1, notes: 0, conversions: 0, tours: 0 } });
  expect(planDeadlines(called).map((d) => d.name)).toEqual(['stale', 'auto_lost']);
});

test('a booked tour plans reminders 24 h and 2 h before, the outcome request and the no-show check', () => {
  const tourAt = plus(3 * DAY);
  const names = planDeadlines(
    state({ status: 'tour_scheduled', facts: { hasEmail: true, hasPhone: false, tourAt } }),
  );
  expect(names).toEqual([
    { name: 'tour_reminder_24h', fireAt: plus(2 * DAY) },
    { name: 'tour_reminder_2h', fireAt: plus(3 * DAY - 2 * HOUR) },
    { name: 'post_tour', fireAt: plus(3 * DAY + 2 * HOUR) },
    { name: 'no_show', fireAt: plus(4 * DAY) },
    { name: 'stale', fireAt: plus(7 * DAY) },
    { name: 'auto_lost', fireAt: plus(30 * DAY) },
  ]);
});

test('a reminder whose moment passed before the booking is not planned', () => {
  const tourAt = plus(3 * HOUR);
  const names = planDeadlines(
    state({ status: 'tour_scheduled', facts: { hasEmail: true, hasPhone: false, tourAt } }),
  ).map((d) => d.name);
  expect(names).toContain('tour_reminder_2h');
  expect(names).not.toContain('tour_reminder_24h');
});

test('an apfm referral carries the partner answer-within deadline', () => {
  expect(planDeadlines(state({ source: 'apfm' })).map((d) => d.name)).toContain('referral_response_apfm');
});

test('terminal leads have no deadlines; fired ones are not planned again', () => {
  expect(planDeadlines(state({ status: 'lost' }))).toEqual([]);
  const first = planDeadlines(state())[0]!;
  expect(planDeadlines(state({ firedDeadlines: [deadlineKey(first)] }))[0]!.name).toBe('stale');
});

test('due deadlines are those at or before now, earliest first; policy overrides apply', () => {
  expect(dueDeadlines(state(), DEFAULT_FOLLOW_UP_POLICY, plus(15 * MIN)).map((d) => d.name)).toEqual([
    'speed_to_lead',
  ]);
  expect(
    dueDeadlines(state(), { ...DEFAULT_FOLLOW_UP_POLICY, speedToLeadMinutes: 5 }, plus(6 * MIN)),
  ).toHaveLength(1);
  expect(dueDeadlines(state(), DEFAULT_FOLLOW_UP_POLICY, plus(MIN))).toEqual([]);
});
