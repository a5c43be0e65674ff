// The what-if engine on leads with known histories: inputs rebuilt from what was recorded, replayed with today's
// policy and with a candidate, and the differences reported exactly.
import { leadWorkflowId } from '../../shared/ids';
import { DEFAULT_PIPELINE, type LeadStatus } from '../../shared/lifecycle';
import {
  DEFAULT_FOLLOW_UP_POLICY,
  deadlineFiredEvent,
  deadlineOfEventId,
} from '../../shared/journey/followUps';
import type { JourneyPolicy, LeadEvent } from '../../shared/journey/types';
import {
  planTargets,
  preferencesFor,
  type NotificationPreference,
} from '../../shared/notifications/recipients';
import { mergeTotals, totalsOf } from '../../shared/whatif/diff';
import { evaluateLead, type Candidate, type LeadSetting } from '../../shared/whatif/evaluate';
import { reconstructInputs, type TimedEvent } from '../../shared/whatif/inputs';
import { causeOf, parseEffectKey, type LeadRecords } from '../../shared/whatif/records';
import { replayLead } from '../../shared/whatif/replay';

const WS = 'ws-1';
const T0 = '2026-03-02T10:00:00.000Z';
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const t = (offsetMs: number) => new Date(Date.parse(T0) + offsetMs).toISOString();
const UNTIL = t(10 * DAY);
const SLACK = 'https://hooks.slack.com/services/T000/B000/XYZW';

const policy: JourneyPolicy = {
  vertical: 'multifamily',
  pipeline: DEFAULT_PIPELINE,
  connectedPartners: ['hubspot'],
  followUps: DEFAULT_FOLLOW_UP_POLICY,
  rules: [],
  utcOffsetMinutes: 0,
};

const setting: LeadSetting = {
  policy,
  preferences: [],
  channels: { configured: new Set(['email', 'slack']), defaultSlackWebhookUrl: SLACK },
  feeTerms: (partner) =>
    partner === 'apfm'
      ? { source: 'terms', terms: { fee_type: 'flat', amount: 3000, currency: 'USD' } }
      : undefined,
};

let leadNumber = 0;

interface Story {
  leadId: string;
  source: string;
  inputs: TimedEvent[];
  inbox?: LeadRecords['inbox'];
  conversions?: LeadRecords['conversions'];
}

/**
 * What the worker would have recorded for these inputs under `recordedWith`: the journey's history rows, notices
 * and their deliveries, pushes, tasks and fees, written as recordJourneyChange and prepareNotification write them.
 */
function recorded(story: Story, recordedWith: LeadSetting = setting): LeadRecords {
  const lead = {
    workspaceId: WS,
    leadId: story.leadId,
    propertyId: 'oak',
    source: story.source,
    facts: { hasEmail: true, hasPhone: false },
    zone: 'UTC',
  };
  const trace = replayLead(lead, story.inputs, recordedWith.policy, UNTIL);
  const records: LeadRecords = {
    workspaceId: WS,
    leadId: story.leadId,
    propertyId: 'oak',
    source: trace.final!.source,
    journey: trace.final!.journey,
    status: trace.final!.status,
    nextFollowUpAt: trace.pending[0]?.fireAt ?? null,
    email: 'dana@example.com',
    phone: null,
    emailOptedOut: false,
    customData: {},
    zone: 'UTC',
    journeySources: {},
    history: [],
    inbox: story.inbox ?? [],
    conversions: story.conversions ?? [],
    notifications: [],
    deliveries: [],
    syncs: [],
    tasks: [],
    fees: [],
  };
  for (const { at, decision } of trace.steps) {
    for (const effect of decision.effects) {
      if (effect.kind === 'record_history') {
        const e = effect.entry;
        records.history.push({
          key: effect.key,
          journey: decision.state.journey,
          seq: e.seq,
          type: e.type,
          oldStatus: e.oldStatus,
          newStatus: e.newStatus,
          reason: e.reason ?? null,
          source: e.source,
          actor: e.actor ?? null,
          context: e.context ?? {},
          eventId: e.eventId,
          at,
        });
        if (e.type === 'applied' && e.newStatus === 'placed' && decision.state.source === 'apfm') {
          records.fees.push({
            journey: decision.state.journey,
            partner: 'apfm',
            wonStatus: 'placed',
            amount: 3000,
            currency: 'USD',
          });
        }
      } else if (effect.kind === 'notify') {
        records.notifications.push({
          key: effect.key,
          audience: effect.audience,
          template: effect.template,
          data: effect.data,
        });
        const preferences = effect.recipients
          ? []
          : preferencesFor(recordedWith.preferences, effect.topic, 'oak');
        for (const target of planTargets(effect, records, preferences, recordedWith.channels)) {
          records.deliveries.push({
            notificationKey: effect.key,
            channel: target.channel,
            audience: target.audience,
            recipient: target.recipient,
            template: target.template,
          });
        }
      } else if (effect.kind === 'push_partner') {
        records.syncs.push({ key: effect.key, partner: effect.partner, status: effect.status });
      } else if (effect.kind === 'alert_staff') {
        records.tasks.push({ key: effect.key, kind: effect.reason });
      }
    }
  }
  return records;
}

const inquiry = (eventId: string, at: string, source: LeadEvent['source'] = 'api', channel = 'website') =>
  ({
    at,
    event: { kind: 'inquiry', eventId, occurredAt: at, source, channel, facts: { hasEmail: true } },
  }) as TimedEvent;
const change = (eventId: string, at: string, to: LeadStatus, extra: Partial<LeadEvent> = {}) =>
  ({
    at,
    event: { kind: 'status_change', eventId, occurredAt: at, source: 'staff', to, ...extra },
  }) as TimedEvent;

/**
 * Dana's lead: an API inquiry, contacted by staff five minutes later, a tour booked through Calendly an hour in
 * (for three days later), a conversion logged at two hours. Inbox and conversion rows are what ingest and the API
 * stored; the rest is the journey's record.
 */
function danasLead(): Story {
  leadNumber += 1;
  const leadId = `lead-${leadNumber}`;
  const tourAt = t(3 * DAY);
  return {
    leadId,
    source: 'website',
    inputs: [
      inquiry(`api:${leadId}`, T0),
      change(`status:${leadId}`, t(5 * MINUTE), 'contacted'),
      {
        at: t(HOUR),
        event: {
          kind: 'tour_booked',
          tourAt,
          eventId: `inbox/ib-${leadId}/1`,
          occurredAt: t(HOUR),
          source: 'partner:calendly',
        },
      },
      {
        at: t(2 * HOUR),
        event: {
          kind: 'conversion',
          eventId: `conversion:c-${leadId}`,
          occurredAt: t(2 * HOUR),
          source: 'api',
          actor: 'agent-7',
          conversionId: `c-${leadId}`,
          conversionType: 'tour',
        },
      },
    ],
    inbox: [
      {
        id: `ib-${leadId}`,
        partner: 'calendly',
        status: 'delivered',
        normalized: {
          partnerEventId: 'cal-1',
          eventType: 'invitee.created',
          occurredAt: t(HOUR),
          lead: { find: [{ by: 'email', email: 'dana@example.com' }] },
          events: [{ kind: 'tour_booked', tourAt }],
        },
        receivedAt: t(HOUR - 200),
        // The inbox row is marked after the signal: later than the journey decided it.
        deliveredAt: t(HOUR + 150),
      },
    ],
    conversions: [
      {
        id: `c-${leadId}`,
        type: 'tour',
        value: null,
        convertedBy: 'agent-7',
        convertedAt: t(2 * HOUR),
        createdAt: t(2 * HOUR),
      },
    ],
  };
}

/** A candidate rule for every property, active, without conditions. */
const rule = (fields: Partial<NonNullable<Candidate['rule']>>): NonNullable<Candidate['rule']> => ({
  property_id: null,
  trigger_status: 'contacted',
  target_status: null,
  conditions: {},
  actions: [],
  is_active: true,
  ...fields,
});

const evaluate = (lead: LeadRecords, candidate: Candidate, withSetting: LeadSetting = setting) =>
  evaluateLead(lead, withSetting, candidate, UNTIL, true);

describe('inputs rebuilt from the record', () => {
  test('the inquiry and staff change come from history rows, the tour from the inbox, the conversion from its row', () => {
    const story = danasLead();
    const { inputs, gaps, source } = reconstructInputs(recorded(story), UNTIL);
    expect(gaps).toEqual([]);
    expect(source).toBe('website');
    expect(inputs.map((i) => [i.at, i.event.kind, i.event.eventId])).toEqual([
      [T0, 'inquiry', `api:${story.leadId}`],
      [t(5 * MINUTE), 'status_change', `status:${story.leadId}`],
      // The history row's time, not the inbox row's: the journey decided it then.
      [t(HOUR), 'tour_booked', `inbox/ib-${story.leadId}/1`],
      // No history row: the time it was logged.
      [t(2 * HOUR), 'conversion', `conversion:c-${story.leadId}`],
    ]);
    const staff = inputs[1]!.event;
    expect(staff).toMatchObject({ kind: 'status_change', to: 'contacted', source: 'staff' });
    expect(staff).not.toHaveProperty('triggerNotifications');
  });

  test('a staff change that notified nobody is rebuilt silent, and its tour time comes from its notice', () => {
    leadNumber += 1;
    const leadId = `lead-${leadNumber}`;
    const tourAt = t(2 * DAY);
    const story: Story = {
      leadId,
      source: 'website',
      inputs: [
        inquiry(`api:${leadId}`, T0),
        change(`s1:${leadId}`, t(MINUTE), 'contacted', { triggerNotifications: false } as Partial<LeadEvent>),
        change(`s2:${leadId}`, t(2 * MINUTE), 'tour_scheduled', { facts: { tourAt } } as Partial<LeadEvent>),
      ],
    };
    const { inputs, gaps } = reconstructInputs(recorded(story), UNTIL);
    expect(gaps).toEqual([]);
    expect(inputs[1]!.event).toMatchObject({ to: 'contacted', triggerNotifications: false });
    expect(inputs[2]!.event).toMatchObject({ to: 'tour_scheduled', facts: { tourAt } });
  });

  test('history an unrecorded input wrote is named as a gap', () => {
    const story = danasLead();
    const lead = recorded(story);
    lead.history.push({
      ...lead.history[0]!,
      key: 'imported',
      seq: 99,
      type: 'skipped',
      oldStatus: 'tour_scheduled',
      newStatus: 'toured',
      eventId: 'import:row-7',
    });
    expect(reconstructInputs(lead, UNTIL).gaps).toEqual([
      'event import:row-7 wrote a skipped row but is not recorded as an input',
    ]);
  });

  test('inputs after the end of the window are left out', () => {
    const { inputs } = reconstructInputs(recorded(danasLead()), t(90 * MINUTE));
    expect(inputs.map((i) => i.event.kind)).toEqual(['inquiry', 'status_change', 'tour_booked']);
  });
});

describe('replay', () => {
  test('follow-ups fire at their own times between inputs, and the next ones stay ahead', () => {
    const story = danasLead();
    const trace = replayLead(
      {
        workspaceId: WS,
        leadId: story.leadId,
        propertyId: 'oak',
        source: 'website',
        facts: { hasEmail: true, hasPhone: false },
        zone: 'UTC',
      },
      story.inputs,
      policy,
      UNTIL,
    );
    const fired = trace.steps.filter((s) => s.event.kind === 'deadline_fired').map((s) => [s.at, s.event]);
    expect(fired.map(([at, e]) => [at, (e as { name: string }).name])).toEqual([
      [t(2 * DAY), 'tour_reminder_24h'],
      [t(3 * DAY - 2 * HOUR), 'tour_reminder_2h'],
      [t(3 * DAY + 2 * HOUR), 'post_tour'],
      [t(4 * DAY), 'no_show'],
      // Seven days after the last activity (the conversion).
      [t(7 * DAY + 2 * HOUR), 'stale'],
    ]);
    expect(trace.pending).toEqual([{ name: 'auto_lost', fireAt: t(30 * DAY + 2 * HOUR) }]);
  });

  test('an inquiry after a terminal status opens the next journey, attributed to its source', () => {
    leadNumber += 1;
    const leadId = `lead-${leadNumber}`;
    const trace = replayLead(
      {
        workspaceId: WS,
        leadId,
        propertyId: 'oak',
        source: 'website',
        facts: { hasEmail: true, hasPhone: false },
        zone: 'UTC',
      },
      [inquiry('a', T0), change('b', t(MINUTE), 'lost'), inquiry('c', t(HOUR), 'partner:apfm', 'apfm')],
      policy,
      // Before the new journey's speed-to-lead (15 minutes after it opened).
      t(HOUR + 10 * MINUTE),
    );
    expect(trace.final).toMatchObject({
      journey: 2,
      status: 'new',
      source: 'apfm',
      seenEventIds: ['a', 'b', 'c'],
    });
  });
});

describe('what would differ', () => {
  test('a fully recorded lead replays to its record, and an empty candidate changes nothing', () => {
    const lead = recorded(danasLead());
    // A task a partner's answer opened is keyed after its push, but it is no decision of the journey.
    lead.tasks.push({
      key: `${lead.syncs[0]!.key}:task:partner_write_ignored`,
      kind: 'partner_write_ignored',
    });
    const { result } = evaluate(lead, { followUps: {} });
    expect(result).toMatchObject({
      changed: false,
      inputs: { events: 4, complete: true, gaps: [] },
      baseline_matches_recorded: true,
      differences: {},
      final_status: { baseline: 'tour_scheduled', candidate: 'tour_scheduled' },
    });
    expect(result).not.toHaveProperty('recorded_mismatches');
  });

  test('a rule on contacted adds its email and task, caused by the staff change', () => {
    const lead = recorded(danasLead());
    const { result } = evaluate(lead, {
      rule: rule({
        actions: [
          { type: 'send_notification', config: { channel: 'email', recipients: ['manager@example.com'] } },
          { type: 'create_task', config: { kind: 'call_back' } },
        ],
      }),
    });
    const cause = `status:${lead.leadId}`;
    expect(result.differences).toEqual({
      notifications: {
        added: [
          {
            journey: 1,
            cause,
            audience: 'staff',
            template: 'status_changed',
            channel: 'email',
            recipient: 'manager@example.com',
          },
        ],
        removed: [],
      },
      tasks: { added: [{ journey: 1, cause, kind: 'task:call_back' }], removed: [] },
    });
    expect(result.baseline_matches_recorded).toBe(true);
  });

  test('a rule for another property changes nothing for this lead', () => {
    const { result } = evaluate(recorded(danasLead()), {
      rule: rule({ property_id: 'elm', actions: [{ type: 'create_task', config: {} }] }),
    });
    expect(result.differences).toEqual({});
  });

  test('a rule that moves contacted leads on to qualified changes the trail, the pushes and the next stages', () => {
    const lead = recorded(danasLead());
    const { result } = evaluate(lead, {
      rule: rule({
        target_status: 'qualified',
        actions: [{ type: 'update_lead_score', config: { delta: 10 } }],
      }),
    });
    const cause = `status:${lead.leadId}`;
    expect(result.differences.statuses).toEqual({
      baseline: [
        'j1 applied ∅→new (api)',
        'j1 applied new→contacted (staff)',
        'j1 applied contacted→tour_scheduled (partner:calendly)',
      ],
      candidate: [
        'j1 applied ∅→new (api)',
        'j1 applied new→contacted (staff)',
        'j1 applied contacted→qualified (staff)',
        'j1 applied qualified→tour_scheduled (partner:calendly)',
      ],
    });
    expect(result.differences.pushes).toEqual({
      added: [{ journey: 1, cause, partner: 'hubspot', status: 'qualified' }],
      removed: [],
    });
    expect(result.differences.notifications).toEqual({
      // The tour booked now moves from qualified: seed 001's own template for that move replaces the generic one.
      added: [
        {
          journey: 1,
          cause,
          audience: 'staff',
          template: 'contacted_to_qualified',
          channel: 'slack',
          recipient: 'default',
        },
        {
          journey: 1,
          cause: `inbox/ib-${lead.leadId}/1`,
          audience: 'staff',
          template: 'qualified_to_tour_scheduled',
          channel: 'slack',
          recipient: 'default',
        },
      ],
      removed: [
        {
          journey: 1,
          cause: `inbox/ib-${lead.leadId}/1`,
          audience: 'staff',
          template: 'status_changed',
          channel: 'slack',
          recipient: 'default',
        },
      ],
    });
    expect(result.differences).not.toHaveProperty('final_status');
  });

  test('a shorter stale policy moves the nudge earlier; the nudge itself is the same', () => {
    const { result } = evaluate(recorded(danasLead()), { followUps: { staleDays: 3 } });
    expect(result.differences).toEqual({
      follow_ups: {
        added: [],
        removed: [],
        moved: [
          {
            journey: 1,
            name: 'stale',
            baseline: { fire_at: t(7 * DAY + 2 * HOUR), fired: true },
            candidate: { fire_at: t(3 * DAY + 2 * HOUR), fired: true },
          },
        ],
      },
    });
  });

  test('a preference for tour_scheduled emails the agent instead of the default Slack channel', () => {
    const lead = recorded(danasLead());
    const preference: NotificationPreference = {
      property_id: 'oak',
      status_type: 'tour_scheduled',
      notification_method: 'email',
      recipients: ['agent@example.com'],
      template_id: null,
      is_active: true,
    };
    const { result } = evaluate(lead, { preference });
    const base = {
      journey: 1,
      cause: `inbox/ib-${lead.leadId}/1`,
      audience: 'staff',
      template: 'status_changed',
    };
    expect(result.differences).toEqual({
      notifications: {
        added: [{ ...base, channel: 'email', recipient: 'agent@example.com' }],
        removed: [{ ...base, channel: 'slack', recipient: 'default' }],
      },
    });
  });

  test('a record that lacks a delivery the baseline plans is reported as where they part', () => {
    const lead = recorded(danasLead());
    const workflowId = leadWorkflowId(WS, lead.leadId);
    const reminder = lead.notifications.find((n) => n.key.endsWith(':notify:prospect:tour_reminder_24h'))!;
    lead.deliveries = lead.deliveries.filter((d) => d.notificationKey !== reminder.key);
    const { result } = evaluate(lead, { followUps: {} });
    expect(result.baseline_matches_recorded).toBe(false);
    const cause = causeOf(parseEffectKey(reminder.key, workflowId)!.eventId);
    expect(cause).toBe('deadline:tour_reminder_24h');
    expect(result.recorded_mismatches).toEqual({
      notifications: {
        added: [
          {
            journey: 1,
            cause,
            audience: 'prospect',
            template: 'tour_reminder_24h',
            channel: 'email',
            recipient: 'prospect',
          },
        ],
        removed: [
          {
            journey: 1,
            cause,
            audience: 'prospect',
            template: 'tour_reminder_24h',
            channel: null,
            recipient: null,
          },
        ],
      },
    });
    // The candidate's differences are measured from the baseline, not the record.
    expect(result.differences).toEqual({});
  });

  test("a referral partner's placed lead owes its fee; a candidate that moves it to lost removes the fee", () => {
    leadNumber += 1;
    const leadId = `lead-${leadNumber}`;
    const senior: LeadSetting = {
      ...setting,
      policy: { ...policy, vertical: 'senior_living', connectedPartners: [] },
    };
    const story: Story = {
      leadId,
      source: 'apfm',
      inputs: [
        inquiry(`inbox/r-${leadId}/0`, T0, 'partner:apfm', 'apfm'),
        change(`s1:${leadId}`, t(HOUR), 'contacted'),
        change(`s2:${leadId}`, t(2 * HOUR), 'qualified'),
        change(`s3:${leadId}`, t(3 * HOUR), 'application'),
        change(`s4:${leadId}`, t(4 * HOUR), 'placed'),
      ],
      inbox: [
        {
          id: `r-${leadId}`,
          partner: 'apfm',
          status: 'delivered',
          normalized: {
            partnerEventId: 'ref-1',
            eventType: 'referral.created',
            occurredAt: T0,
            lead: { create: { email: 'dana@example.com' } },
            events: [],
          },
          receivedAt: T0,
          deliveredAt: t(100),
        },
      ],
    };
    const lead = recorded(story, senior);
    expect(lead.fees).toHaveLength(1);
    const evaluated = evaluate(
      lead,
      { rule: rule({ trigger_status: 'application', target_status: 'lost', actions: [] }) },
      senior,
    );
    const { result } = evaluated;
    expect(result.baseline_matches_recorded).toBe(true);
    expect(result.differences.final_status).toEqual({ baseline: 'placed', candidate: 'lost' });
    expect(result.differences.fees).toEqual({
      added: [],
      removed: [{ journey: 1, partner: 'apfm', won_status: 'placed', amount: 3000, currency: 'USD' }],
      changed: [],
    });
    const one = totalsOf({
      ...evaluated,
      differences: evaluated.result.differences,
      matchesRecorded: evaluated.result.baseline_matches_recorded,
      inputsComplete: true,
    });
    expect(mergeTotals(one, one)).toMatchObject({
      leads: 2,
      leads_changed: 2,
      baseline_matches_recorded: 2,
      final_status: { changed: 2, baseline: { placed: 2 }, candidate: { lost: 2 } },
      fees: { added: 0, removed: 2, changed: 0, amount_delta: { USD: -6000 } },
    });
  });

  test("the checkout's reducer is compared with the record itself", () => {
    const lead = recorded(danasLead());
    const same = evaluate(lead, { reducer: true }).result;
    expect(same).toMatchObject({ changed: false, baseline_matches_recorded: null, differences: {} });
    // A record written by another reducer (here: one that never pushed to HubSpot) differs where it did.
    lead.syncs = [];
    const other = evaluate(lead, { reducer: true }).result;
    expect(other.changed).toBe(true);
    expect(other.differences.pushes?.added.map((p) => p.status)).toEqual([
      'new',
      'contacted',
      'tour_scheduled',
    ]);
  });
});

describe('keys', () => {
  test('effect keys are read back whatever colons the event id holds', () => {
    const workflowId = leadWorkflowId(WS, 'lead-x');
    const fired = deadlineFiredEvent({ name: 'stale', fireAt: t(7 * DAY) }, t(7 * DAY));
    expect(deadlineOfEventId(fired.eventId)).toEqual({ name: 'stale', fireAt: t(7 * DAY) });
    expect(
      parseEffectKey(`${workflowId}:j2:${fired.eventId}:notify:staff:stale_lead_nudge`, workflowId),
    ).toEqual({
      journey: 2,
      eventId: fired.eventId,
      kind: 'notify',
      target: 'staff:stale_lead_nudge',
    });
    expect(parseEffectKey(`${workflowId}:j1:rule:abc:0:alert_staff:rule:x:1`, workflowId)).toMatchObject({
      eventId: 'rule:abc:0',
      kind: 'alert_staff',
    });
    expect(parseEffectKey('refused:lead-x:req-1', workflowId)).toBeUndefined();
    expect(causeOf(fired.eventId)).toBe('deadline:stale');
  });
});
