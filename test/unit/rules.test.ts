import { decide, initialState } from '../../shared/journey/decide';
import { conditionsHold, isTimeWindow, type WorkflowRule } from '../../shared/journey/rules';
import { planDeadlines } from '../../shared/journey/followUps';
import { localMinutes } from '../../shared/journey/localTime';
import type { JourneyPolicy, LeadEvent } from '../../shared/journey/types';
import { DEFAULT_PIPELINE } from '../../shared/lifecycle';

const T0 = '2026-03-02T15:00:00.000Z'; // 09:00 at UTC-6
const facts = (over: Partial<Parameters<typeof conditionsHold>[1]> = {}) => ({
  leadScore: 0,
  source: 'website',
  localMinutes: 9 * 60,
  context: undefined,
  ...over,
});

test('conditions: every one present must hold, minimums are inclusive, windows may wrap midnight', () => {
  expect(conditionsHold({}, facts())).toBe(true);
  expect(conditionsHold({ lead_score: 70 }, facts({ leadScore: 70 }))).toBe(true);
  expect(conditionsHold({ lead_score: 70 }, facts({ leadScore: 69 }))).toBe(false);
  expect(conditionsHold({ message_count: 5 }, facts({ context: { message_count: 6 } }))).toBe(true);
  expect(
    conditionsHold({ conversation_duration: 10 }, facts({ context: { conversation_duration: 3 } })),
  ).toBe(false);
  expect(conditionsHold({ source: 'apfm' }, facts())).toBe(false);
  expect(conditionsHold({ time_of_day: '08:00-17:00' }, facts())).toBe(true);
  expect(conditionsHold({ time_of_day: '22:00-06:00' }, facts({ localMinutes: 23 * 60 }))).toBe(true);
  expect(conditionsHold({ time_of_day: '22:00-06:00' }, facts())).toBe(false);
  expect(isTimeWindow('9:00-17:00')).toBe(false);
  expect(isTimeWindow('09:00-17:00')).toBe(true);
});

const rule = (over: Partial<WorkflowRule>): WorkflowRule => ({
  id: 'r1',
  trigger_status: 'contacted',
  conditions: {},
  actions: [],
  ...over,
});
const policy = (rules: WorkflowRule[]): JourneyPolicy => ({
  vertical: 'multifamily',
  pipeline: DEFAULT_PIPELINE,
  connectedPartners: [],
  rules,
  utcOffsetMinutes: -360,
});
const change = (to: string, context?: Record<string, unknown>): LeadEvent => ({
  kind: 'status_change',
  to: to as never,
  eventId: `e-${to}`,
  occurredAt: T0,
  source: 'chatbot',
  ...(context ? { context } : {}),
});
const base = () => ({
  ...initialState({ workspaceId: 'w', leadId: 'l', journey: 1, source: 'website', now: T0 }),
  facts: { hasEmail: true, hasPhone: false },
});

test('a triggered rule runs its actions in order and reports them', () => {
  const decision = decide(
    base(),
    change('contacted', { message_count: 12 }),
    policy([
      rule({
        conditions: { message_count: 10, time_of_day: '08:00-18:00' },
        actions: [
          { type: 'update_lead_score', config: { delta: 15 } },
          { type: 'create_task', config: { kind: 'call_back', title: 'Call within the hour' } },
          { type: 'send_notification', config: { channel: 'email', recipients: ['manager@oak.example'] } },
          { type: 'schedule_follow_up', config: { after_hours: 4 } },
        ],
      }),
    ]),
    T0,
  );
  expect(decision.actionsFired).toEqual([
    'update_lead_score',
    'create_task',
    'send_notification',
    'schedule_follow_up',
  ]);
  expect(decision.state.leadScore).toBe(15);
  expect(decision.effects.find((e) => e.kind === 'alert_staff')).toMatchObject({ reason: 'task:call_back' });
  expect(decision.effects.filter((e) => e.kind === 'notify').pop()).toMatchObject({
    recipients: { channel: 'email', to: ['manager@oak.example'] },
  });
  expect(planDeadlines(decision.state).map((d) => d.name)).toContain('rule_r1_3');
});

test('a rule whose conditions fail runs nothing; a target status moves the lead on once', () => {
  const quiet = decide(
    base(),
    change('contacted'),
    policy([rule({ conditions: { message_count: 10 } })]),
    T0,
  );
  expect(quiet.actionsFired).toBeUndefined();
  const moved = decide(
    base(),
    change('contacted'),
    policy([
      rule({ target_status: 'qualified', actions: [{ type: 'create_task', config: {} }] }),
      rule({ id: 'r2', trigger_status: 'qualified', actions: [{ type: 'create_task', config: {} }] }),
    ]),
    T0,
  );
  expect(moved.state.status).toBe('qualified');
  // The rule-driven move runs no rules of its own: no loops.
  expect(moved.actionsFired).toEqual(['create_task']);
});

test('local time comes from the zone name: 09:00 in Chicago is 15:00 UTC in winter and 14:00 UTC in summer', () => {
  // US daylight saving starts 2026-03-08 at 02:00 local.
  expect(localMinutes('2026-03-06T15:00:00Z', 'America/Chicago')).toBe(9 * 60);
  expect(localMinutes('2026-03-09T14:00:00Z', 'America/Chicago')).toBe(9 * 60);
  expect(localMinutes('2026-03-09T15:00:00Z', 'America/Chicago')).toBe(10 * 60);
  expect(localMinutes('2026-03-08T07:59:00Z', 'America/Chicago')).toBe(1 * 60 + 59);
  expect(localMinutes('2026-03-08T08:00:00Z', 'America/Chicago')).toBe(3 * 60);
  // Half-hour zones and unknown zones (UTC).
  expect(localMinutes('2026-03-09T14:00:00Z', 'Asia/Kolkata')).toBe(19 * 60 + 30);
  expect(localMinutes('2026-03-09T14:05:00Z', 'Not/AZone')).toBe(14 * 60 + 5);
});

test('a time_of_day rule reads the zone at the decision: the same local window across a DST change', () => {
  const windowed = rule({
    conditions: { time_of_day: '09:00-09:30' },
    actions: [{ type: 'create_task', config: { kind: 'morning_call' } }],
  });
  const zoned = (offset: number): JourneyPolicy => ({
    ...policy([windowed]),
    utcOffsetMinutes: offset,
    timeZone: 'America/Chicago',
  });
  const at = (iso: string) => decide(base(), { ...change('contacted'), occurredAt: iso }, zoned(-360), iso);
  // Winter (UTC-6) and summer (UTC-5): 09:10 local both times, whatever offset the run started with.
  expect(at('2026-03-06T15:10:00Z').actionsFired).toEqual(['create_task']);
  expect(at('2026-03-09T14:10:00Z').actionsFired).toEqual(['create_task']);
  expect(at('2026-03-09T15:10:00Z').actionsFired).toBeUndefined();
  // A policy from a run recorded before zones were carried keeps its fixed offset (replay stays the same).
  const { timeZone: _zone, ...fixed } = zoned(-360);
  expect(decide(base(), change('contacted'), fixed, '2026-03-09T14:10:00Z').actionsFired).toBeUndefined();
});
