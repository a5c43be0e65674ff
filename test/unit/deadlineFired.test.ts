import { decide, initialState } from '../../shared/journey/decide';
import type { JourneyPolicy, LeadEvent } from '../../shared/journey/types';
import { DEFAULT_PIPELINE } from '../../shared/lifecycle';

const policy: JourneyPolicy = { vertical: 'multifamily', pipeline: DEFAULT_PIPELINE, connectedPartners: [] };
const T0 = '2026-03-02T15:00:00.000Z';
const base = () => initialState({ workspaceId: 'w', leadId: 'l', journey: 1, source: 'website', now: T0 });
const fired = (name: string, fireAt = '2026-04-01T15:00:00.000Z'): LeadEvent => ({
  kind: 'deadline_fired',
  name,
  fireAt,
  eventId: `deadline:${name}:${fireAt}`,
  occurredAt: fireAt,
  source: 'system',
});

test('auto-lost applies lost as the system, with the deadline in the context', () => {
  const decision = decide(base(), fired('auto_lost'), policy, '2026-04-01T15:00:00.000Z');
  expect(decision.outcome).toBe('applied');
  expect(decision.state.status).toBe('lost');
  const history = decision.effects.find((e) => e.kind === 'record_history');
  expect(history).toMatchObject({
    entry: { newStatus: 'lost', source: 'system', reason: 'no activity: lost automatically' },
  });
});

test('speed-to-lead alerts staff and queues the manager escalation; the firing is remembered, not activity', () => {
  const decision = decide(
    base(),
    fired('speed_to_lead', '2026-03-02T15:15:00.000Z'),
    policy,
    '2026-03-02T15:15:00.000Z',
  );
  expect(decision.effects.map((e) => e.kind).sort()).toEqual(['alert_staff', 'notify']);
  expect(decision.effects.find((e) => e.kind === 'notify')).toMatchObject({
    audience: 'staff',
    template: 'speed_to_lead_escalation',
    priority: 'urgent',
  });
  expect(decision.state.firedDeadlines).toEqual(['speed_to_lead@2026-03-02T15:15:00.000Z']);
  expect(decision.state.updatedAt).toBe(T0);
});

test('tour reminders go to both prospect and staff; a no-show asks the prospect and opens a task', () => {
  const reminder = decide(base(), fired('tour_reminder_24h'), policy, T0);
  expect(reminder.effects.map((e) => (e.kind === 'notify' ? `${e.audience}:${e.template}` : e.kind))).toEqual(
    ['prospect:tour_reminder_24h', 'staff:tour_reminder_24h'],
  );
  const noShow = decide(base(), fired('no_show'), policy, T0);
  expect(noShow.effects.map((e) => e.kind)).toEqual(['notify', 'alert_staff']);
});

test('auto-lost on a lead already terminal records nothing', () => {
  const lost = { ...base(), status: 'lost' as const };
  const decision = decide(lost, fired('auto_lost'), policy, T0);
  expect(decision.outcome).toBe('recorded');
  expect(decision.effects).toEqual([]);
});
