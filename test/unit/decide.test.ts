import {
  SEEN_EVENT_IDS_LIMIT,
  decide,
  initialState,
  leadSourceLabel,
  validateStatusChange,
  view,
} from '../../shared/journey/decide';
import type {
  Decision,
  Effect,
  EventBase,
  HistoryEntry,
  JourneyPolicy,
  JourneyState,
  LeadEvent,
  LeadEventBody,
} from '../../shared/journey/types';
import {
  DEFAULT_PIPELINE,
  DEFAULT_TRANSITIONS,
  PARTNERS,
  STATUSES,
  allowedNext,
  fromCanonical,
  partnerValues,
  statusAvailable,
  type LeadStatus,
  type PartnerName,
  type Pipeline,
} from '../../shared/lifecycle';

const T0 = '2025-03-01T10:00:00.000Z';
const NOW = '2025-03-01T12:00:00.000Z';
const WF = 'lead/ws-1/lead-1';

function policyOf(overrides: Partial<JourneyPolicy> = {}): JourneyPolicy {
  return { vertical: 'multifamily', pipeline: DEFAULT_PIPELINE, connectedPartners: [], ...overrides };
}

let nextEventNumber = 0;
function event(body: LeadEventBody, base: Partial<EventBase> = {}): LeadEvent {
  nextEventNumber += 1;
  return {
    eventId: `evt-${nextEventNumber}`,
    occurredAt: T0,
    source: 'staff',
    ...base,
    ...body,
  } as LeadEvent;
}

function fresh(overrides: Partial<Parameters<typeof initialState>[0]> = {}): JourneyState {
  return initialState({
    workspaceId: 'ws-1',
    leadId: 'lead-1',
    journey: 1,
    source: 'webform',
    now: T0,
    ...overrides,
  });
}

/** A journey already under way (its first event seen) at the given status. */
function at(status: LeadStatus, overrides: Partial<JourneyState> = {}): JourneyState {
  const state = fresh();
  return {
    ...state,
    status,
    seq: 5,
    seenEventIds: ['evt-0'],
    counters: { ...state.counters, events: 1 },
    facts: { hasEmail: true, hasPhone: true },
    ...overrides,
  };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

const history = (decision: Decision): HistoryEntry[] =>
  decision.effects.flatMap((effect) => (effect.kind === 'record_history' ? [effect.entry] : []));
const ofKind = <K extends Effect['kind']>(decision: Decision, kind: K) =>
  decision.effects.filter((effect): effect is Extract<Effect, { kind: K }> => effect.kind === kind);
const pushes = (decision: Decision) =>
  ofKind(decision, 'push_partner').map(({ partner, status, value }) => ({ partner, status, value }));
const webhookTypes = (decision: Decision) =>
  ofKind(decision, 'emit_webhook').map((effect) => effect.eventType);

describe('initialState', () => {
  test('opens a journey at new, seq 1, with the source as the only source and nothing counted', () => {
    const state = fresh();
    expect(state).toEqual({
      workspaceId: 'ws-1',
      leadId: 'lead-1',
      journey: 1,
      status: 'new',
      statusChangedAt: T0,
      createdAt: T0,
      updatedAt: T0,
      source: 'webform',
      sources: ['webform'],
      facts: { hasEmail: false, hasPhone: false },
      smsOptedOut: false,
      lastPushed: {},
      seenEventIds: [],
      seq: 1,
      counters: { events: 0, calls: 0, notes: 0, conversions: 0, tours: 0 },
    });
    expect('propertyId' in state).toBe(false);
  });

  test('keeps the property and the facts it is given', () => {
    const state = fresh({ propertyId: 'prop-9', journey: 3, facts: { hasEmail: true } });
    expect(state.propertyId).toBe('prop-9');
    expect(state.journey).toBe(3);
    expect(state.facts).toEqual({ hasEmail: true, hasPhone: false });
  });
});

describe('decide: every event', () => {
  test('ignores a repeated event id: same state object, no effects', () => {
    const state = at('contacted', { seenEventIds: ['evt-dup'] });
    const decision = decide(
      state,
      event({ kind: 'note', noteId: 'n1' }, { eventId: 'evt-dup' }),
      policyOf(),
      NOW,
    );
    expect(decision.outcome).toBe('duplicate');
    expect(decision.state).toBe(state);
    expect(decision.effects).toEqual([]);
  });

  test('remembers the id, counts the event and stamps updatedAt', () => {
    const state = at('contacted');
    const decision = decide(
      state,
      event({ kind: 'note', noteId: 'n1' }, { eventId: 'evt-a' }),
      policyOf(),
      NOW,
    );
    expect(decision.state.seenEventIds).toEqual(['evt-0', 'evt-a']);
    expect(decision.state.counters.events).toBe(2);
    expect(decision.state.updatedAt).toBe(NOW);
  });

  test(`keeps only the last ${SEEN_EVENT_IDS_LIMIT} event ids, dropping the oldest`, () => {
    const ids = Array.from({ length: SEEN_EVENT_IDS_LIMIT }, (_, i) => `old-${i}`);
    const decision = decide(
      at('new', { seenEventIds: ids }),
      event({ kind: 'sms_opt_out' }, { eventId: 'newest' }),
      policyOf(),
      NOW,
    );
    expect(decision.state.seenEventIds).toHaveLength(SEEN_EVENT_IDS_LIMIT);
    expect(decision.state.seenEventIds[0]).toBe('old-1');
    expect(decision.state.seenEventIds.at(-1)).toBe('newest');
  });

  test('never mutates the state it is given', () => {
    const state = deepFreeze(
      at('tour_scheduled', { facts: { hasEmail: true, hasPhone: false, tourAt: T0 } }),
    );
    const events: LeadEventBody[] = [
      { kind: 'status_change', to: 'toured' },
      { kind: 'partner_status', partner: 'resman', value: 'leased' },
      { kind: 'tour_booked', tourAt: NOW },
      { kind: 'tour_cancelled' },
      { kind: 'call', callId: 'c', direction: 'inbound', answered: true },
      { kind: 'inquiry', channel: 'zillow', facts: { hasPhone: true } },
      { kind: 'facts_changed', facts: { hasPhone: true } },
      { kind: 'sms_opt_out' },
    ];
    for (const body of events) {
      expect(() =>
        decide(state, event(body), policyOf({ connectedPartners: ['hubspot'] }), NOW),
      ).not.toThrow();
    }
    expect(state.status).toBe('tour_scheduled');
    expect(state.counters.events).toBe(1);
  });

  test('gives history entries consecutive seq from the state and advances it', () => {
    const decision = decide(
      at('new', { seq: 7 }),
      event({ kind: 'partner_status', partner: 'resman', value: 'toured' }, { source: 'partner:resman' }),
      policyOf(),
      NOW,
    );
    expect(history(decision).map((entry) => entry.seq)).toEqual([7, 8, 9, 10]);
    expect(decision.state.seq).toBe(11);
  });

  test('builds every effect key from the workflow id, journey, event, kind and target', () => {
    const decision = decide(
      at('application', { journey: 2, seq: 12 }),
      event({ kind: 'status_change', to: 'leased' }, { eventId: 'evt-k' }),
      policyOf({ connectedPartners: ['resman'] }),
      NOW,
    );
    expect(decision.effects.map((effect) => effect.key)).toEqual([
      `${WF}:j2:evt-k:record_history:12`,
      `${WF}:j2:evt-k:push_partner:resman`,
      `${WF}:j2:evt-k:emit_webhook:lead.status_changed`,
      `${WF}:j2:evt-k:notify:staff:leased`,
    ]);
  });

  test('history rows copy the event id, source and actor, inbound, at now', () => {
    const decision = decide(
      at('contacted'),
      event(
        { kind: 'status_change', to: 'qualified', reason: 'budget ok' },
        { eventId: 'e-1', actor: 'agent-7' },
      ),
      policyOf(),
      NOW,
    );
    expect(history(decision)).toEqual([
      {
        type: 'applied',
        seq: 5,
        eventId: 'e-1',
        oldStatus: 'contacted',
        newStatus: 'qualified',
        reason: 'budget ok',
        source: 'staff',
        actor: 'agent-7',
        direction: 'inbound',
        at: NOW,
      },
    ]);
  });
});

describe('decide: inquiry', () => {
  test('a new lead is pushed to the partner it came from only when that partner did not send it itself', () => {
    const policy = policyOf({ connectedPartners: ['resman', 'hubspot'] });
    const inquiry = (base: Partial<EventBase>) =>
      event({ kind: 'inquiry', channel: 'resman' }, { eventId: 'e-in', source: 'partner:resman', ...base });
    // Delivered by ingest (ResMan's signature verified): ResMan has it already.
    expect(pushes(decide(fresh(), inquiry({}), policy, NOW)).map((p) => p.partner)).toEqual(['hubspot']);
    // An API caller's `source: resman` label: ResMan gets the lead like every connected partner.
    const claimed = decide(fresh(), inquiry({ sourceUnproven: true }), policy, NOW);
    expect(pushes(claimed).map((p) => p.partner)).toEqual(['resman', 'hubspot']);
  });

  test('the first inquiry opens the journey: applied ∅ → new and lead.created', () => {
    const decision = decide(
      fresh(),
      event(
        { kind: 'inquiry', propertyId: 'prop-1', channel: 'website' },
        { eventId: 'e-in', source: 'api' },
      ),
      policyOf(),
      NOW,
    );
    expect(decision.outcome).toBe('applied');
    expect(history(decision)).toEqual([
      expect.objectContaining({
        type: 'applied',
        seq: 1,
        oldStatus: null,
        newStatus: 'new',
        reason: 'inquiry',
      }),
    ]);
    expect(ofKind(decision, 'emit_webhook')).toEqual([
      {
        kind: 'emit_webhook',
        key: `${WF}:j1:e-in:emit_webhook:lead.created`,
        eventType: 'lead.created',
        data: {
          lead_id: 'lead-1',
          workspace_id: 'ws-1',
          property_id: 'prop-1',
          status: 'new',
          source: 'webform',
          occurred_at: NOW,
        },
      },
    ]);
    expect(decision.state.status).toBe('new');
    expect(decision.state.propertyId).toBe('prop-1');
  });

  test('the first inquiry pushes `new` to every connected partner but its origin', () => {
    const decision = decide(
      fresh(),
      event({ kind: 'inquiry' }, { source: 'partner:salesforce' }),
      policyOf({ connectedPartners: ['hubspot', 'salesforce', 'gohighlevel'] }),
      NOW,
    );
    // GoHighLevel has no default word for `new`: the push goes with none, for its integration's stage map.
    expect(pushes(decision)).toEqual([
      { partner: 'hubspot', status: 'new', value: 'NEW' },
      { partner: 'gohighlevel', status: 'new', value: undefined },
    ]);
    const again = decide(
      decision.state,
      event({ kind: 'inquiry' }, { eventId: 'evt-2' }),
      policyOf({ connectedPartners: ['hubspot'] }),
      NOW,
    );
    expect(pushes(again)).toEqual([]);
  });

  test('a later inquiry is recorded: adds the new source once and merges facts, no effects', () => {
    const state = at('contacted', { sources: ['webform'], facts: { hasEmail: true, hasPhone: false } });
    const first = decide(
      state,
      event({ kind: 'inquiry', channel: 'zillow', facts: { hasPhone: true } }, { source: 'api' }),
      policyOf(),
      NOW,
    );
    expect(first.outcome).toBe('recorded');
    expect(first.effects).toEqual([]);
    expect(first.state.sources).toEqual(['webform', 'zillow']);
    expect(first.state.source).toBe('webform');
    expect(first.state.facts).toEqual({ hasEmail: true, hasPhone: true });
    const again = decide(
      first.state,
      event({ kind: 'inquiry', channel: 'zillow' }, { source: 'api' }),
      policyOf(),
      NOW,
    );
    expect(again.state.sources).toEqual(['webform', 'zillow']);
  });

  test('a partner inquiry is attributed to the partner, not its channel', () => {
    const decision = decide(
      at('new'),
      event({ kind: 'inquiry', channel: 'phone' }, { source: 'partner:apfm' }),
      policyOf(),
      NOW,
    );
    expect(decision.state.sources).toEqual(['webform', 'apfm']);
  });

  test('sets the property only when the lead has none', () => {
    const withProperty = decide(
      at('new', { propertyId: 'prop-1' }),
      event({ kind: 'inquiry', propertyId: 'prop-2' }),
      policyOf(),
      NOW,
    );
    expect(withProperty.state.propertyId).toBe('prop-1');
    const without = decide(at('new'), event({ kind: 'inquiry', propertyId: 'prop-2' }), policyOf(), NOW);
    expect(without.state.propertyId).toBe('prop-2');
  });

  test.each(['leased', 'lost'] as const)(
    'an inquiry after %s asks for a new journey without remembering it',
    (status) => {
      const state = at(status);
      const decision = decide(state, event({ kind: 'inquiry' }, { eventId: 'e-back' }), policyOf(), NOW);
      expect(decision.outcome).toBe('new_journey');
      expect(decision.state).toBe(state);
      expect(decision.effects).toEqual([]);
      expect(decision.state.seenEventIds).not.toContain('e-back');
    },
  );

  test('a repeated inquiry after the end is still a duplicate, not a new journey', () => {
    const decision = decide(
      at('lost', { seenEventIds: ['e-1'] }),
      event({ kind: 'inquiry' }, { eventId: 'e-1' }),
      policyOf(),
      NOW,
    );
    expect(decision.outcome).toBe('duplicate');
  });
});

describe('decide: partner_status', () => {
  const fromResman = (
    value: string,
    extra: Partial<Extract<LeadEventBody, { kind: 'partner_status' }>> = {},
  ) => event({ kind: 'partner_status', partner: 'resman', value, ...extra }, { source: 'partner:resman' });

  test('refuses an unknown partner value with the values the partner may send', () => {
    const decision = decide(at('contacted'), fromResman('moved_out'), policyOf(), NOW);
    expect(decision.outcome).toBe('refused');
    expect(decision.refusal).toEqual({
      code: 'unknown_partner_value',
      message: expect.stringContaining('moved_out'),
      details: { partner: 'resman', value: 'moved_out', allowed: partnerValues('resman') },
    });
    expect(history(decision)).toEqual([
      expect.objectContaining({
        type: 'refused',
        oldStatus: 'contacted',
        newStatus: 'contacted',
        context: { partner: 'resman', value: 'moved_out' },
      }),
    ]);
    expect(decision.effects).toHaveLength(1);
    expect(decision.state.status).toBe('contacted');
  });

  test('takes the status we just pushed, echoed back, as an acknowledgement', () => {
    const decision = decide(
      at('toured', { lastPushed: { resman: 'toured' } }),
      fromResman('toured'),
      policyOf({ connectedPartners: ['resman', 'hubspot'] }),
      NOW,
    );
    expect(decision.outcome).toBe('echo');
    expect(decision.effects).toEqual([]);
    expect(decision.state.status).toBe('toured');
    expect(decision.state.counters.events).toBe(2);
  });

  test('an acknowledgement in the partner’s own alias is still an echo', () => {
    const decision = decide(
      at('application', { lastPushed: { resman: 'application' } }),
      fromResman('applicant'),
      policyOf(),
      NOW,
    );
    expect(decision.outcome).toBe('echo');
  });

  test('a report of the current status changes nothing', () => {
    const decision = decide(
      at('toured'),
      fromResman('toured'),
      policyOf({ connectedPartners: ['hubspot'] }),
      NOW,
    );
    expect(decision.outcome).toBe('unchanged');
    expect(decision.effects).toEqual([]);
  });

  test('refuses a status outside the workspace pipeline and records the refusal', () => {
    const pipeline: Pipeline = {
      statuses: ['new', 'contacted', 'qualified', 'application', 'leased', 'lost'],
      transitions: DEFAULT_TRANSITIONS,
    };
    const decision = decide(at('contacted'), fromResman('toured'), policyOf({ pipeline }), NOW);
    expect(decision.outcome).toBe('refused');
    expect(decision.refusal?.code).toBe('status_not_available');
    expect(decision.refusal?.details).toEqual({
      status: 'toured',
      allowed: ['new', 'contacted', 'qualified', 'application', 'leased', 'lost'],
    });
    expect(history(decision)).toEqual([
      expect.objectContaining({ type: 'refused', oldStatus: 'contacted', newStatus: 'toured' }),
    ]);
    expect(decision.state.status).toBe('contacted');
  });

  test('a report against a terminal status is a conflict that alerts staff', () => {
    const decision = decide(
      at('lost'),
      fromResman('toured'),
      policyOf({ connectedPartners: ['hubspot'] }),
      NOW,
    );
    expect(decision.outcome).toBe('conflict');
    expect(decision.state.status).toBe('lost');
    expect(history(decision)).toEqual([
      expect.objectContaining({ type: 'conflict', oldStatus: 'lost', newStatus: 'toured' }),
    ]);
    expect(ofKind(decision, 'alert_staff')).toHaveLength(1);
    expect(pushes(decision)).toEqual([]);
  });

  test('applies an allowed move and pushes it to every other connected partner in its own words', () => {
    const decision = decide(
      at('contacted'),
      fromResman('qualified', { reason: 'screened' }),
      policyOf({ connectedPartners: ['resman', 'hubspot', 'chatbot', 'salesforce'] }),
      NOW,
    );
    expect(decision.outcome).toBe('applied');
    expect(decision.state.status).toBe('qualified');
    expect(decision.state.statusChangedAt).toBe(NOW);
    // resman is where the change came from; salesforce has no default word for qualified (its config may map one).
    expect(pushes(decision)).toEqual([
      { partner: 'hubspot', status: 'qualified', value: 'IN_PROGRESS' },
      { partner: 'chatbot', status: 'qualified', value: 'qualified' },
      { partner: 'salesforce', status: 'qualified', value: undefined },
    ]);
    expect(
      ofKind(decision, 'push_partner').every(
        (push) => push.causationId === decision.state.seenEventIds.at(-1),
      ),
    ).toBe(true);
    expect(decision.state.lastPushed).toEqual({
      resman: 'qualified',
      hubspot: 'qualified',
      chatbot: 'qualified',
      salesforce: 'qualified',
    });
  });

  test('emits lead.status_changed with old and new status, source and reason', () => {
    const decision = decide(
      at('contacted', { propertyId: 'prop-1' }),
      fromResman('qualified', { reason: 'screened' }),
      policyOf(),
      NOW,
    );
    expect(ofKind(decision, 'emit_webhook').map((effect) => [effect.eventType, effect.data])).toEqual([
      [
        'lead.status_changed',
        {
          lead_id: 'lead-1',
          workspace_id: 'ws-1',
          property_id: 'prop-1',
          old_status: 'contacted',
          new_status: 'qualified',
          source: 'partner:resman',
          reason: 'screened',
          occurred_at: NOW,
        },
      ],
    ]);
  });

  test('does not check required fields for partners but notes the missing ones', () => {
    const decision = decide(
      at('contacted', { facts: { hasEmail: false, hasPhone: false } }),
      fromResman('qualified'),
      policyOf(),
      NOW,
    );
    expect(decision.outcome).toBe('applied');
    expect(history(decision)[0]?.context).toEqual({
      partner: 'resman',
      value: 'qualified',
      missing_fields: ['email|phone'],
    });
  });

  test('maps a partner’s won word to the property’s own won status', () => {
    const decision = decide(
      at('application'),
      event(
        { kind: 'partner_status', partner: 'salesforce', value: 'Closed - Converted' },
        { source: 'partner:salesforce' },
      ),
      policyOf({ vertical: 'senior_living', connectedPartners: ['apfm'] }),
      NOW,
    );
    expect(decision.state.status).toBe('placed');
    expect(pushes(decision)).toEqual([{ partner: 'apfm', status: 'placed', value: 'move_in' }]);
  });

  test('jumps forward over skipped stages, recording each as skipped', () => {
    const decision = decide(
      at('contacted'),
      fromResman('leased'),
      policyOf({ connectedPartners: ['hubspot', 'gohighlevel'] }),
      NOW,
    );
    expect(decision.outcome).toBe('applied');
    expect(
      history(decision).map((entry) => [entry.type, entry.oldStatus, entry.newStatus, entry.reason]),
    ).toEqual([
      ['skipped', 'contacted', 'qualified', 'skipped by partner'],
      ['skipped', 'contacted', 'tour_scheduled', 'skipped by partner'],
      ['skipped', 'contacted', 'toured', 'skipped by partner'],
      ['skipped', 'contacted', 'application', 'skipped by partner'],
      ['applied', 'contacted', 'leased', undefined],
    ]);
    expect(history(decision).at(-1)?.context).toEqual({
      partner: 'resman',
      value: 'leased',
      skipped: ['qualified', 'tour_scheduled', 'toured', 'application'],
    });
    expect(decision.state.status).toBe('leased');
    expect(pushes(decision)).toEqual([
      { partner: 'hubspot', status: 'leased', value: undefined },
      { partner: 'gohighlevel', status: 'leased', value: 'won' },
    ]);
    expect(webhookTypes(decision)).toEqual(['lead.status_changed']);
  });

  test('a backward report is a conflict: recorded, not applied, staff alerted, nothing pushed', () => {
    const decision = decide(
      at('application'),
      fromResman('prospect', { reason: 'resync' }),
      policyOf({ connectedPartners: ['hubspot'] }),
      NOW,
    );
    expect(decision.outcome).toBe('conflict');
    expect(decision.state.status).toBe('application');
    expect(history(decision)).toEqual([
      expect.objectContaining({
        type: 'conflict',
        oldStatus: 'application',
        newStatus: 'contacted',
        context: { partner: 'resman', value: 'prospect' },
      }),
    ]);
    expect(ofKind(decision, 'alert_staff')).toEqual([
      {
        kind: 'alert_staff',
        key: expect.stringMatching(/:alert_staff:partner_conflict$/),
        reason: 'partner_conflict',
        details: {
          partner: 'resman',
          value: 'prospect',
          current_status: 'application',
          reported_status: 'contacted',
        },
      },
    ]);
    expect(pushes(decision)).toEqual([]);
    expect(webhookTypes(decision)).toEqual([]);
  });

  test('tour_scheduled → qualified from a partner is an allowed move, not a conflict', () => {
    const decision = decide(at('tour_scheduled'), fromResman('qualified'), policyOf(), NOW);
    expect(decision.outcome).toBe('applied');
    expect(decision.state.status).toBe('qualified');
  });

  test('does not push a partner the status it already has', () => {
    const decision = decide(
      at('contacted', { lastPushed: { hubspot: 'qualified' } }),
      fromResman('qualified'),
      policyOf({ connectedPartners: ['hubspot', 'chatbot'] }),
      NOW,
    );
    expect(pushes(decision).map((push) => push.partner)).toEqual(['chatbot']);
  });
});

describe('decide: status_change', () => {
  const change = (
    to: LeadStatus,
    base: Partial<EventBase> = {},
    extra: { reason?: string; context?: Record<string, unknown> } = {},
  ) => event({ kind: 'status_change', to, ...extra }, base);

  test('refuses tour_scheduled → new with the allowed list', () => {
    const decision = decide(at('tour_scheduled'), change('new'), policyOf(), NOW);
    expect(decision.outcome).toBe('refused');
    expect(decision.refusal?.code).toBe('invalid_transition');
    expect(decision.refusal?.details).toEqual({
      from: 'tour_scheduled',
      to: 'new',
      allowed: ['toured', 'qualified', 'application', 'leased', 'lost'],
    });
    expect(decision.refusal?.message).toMatch(/tour_scheduled.*new/);
    expect(history(decision)).toEqual([
      expect.objectContaining({
        type: 'refused',
        oldStatus: 'tour_scheduled',
        newStatus: 'new',
        context: {
          code: 'invalid_transition',
          allowed: ['toured', 'qualified', 'application', 'leased', 'lost'],
        },
      }),
    ]);
    expect(decision.state.status).toBe('tour_scheduled');
    expect(pushes(decision)).toEqual([]);
  });

  test('a change whose updated_by names a partner is recorded as said, yet still pushed to that partner', () => {
    const policy = policyOf({ connectedPartners: ['resman', 'chatbot', 'hubspot'] });
    const claimed = event(
      { kind: 'status_change', to: 'qualified' },
      { source: 'partner:resman', sourceUnproven: true },
    );
    const decision = decide(at('contacted'), claimed, policy, NOW);
    expect(decision.outcome).toBe('applied');
    expect(history(decision)[0]).toMatchObject({ source: 'partner:resman', newStatus: 'qualified' });
    expect(pushes(decision).map((push) => push.partner)).toEqual(['resman', 'chatbot', 'hubspot']);
    // The chatbot's word through the api is a claim too.
    const byChatbot = event(
      { kind: 'status_change', to: 'qualified' },
      { source: 'chatbot', sourceUnproven: true },
    );
    expect(pushes(decide(at('contacted'), byChatbot, policy, NOW)).map((push) => push.partner)).toContain(
      'chatbot',
    );
    // Decided before the journey marked such claims (patch signed-origin): the word was trusted, as it ran.
    const trusted = decide(at('contacted'), change('qualified', { source: 'partner:resman' }), policy, NOW);
    expect(pushes(trusted).map((push) => push.partner)).toEqual(['chatbot', 'hubspot']);
  });

  test('refuses any move out of a final status, saying it is final', () => {
    const refusal = validateStatusChange(at('lost'), 'contacted', policyOf());
    expect(refusal).toEqual({
      code: 'invalid_transition',
      message: expect.stringContaining('final'),
      details: { from: 'lost', to: 'contacted', allowed: [] },
    });
  });

  test('refuses placed for a multifamily property and leased for a senior-living one', () => {
    const multifamily = validateStatusChange(at('application'), 'placed', policyOf());
    expect(multifamily?.code).toBe('status_not_available');
    expect(multifamily?.details).toEqual({
      status: 'placed',
      allowed: STATUSES.filter((s) => s !== 'placed'),
    });
    expect(multifamily?.message).toMatch(/placed.*multifamily/);
    const senior = validateStatusChange(at('application'), 'leased', policyOf({ vertical: 'senior_living' }));
    expect(senior?.code).toBe('status_not_available');
    expect(senior?.message).toMatch(/leased.*senior living/);
  });

  test('refuses a status outside the workspace pipeline before checking the transition', () => {
    const pipeline: Pipeline = { statuses: ['new', 'contacted', 'lost'], transitions: DEFAULT_TRANSITIONS };
    const decision = decide(at('new'), change('qualified'), policyOf({ pipeline }), NOW);
    expect(decision.refusal?.code).toBe('status_not_available');
    expect(decision.refusal?.details).toEqual({ status: 'qualified', allowed: ['new', 'contacted', 'lost'] });
    expect(history(decision)[0]?.context).toEqual({
      code: 'status_not_available',
      allowed: ['new', 'contacted', 'lost'],
    });
  });

  test('refuses qualified without email or phone, naming both', () => {
    const state = at('contacted', { facts: { hasEmail: false, hasPhone: false } });
    const decision = decide(state, change('qualified'), policyOf(), NOW);
    expect(decision.outcome).toBe('refused');
    expect(decision.refusal).toEqual({
      code: 'missing_fields',
      message: 'Status qualified needs email or phone.',
      details: { status: 'qualified', missing: ['email|phone'] },
    });
    expect(history(decision)[0]?.context).toEqual({ code: 'missing_fields', missing: ['email|phone'] });
  });

  test('refuses tour_scheduled without a tour time', () => {
    const refusal = validateStatusChange(at('qualified'), 'tour_scheduled', policyOf());
    expect(refusal?.code).toBe('missing_fields');
    expect(refusal?.details).toEqual({ status: 'tour_scheduled', missing: ['tour_at'] });
    expect(refusal?.message).toContain('tour_at');
  });

  test('the validator accepts an allowed move with its fields present', () => {
    expect(validateStatusChange(at('contacted'), 'qualified', policyOf())).toBeUndefined();
    const withTour = at('qualified', { facts: { hasEmail: true, hasPhone: false, tourAt: NOW } });
    expect(validateStatusChange(withTour, 'tour_scheduled', policyOf())).toBeUndefined();
  });

  test('setting the current status again is accepted and changes nothing', () => {
    expect(validateStatusChange(at('toured'), 'toured', policyOf())).toBeUndefined();
    const decision = decide(at('toured'), change('toured'), policyOf({ connectedPartners: ['resman'] }), NOW);
    expect(decision.outcome).toBe('unchanged');
    expect(decision.effects).toEqual([]);
  });

  test('applies an allowed change with its reason and context and pushes to every connected partner', () => {
    const decision = decide(
      at('toured'),
      change(
        'application',
        { actor: 'agent-1' },
        { reason: 'applied online', context: { application_id: 'A1' } },
      ),
      policyOf({ connectedPartners: ['resman', 'chatbot'] }),
      NOW,
    );
    expect(decision.outcome).toBe('applied');
    expect(history(decision)).toEqual([
      expect.objectContaining({
        type: 'applied',
        oldStatus: 'toured',
        newStatus: 'application',
        reason: 'applied online',
        actor: 'agent-1',
        context: { application_id: 'A1' },
      }),
    ]);
    expect(pushes(decision)).toEqual([
      { partner: 'resman', status: 'application', value: 'application' },
      { partner: 'chatbot', status: 'application', value: 'application_started' },
    ]);
    expect(webhookTypes(decision)).toEqual(['lead.status_changed']);
  });

  test('a change made by the chatbot is not pushed back to the chatbot', () => {
    const decision = decide(
      at('contacted'),
      change('qualified', { source: 'chatbot' }),
      policyOf({ connectedPartners: ['chatbot', 'resman'] }),
      NOW,
    );
    expect(pushes(decision).map((push) => push.partner)).toEqual(['resman']);
    expect(decision.state.lastPushed.chatbot).toBe('qualified');
  });
});

describe('decide: tours', () => {
  test('a booked tour moves a qualified lead to tour_scheduled and keeps the time', () => {
    const decision = decide(at('qualified'), event({ kind: 'tour_booked', tourAt: NOW }), policyOf(), NOW);
    expect(decision.outcome).toBe('applied');
    expect(decision.state.status).toBe('tour_scheduled');
    expect(decision.state.facts.tourAt).toBe(NOW);
    expect(decision.state.counters.tours).toBe(1);
    expect(history(decision)).toEqual([
      expect.objectContaining({
        type: 'applied',
        oldStatus: 'qualified',
        newStatus: 'tour_scheduled',
        reason: 'tour booked',
      }),
    ]);
  });

  test('a booking on a scheduled tour is a reschedule: recorded with the new time', () => {
    const state = at('tour_scheduled', { facts: { hasEmail: true, hasPhone: true, tourAt: T0 } });
    const decision = decide(
      state,
      event({ kind: 'tour_booked', tourAt: NOW, rescheduled: true }),
      policyOf(),
      NOW,
    );
    expect(decision.outcome).toBe('recorded');
    expect(decision.effects).toEqual([]);
    expect(decision.state.facts.tourAt).toBe(NOW);
    expect(decision.state.counters.tours).toBe(1);
  });

  test('a booking jumps over stages the pipeline does not let it reach directly', () => {
    const pipeline: Pipeline = {
      statuses: STATUSES,
      transitions: { ...DEFAULT_TRANSITIONS, new: ['contacted', 'lost'] },
    };
    const decision = decide(
      at('new'),
      event({ kind: 'tour_booked', tourAt: NOW }),
      policyOf({ pipeline }),
      NOW,
    );
    expect(decision.outcome).toBe('applied');
    expect(history(decision).map((entry) => [entry.type, entry.newStatus])).toEqual([
      ['skipped', 'contacted'],
      ['skipped', 'qualified'],
      ['applied', 'tour_scheduled'],
    ]);
    expect(decision.state.status).toBe('tour_scheduled');
  });

  test.each(['toured', 'application', 'lost'] as const)(
    'a booking on a %s lead is only recorded',
    (status) => {
      const decision = decide(at(status), event({ kind: 'tour_booked', tourAt: NOW }), policyOf(), NOW);
      expect(decision.outcome).toBe('recorded');
      expect(decision.state.status).toBe(status);
      expect(decision.state.facts.tourAt).toBe(NOW);
      expect(decision.effects).toEqual([]);
    },
  );

  test('a booking is only recorded when the pipeline has no tour_scheduled', () => {
    const pipeline: Pipeline = {
      statuses: ['new', 'contacted', 'qualified', 'lost'],
      transitions: DEFAULT_TRANSITIONS,
    };
    const decision = decide(
      at('qualified'),
      event({ kind: 'tour_booked', tourAt: NOW }),
      policyOf({ pipeline }),
      NOW,
    );
    expect(decision.outcome).toBe('recorded');
    expect(decision.state.status).toBe('qualified');
  });

  test('a cancelled tour moves the lead back to qualified, forgets the time, skips the field check', () => {
    const state = at('tour_scheduled', { facts: { hasEmail: false, hasPhone: false, tourAt: T0 } });
    const decision = decide(
      state,
      event({ kind: 'tour_cancelled' }),
      policyOf({ connectedPartners: ['apfm'] }),
      NOW,
    );
    expect(decision.outcome).toBe('applied');
    expect(decision.state.status).toBe('qualified');
    expect(decision.state.facts).toEqual({ hasEmail: false, hasPhone: false });
    expect(history(decision)[0]).toEqual(
      expect.objectContaining({
        oldStatus: 'tour_scheduled',
        newStatus: 'qualified',
        reason: 'tour cancelled',
      }),
    );
    expect(pushes(decision)).toEqual([{ partner: 'apfm', status: 'qualified', value: 'qualified' }]);
  });

  test('a no-show says so in the reason; an explicit reason wins', () => {
    const noShow = decide(
      at('tour_scheduled'),
      event({ kind: 'tour_cancelled', noShow: true }),
      policyOf(),
      NOW,
    );
    expect(history(noShow)[0]?.reason).toBe('tour no-show');
    const explicit = decide(
      at('tour_scheduled'),
      event({ kind: 'tour_cancelled', noShow: true, reason: 'prospect ill' }),
      policyOf(),
      NOW,
    );
    expect(history(explicit)[0]?.reason).toBe('prospect ill');
  });

  test('a cancellation on any other status is only recorded and forgets the time', () => {
    const state = at('toured', { facts: { hasEmail: true, hasPhone: false, tourAt: T0 } });
    const decision = decide(state, event({ kind: 'tour_cancelled' }), policyOf(), NOW);
    expect(decision.outcome).toBe('recorded');
    expect(decision.state.status).toBe('toured');
    expect('tourAt' in decision.state.facts).toBe(false);
    expect(decision.effects).toEqual([]);
  });
});

describe('decide: calls, notes, conversions, SMS consent, facts', () => {
  const call = (answered: boolean) =>
    event(
      { kind: 'call', callId: 'call-1', direction: 'outbound', answered },
      { source: 'partner:callrail' },
    );

  test('an answered call on a new lead marks it contacted', () => {
    const decision = decide(
      at('new'),
      call(true),
      policyOf({ connectedPartners: ['hubspot', 'callrail'] }),
      NOW,
    );
    expect(decision.outcome).toBe('applied');
    expect(decision.state.status).toBe('contacted');
    expect(decision.state.counters.calls).toBe(1);
    expect(history(decision)[0]?.reason).toBe('call answered');
    expect(pushes(decision)).toEqual([
      { partner: 'hubspot', status: 'contacted', value: 'ATTEMPTED_TO_CONTACT' },
    ]);
  });

  test('an unanswered call, or a call later in the funnel, is only counted', () => {
    const unanswered = decide(at('new'), call(false), policyOf(), NOW);
    expect(unanswered.outcome).toBe('recorded');
    expect(unanswered.state.status).toBe('new');
    expect(unanswered.state.counters.calls).toBe(1);
    const later = decide(at('qualified'), call(true), policyOf(), NOW);
    expect(later.outcome).toBe('recorded');
    expect(later.state.status).toBe('qualified');
    expect(later.effects).toEqual([]);
  });

  test('notes and conversions are counted', () => {
    const note = decide(at('new'), event({ kind: 'note', noteId: 'n' }), policyOf(), NOW);
    expect([note.outcome, note.state.counters.notes, note.effects.length]).toEqual(['recorded', 1, 0]);
    const conversion = decide(
      at('new'),
      event({ kind: 'conversion', conversionId: 'c', conversionType: 'lease_signed', value: 1200 }),
      policyOf(),
      NOW,
    );
    expect([conversion.outcome, conversion.state.counters.conversions]).toEqual(['recorded', 1]);
  });

  test('SMS opt-out and opt-in flip the consent flag', () => {
    const out = decide(at('contacted'), event({ kind: 'sms_opt_out' }), policyOf(), NOW);
    expect([out.outcome, out.state.smsOptedOut]).toEqual(['recorded', true]);
    const back = decide(out.state, event({ kind: 'sms_opt_in' }), policyOf(), NOW);
    expect([back.outcome, back.state.smsOptedOut]).toEqual(['recorded', false]);
  });

  test('an inbound SMS and a delivery status are recorded and change nothing else', () => {
    const state = at('contacted');
    for (const body of [
      { kind: 'sms_received', messageId: 'SM1' },
      { kind: 'sms_delivery', messageId: 'SM2', status: 'delivered' },
    ] as LeadEventBody[]) {
      const decision = decide(state, event(body, { source: 'partner:twilio' }), policyOf(), NOW);
      expect(decision.outcome).toBe('recorded');
      expect(decision.effects).toEqual([]);
      expect(decision.state.status).toBe('contacted');
      expect(decision.state.counters.events).toBe(state.counters.events + 1);
    }
  });

  test('changed facts are merged; an undefined value keeps what was known', () => {
    const state = at('contacted', { facts: { hasEmail: true, hasPhone: false } });
    const decision = decide(
      state,
      event({ kind: 'facts_changed', facts: { hasPhone: true, hasEmail: undefined } }),
      policyOf(),
      NOW,
    );
    expect(decision.outcome).toBe('recorded');
    expect(decision.state.facts).toEqual({ hasEmail: true, hasPhone: true });
  });
});

describe('view', () => {
  test('shows the live state with the statuses the lead may move to next', () => {
    const state = at('tour_scheduled', { propertyId: 'prop-1', sources: ['webform', 'apfm'] });
    expect(view(state, policyOf({ vertical: 'senior_living' }), '2025-03-02T09:00:00.000Z')).toEqual({
      workspaceId: 'ws-1',
      leadId: 'lead-1',
      propertyId: 'prop-1',
      journey: 1,
      status: 'tour_scheduled',
      statusChangedAt: T0,
      updatedAt: T0,
      source: 'webform',
      sources: ['webform', 'apfm'],
      smsOptedOut: false,
      allowedNext: ['toured', 'qualified', 'application', 'placed', 'lost'],
      nextFollowUpAt: '2025-03-02T09:00:00.000Z',
      counters: { events: 1, calls: 0, notes: 0, conversions: 0, tours: 0 },
    });
  });

  test('leaves out what is not known and shares no arrays with the state', () => {
    const state = at('lost');
    const result = view(state, policyOf());
    expect('propertyId' in result).toBe(false);
    expect('nextFollowUpAt' in result).toBe(false);
    expect(result.allowedNext).toEqual([]);
    expect(result.sources).not.toBe(state.sources);
    expect(result.counters).not.toBe(state.counters);
  });
});

describe('leadSourceLabel', () => {
  test('a partner source is labelled with the partner name, even with a channel', () => {
    expect(leadSourceLabel('partner:apfm')).toBe('apfm');
    expect(leadSourceLabel('partner:caring', 'phone')).toBe('caring');
  });

  test('any other source is labelled with its channel, else itself', () => {
    expect(leadSourceLabel('api', 'zillow')).toBe('zillow');
    expect(leadSourceLabel('chatbot')).toBe('chatbot');
    expect(leadSourceLabel('staff')).toBe('staff');
  });
});

describe('decide: property over random event sequences', () => {
  /** Numerical Recipes' LCG: deterministic, so a failing seed reproduces. */
  function lcg(seed: number) {
    let x = seed >>> 0;
    const next = () => {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      return x / 2 ** 32;
    };
    const int = (n: number) => Math.floor(next() * n);
    const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
    return { next, int, pick };
  }
  type Random = ReturnType<typeof lcg>;

  const customPipeline: Pipeline = {
    statuses: ['new', 'contacted', 'qualified', 'tour_scheduled', 'application', 'leased', 'placed', 'lost'],
    transitions: {
      ...DEFAULT_TRANSITIONS,
      new: ['contacted', 'lost'],
      contacted: ['qualified', 'lost'],
      qualified: ['tour_scheduled', 'lost'],
      tour_scheduled: ['application', 'qualified', 'lost'],
      toured: [],
    },
  };
  const policies: JourneyPolicy[] = [
    policyOf({ connectedPartners: [...PARTNERS] }),
    policyOf({ vertical: 'senior_living', connectedPartners: ['apfm', 'caring', 'hubspot', 'chatbot'] }),
    policyOf({ pipeline: customPipeline, connectedPartners: ['resman', 'salesforce', 'gohighlevel'] }),
  ];

  function reachableFromNew(policy: JourneyPolicy): Set<LeadStatus> {
    const seen = new Set<LeadStatus>(['new']);
    const queue: LeadStatus[] = ['new'];
    for (let status = queue.shift(); status !== undefined; status = queue.shift()) {
      for (const next of allowedNext(status, policy.vertical, policy.pipeline)) {
        if (seen.has(next)) continue;
        seen.add(next);
        queue.push(next);
      }
    }
    return seen;
  }

  const sources = [
    'staff',
    'chatbot',
    'api',
    'system',
    ...PARTNERS.map((p) => `partner:${p}` as const),
  ] as const;
  const vocabularyPartners: PartnerName[] = [
    'apfm',
    'caring',
    'resman',
    'hubspot',
    'salesforce',
    'gohighlevel',
    'chatbot',
  ];

  function randomBody(random: Random, state: JourneyState): LeadEventBody {
    switch (random.int(11)) {
      case 0:
        return {
          kind: 'inquiry',
          channel: random.pick(['website', 'zillow', undefined]),
          facts: { hasPhone: random.next() < 0.5 },
        };
      case 1:
      case 2: {
        const partner = random.pick(vocabularyPartners);
        const echo = state.lastPushed[partner];
        const value =
          echo && random.next() < 0.3
            ? fromCanonical(partner, echo)!
            : random.next() < 0.1
              ? 'not-a-status'
              : random.pick(partnerValues(partner));
        return { kind: 'partner_status', partner, value };
      }
      case 3:
      case 4: {
        const allowed = allowedNext(state.status, 'multifamily', DEFAULT_PIPELINE);
        const to = allowed.length > 0 && random.next() < 0.6 ? random.pick(allowed) : random.pick(STATUSES);
        return { kind: 'status_change', to };
      }
      case 5:
        return { kind: 'tour_booked', tourAt: '2025-04-01T15:00:00.000Z' };
      case 6:
        return { kind: 'tour_cancelled', noShow: random.next() < 0.5 };
      case 7:
        return { kind: 'call', callId: 'c', direction: 'inbound', answered: random.next() < 0.5 };
      case 8:
        return {
          kind: 'facts_changed',
          facts: { hasEmail: random.next() < 0.5, hasPhone: random.next() < 0.5 },
        };
      case 9:
        return random.pick<LeadEventBody>([
          { kind: 'sms_opt_out' },
          { kind: 'sms_opt_in' },
          { kind: 'note', noteId: 'n' },
        ]);
      default:
        return { kind: 'conversion', conversionId: 'cv', conversionType: 'application_fee' };
    }
  }

  test('keeps the status reachable, seq increasing, applied entries chained and effect keys unique', () => {
    const violations: string[] = [];
    let decisions = 0;
    const outcomes = new Set<string>();
    for (let seed = 1; seed <= 300; seed += 1) {
      const random = lcg(seed);
      const policy = policies[seed % policies.length]!;
      const reachable = reachableFromNew(policy);
      let state = fresh();
      let lastSeq = 0;
      let chainTail: LeadStatus = 'new';
      const keys = new Set<string>();
      const usedIds: string[] = [];
      const length = 5 + random.int(40);
      for (let i = 0; i < length; i += 1) {
        const where = `seed ${seed} step ${i}`;
        const repeat = usedIds.length > 0 && random.next() < 0.1;
        const eventId = repeat ? random.pick(usedIds) : `e${seed}-${i}`;
        const body = randomBody(random, state);
        const source =
          body.kind === 'partner_status' ? (`partner:${body.partner}` as const) : random.pick(sources);
        const ev = { eventId, occurredAt: T0, source, ...body } as LeadEvent;
        const now = new Date(Date.parse(T0) + i * 60_000).toISOString();

        let decision = decide(deepFreeze(state), ev, policy, now);
        decisions += 1;
        outcomes.add(decision.outcome);
        if (decision.outcome === 'new_journey') {
          // What the shell does: the next journey of the same lead, with the event replayed there.
          state = initialState({
            ...state,
            journey: state.journey + 1,
            source: leadSourceLabel(ev.source),
            now,
          });
          lastSeq = 0;
          chainTail = 'new';
          usedIds.length = 0; // a fresh journey knows no earlier ids (the ingest inbox guards those)
          decision = decide(state, ev, policy, now);
          if (decision.outcome === 'new_journey') violations.push(`${where}: new journey asked twice`);
        }
        if (repeat && decision.outcome !== 'duplicate')
          violations.push(`${where}: repeated id ${eventId} not a duplicate`);
        if (!repeat) usedIds.push(eventId);

        for (const effect of decision.effects) {
          if (keys.has(effect.key)) violations.push(`${where}: effect key ${effect.key} used twice`);
          keys.add(effect.key);
          if (effect.kind === 'push_partner' && ev.source === `partner:${effect.partner}`) {
            violations.push(`${where}: pushed ${effect.partner} its own change`);
          }
          if (effect.kind !== 'record_history') continue;
          const entry = effect.entry;
          if (entry.seq <= lastSeq) violations.push(`${where}: seq ${entry.seq} after ${lastSeq}`);
          lastSeq = entry.seq;
          if (entry.type !== 'applied') continue;
          if (entry.oldStatus === null) {
            if (entry.seq !== 1 || entry.newStatus !== 'new')
              violations.push(`${where}: opener at seq ${entry.seq}`);
          } else {
            if (entry.oldStatus !== chainTail)
              violations.push(`${where}: applied from ${entry.oldStatus}, was ${chainTail}`);
            chainTail = entry.newStatus;
          }
        }
        state = decision.state;
        if (state.status !== chainTail)
          violations.push(`${where}: status ${state.status} but history says ${chainTail}`);
        if (
          !reachable.has(state.status) ||
          !statusAvailable(state.status, policy.vertical, policy.pipeline)
        ) {
          violations.push(`${where}: unreachable status ${state.status}`);
        }
        if (state.seq !== lastSeq + 1)
          violations.push(`${where}: state.seq ${state.seq} after history seq ${lastSeq}`);
      }
    }
    expect(violations).toEqual([]);
    expect(decisions).toBeGreaterThan(3000);
    // The generator must exercise every branch for the invariants to mean something.
    expect([...outcomes].sort()).toEqual(
      ['applied', 'conflict', 'duplicate', 'echo', 'new_journey', 'recorded', 'refused', 'unchanged'].sort(),
    );
  });
});
