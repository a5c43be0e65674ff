// Nurture sequences in the pure core: trigger moments, enrolment, steps through the notification path, the exits
// (status, reply, call, STOP, unsubscribe, staff), reply attribution, deadlines after a final status, and the
// definition syntax (waits, triggers, exit rules).
import { decide, initialState } from '../../shared/journey/decide';
import { planDeadlines } from '../../shared/journey/followUps';
import {
  DEFAULT_EXIT_RULES,
  triggerMatches,
  type Enrolment,
  type SequenceExitRules,
} from '../../shared/journey/sequences';
import type {
  Decision,
  JourneyPolicy,
  JourneyState,
  LeadEvent,
  LeadEventBody,
} from '../../shared/journey/types';
import { SequenceBody, waitMinutes } from '../../shared/sequences';
import { DEFAULT_PIPELINE, type LeadStatus } from '../../shared/lifecycle';

const T0 = '2026-03-02T15:00:00.000Z';
const NOW = '2026-03-02T16:00:00.000Z';
const plus = (iso: string, minutes: number) => new Date(Date.parse(iso) + minutes * 60_000).toISOString();
const policy: JourneyPolicy = { vertical: 'multifamily', pipeline: DEFAULT_PIPELINE, connectedPartners: [] };

let n = 0;
function ev(body: LeadEventBody, source: LeadEvent['source'] = 'staff'): LeadEvent {
  n += 1;
  return { eventId: `e${n}`, occurredAt: T0, source, ...body } as LeadEvent;
}

function under(status: LeadStatus, enrolments: Enrolment[] = []): JourneyState {
  const state = initialState({ workspaceId: 'ws', leadId: 'lead', journey: 1, source: 'website', now: T0 });
  return {
    ...state,
    status,
    seq: 3,
    seenEventIds: ['e0'],
    counters: { ...state.counters, events: 1 },
    facts: { hasEmail: true, hasPhone: true },
    enrolments,
  };
}

function enrolment(overrides: Partial<Enrolment> = {}): Enrolment {
  return {
    id: 'enr-1',
    sequenceId: 'seq-1',
    state: 'active',
    step: 0,
    nextAt: plus(T0, 60),
    exitOn: DEFAULT_EXIT_RULES,
    enrolledStatus: 'new',
    enrolledAt: T0,
    trigger: 'inquiry',
    revision: 1,
    ...overrides,
  };
}

const rowsOf = (decision: Decision) =>
  decision.effects.flatMap((e) => (e.kind === 'sequence_enrolment' ? [e.enrolment] : []));

describe('trigger moments', () => {
  test('the opening inquiry, every applied status (with its reason) and a no-show are reported', () => {
    const first = decide(
      initialState({ workspaceId: 'ws', leadId: 'lead', journey: 1, source: 'facebook', now: T0 }),
      ev({ kind: 'inquiry' }, 'partner:facebook'),
      policy,
      NOW,
    );
    expect(first.triggers).toEqual([{ event: 'inquiry', source: 'facebook' }]);
    const lost = decide(
      under('contacted'),
      ev({ kind: 'status_change', to: 'lost', reason: 'Chose a competitor' }),
      policy,
      NOW,
    );
    expect(lost.triggers).toEqual([{ event: 'status', status: 'lost', reason: 'Chose a competitor' }]);
    const noShow = decide(
      { ...under('tour_scheduled'), facts: { hasEmail: true, hasPhone: true, tourAt: T0 } },
      ev({ kind: 'tour_cancelled', noShow: true }, 'partner:calendly'),
      policy,
      NOW,
    );
    expect(noShow.triggers).toEqual([
      { event: 'status', status: 'qualified', reason: 'tour no-show' },
      { event: 'no_show' },
    ]);
    expect(
      decide(under('contacted'), ev({ kind: 'note', noteId: 'x' }), policy, NOW).triggers,
    ).toBeUndefined();
  });

  test('triggers match by event, sources and reasons, case-insensitively', () => {
    expect(
      triggerMatches({ event: 'inquiry', sources: ['Facebook'] }, { event: 'inquiry', source: 'facebook' }),
    ).toBe(true);
    expect(
      triggerMatches({ event: 'inquiry', sources: ['apfm'] }, { event: 'inquiry', source: 'facebook' }),
    ).toBe(false);
    expect(triggerMatches({ event: 'inquiry' }, { event: 'inquiry', source: 'anything' })).toBe(true);
    const lostToPrice = { event: 'status' as const, status: 'lost' as const, reasons: ['price'] };
    expect(triggerMatches(lostToPrice, { event: 'status', status: 'lost', reason: 'Price too high' })).toBe(
      true,
    );
    expect(triggerMatches(lostToPrice, { event: 'status', status: 'lost', reason: 'moved away' })).toBe(
      false,
    );
    expect(triggerMatches(lostToPrice, { event: 'status', status: 'contacted', reason: 'price' })).toBe(
      false,
    );
    expect(triggerMatches({ event: 'no_show' }, { event: 'no_show' })).toBe(true);
  });
});

describe('enrolment and steps', () => {
  const enrol = (atStatus: LeadStatus, exitOn: SequenceExitRules = DEFAULT_EXIT_RULES) =>
    ev(
      {
        kind: 'sequence_enrol',
        atStatus,
        enrolments: [
          { enrolmentId: 'enr-1', sequenceId: 'seq-1', firstWaitMinutes: 120, exitOn, trigger: 'inquiry' },
        ],
      },
      'system',
    );

  test('enrols with the first step due after its wait, once per sequence, not after the lead moved on', () => {
    const decision = decide(under('new'), enrol('new'), policy, NOW);
    expect(rowsOf(decision)).toEqual([
      expect.objectContaining({ id: 'enr-1', state: 'active', step: 0, nextAt: plus(NOW, 120), revision: 1 }),
    ]);
    expect(planDeadlines(decision.state)).toContainEqual({ name: 'sequence_enr-1', fireAt: plus(NOW, 120) });
    // System bookkeeping is not the lead's activity: stale and auto-lost keep their times.
    expect(decision.state.updatedAt).toBe(T0);
    const again = decide(decision.state, { ...enrol('new'), eventId: 'other' }, policy, NOW);
    expect(again.outcome).toBe('unchanged');
    expect(decide(under('contacted'), enrol('new'), policy, NOW).outcome).toBe('unchanged');
  });

  test('a due step notifies the prospect on its channel with its template, then waits for the next', () => {
    const state = under('new', [enrolment()]);
    const decision = decide(
      state,
      ev(
        {
          kind: 'sequence_step',
          enrolmentId: 'enr-1',
          step: 0,
          fireAt: plus(T0, 60),
          definition: {
            channel: 'sms',
            templateId: 'tour_invite',
            nextWaitMinutes: 2880,
            exitOn: DEFAULT_EXIT_RULES,
          },
        },
        'system',
      ),
      policy,
      NOW,
    );
    const notify = decision.effects.find((e) => e.kind === 'notify');
    expect(notify).toMatchObject({
      audience: 'prospect',
      template: 'tour_invite',
      recipients: { channel: 'sms', to: ['prospect'] },
      data: { sequence_id: 'seq-1', enrolment_id: 'enr-1', sequence_step: 0 },
    });
    expect(rowsOf(decision)).toEqual([
      expect.objectContaining({ step: 1, state: 'active', nextAt: plus(plus(T0, 60), 2880), revision: 2 }),
    ]);
    // The same step again (a replayed timer) does nothing.
    const repeat = decide(
      decision.state,
      ev({ kind: 'sequence_step', enrolmentId: 'enr-1', step: 0, fireAt: plus(T0, 60) }, 'system'),
      policy,
      NOW,
    );
    expect(repeat.effects).toEqual([]);
  });

  test('the last step completes the enrolment; a removed sequence or a staff stop ends it without sending', () => {
    const last = decide(
      under('new', [enrolment({ step: 2 })]),
      ev(
        {
          kind: 'sequence_step',
          enrolmentId: 'enr-1',
          step: 2,
          fireAt: plus(T0, 60),
          definition: {
            channel: 'email',
            templateId: 'last',
            nextWaitMinutes: null,
            exitOn: DEFAULT_EXIT_RULES,
          },
        },
        'system',
      ),
      policy,
      NOW,
    );
    expect(rowsOf(last)).toEqual([expect.objectContaining({ state: 'completed', step: 3 })]);
    expect(rowsOf(last)[0]!.nextAt).toBeUndefined();
    const gone = decide(
      under('new', [enrolment()]),
      ev(
        {
          kind: 'sequence_step',
          enrolmentId: 'enr-1',
          step: 0,
          fireAt: plus(T0, 60),
          gone: 'the sequence was paused',
        },
        'system',
      ),
      policy,
      NOW,
    );
    expect(gone.effects.some((e) => e.kind === 'notify')).toBe(false);
    expect(rowsOf(gone)).toEqual([
      expect.objectContaining({ state: 'exited', exitReason: 'the sequence was paused' }),
    ]);
    const stopped = decide(
      under('new', [enrolment()]),
      ev({ kind: 'sequence_stop', enrolmentId: 'enr-1' }),
      policy,
      NOW,
    );
    expect(rowsOf(stopped)).toEqual([
      expect.objectContaining({ state: 'stopped', exitReason: 'stopped by staff' }),
    ]);
  });
});

describe('leaving a sequence', () => {
  test('a lead that moves on leaves at once; with a status list only those (or a final status) end it', () => {
    const moved = decide(
      under('new', [enrolment()]),
      ev({ kind: 'status_change', to: 'contacted' }),
      policy,
      NOW,
    );
    expect(rowsOf(moved)).toEqual([
      expect.objectContaining({ state: 'exited', exitReason: 'status contacted' }),
    ]);
    expect(planDeadlines(moved.state).some((d) => d.name.startsWith('sequence_'))).toBe(false);

    const onlyTour = enrolment({ exitOn: { ...DEFAULT_EXIT_RULES, statuses: ['tour_scheduled'] } });
    const contacted = decide(
      under('new', [onlyTour]),
      ev({ kind: 'status_change', to: 'contacted' }),
      policy,
      NOW,
    );
    expect(rowsOf(contacted)).toEqual([]);
    const lost = decide(contacted.state, ev({ kind: 'status_change', to: 'lost' }), policy, NOW);
    expect(rowsOf(lost)).toEqual([expect.objectContaining({ state: 'exited', exitReason: 'status lost' })]);
  });

  test('a reply after a step is remembered with that step and ends the enrolment; reply: false keeps it going', () => {
    const replied = decide(
      under('new', [enrolment({ step: 2 })]),
      ev({ kind: 'sms_received', messageId: 'SM1' }, 'partner:twilio'),
      policy,
      NOW,
    );
    expect(rowsOf(replied)).toEqual([
      expect.objectContaining({
        state: 'exited',
        repliedAt: NOW,
        replyStep: 1,
        exitReason: 'replied by SMS',
      }),
    ]);
    const keepGoing = enrolment({ step: 1, exitOn: { ...DEFAULT_EXIT_RULES, reply: false } });
    const counted = decide(
      under('new', [keepGoing]),
      ev({ kind: 'sms_received', messageId: 'SM2' }, 'partner:twilio'),
      policy,
      NOW,
    );
    expect(rowsOf(counted)).toEqual([
      expect.objectContaining({ state: 'active', repliedAt: NOW, replyStep: 0 }),
    ]);
    // A completed sequence's last message can still be answered.
    const done = decide(
      under('new', [enrolment({ state: 'completed', step: 3, nextAt: undefined })]),
      ev({ kind: 'inquiry', channel: 'website' }, 'api'),
      policy,
      NOW,
    );
    expect(rowsOf(done)).toEqual([expect.objectContaining({ state: 'completed', replyStep: 2 })]);
  });

  test('a call ends it unless call: false; STOP and unsubscribe always end it', () => {
    const call = (direction: 'inbound' | 'outbound', answered: boolean) =>
      ev({ kind: 'call', callId: `c${n}`, direction, answered }, 'partner:callrail');
    expect(
      rowsOf(
        decide(
          under('contacted', [enrolment({ enrolledStatus: 'contacted' })]),
          call('inbound', false),
          policy,
          NOW,
        ),
      ),
    ).toEqual([expect.objectContaining({ state: 'exited', exitReason: 'inbound call' })]);
    const noCalls = enrolment({
      enrolledStatus: 'contacted',
      exitOn: { ...DEFAULT_EXIT_RULES, call: false },
    });
    expect(rowsOf(decide(under('contacted', [noCalls]), call('outbound', true), policy, NOW))).toEqual([]);
    const stop = decide(under('new', [noCalls]), ev({ kind: 'sms_opt_out' }, 'partner:twilio'), policy, NOW);
    expect(rowsOf(stop)).toEqual([expect.objectContaining({ state: 'exited', exitReason: 'replied STOP' })]);
    const unsubscribed = decide(under('new', [noCalls]), ev({ kind: 'email_opt_out' }, 'api'), policy, NOW);
    expect(rowsOf(unsubscribed)).toEqual([
      expect.objectContaining({ state: 'exited', exitReason: 'unsubscribed from email' }),
    ]);
  });

  test("a lost lead's win-back keeps its deadline; a new inquiry ends it with the journey", () => {
    const winBack = enrolment({ enrolledStatus: 'lost', trigger: 'status:lost' });
    const lost = under('lost', [winBack]);
    expect(planDeadlines(lost)).toEqual([{ name: 'sequence_enr-1', fireAt: winBack.nextAt }]);
    const inquiry = ev({ kind: 'inquiry', channel: 'website' }, 'api');
    const back = decide(lost, inquiry, policy, NOW);
    expect(back.outcome).toBe('new_journey');
    expect(rowsOf(back)).toEqual([expect.objectContaining({ state: 'exited' })]);
    // The next journey replays the inquiry: this one must not take it for a duplicate.
    expect(back.state.seenEventIds).not.toContain(inquiry.eventId);
  });
});

describe('definitions', () => {
  test('waits are ISO 8601 durations or shorthand', () => {
    expect(waitMinutes('0')).toBe(0);
    expect(waitMinutes('P2D')).toBe(2880);
    expect(waitMinutes('PT4H30M')).toBe(270);
    expect(waitMinutes('P1W')).toBe(10080);
    expect(waitMinutes('2d 4h')).toBe(3120);
    expect(waitMinutes('90m')).toBe(90);
    expect(waitMinutes('soon')).toBeUndefined();
    expect(waitMinutes('P')).toBeUndefined();
    expect(waitMinutes('PT')).toBeUndefined();
    expect(waitMinutes('2 days')).toBeUndefined();
  });

  test('a body names each bad field', () => {
    const result = SequenceBody.safeParse({
      name: '',
      trigger: { event: 'status' },
      steps: [{ wait: 'later', channel: 'fax', template_id: 'Welcome Mail' }],
      exit_on: { unsubscribe: false },
    });
    expect(result.success).toBe(false);
    const paths = result.error!.issues.map((i) => i.path.join('.')).sort();
    expect(paths).toEqual(
      expect.arrayContaining([
        'exit_on.unsubscribe',
        'name',
        'steps.0.channel',
        'steps.0.template_id',
        'steps.0.wait',
        'trigger.status',
      ]),
    );
  });
});
