import { decide, initialState } from '../../shared/journey/decide';
import { conditionsHold, isTimeWindow, type WorkflowRule } from '../../shared/journey/rules';
import { planDeadlines } from '../../shared/journey/followUps';
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
