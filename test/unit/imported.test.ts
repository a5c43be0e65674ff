// An imported lead's journey starts at its stage, its past dated and silent, its overdue follow-ups fired once.
import { decide, initialState } from '../../shared/journey/decide';
import { dueDeadlines, planDeadlines } from '../../shared/journey/followUps';
import { importProblems, importedPath } from '../../shared/journey/imported';
import type { ImportedLead, JourneyPolicy, LeadEvent } from '../../shared/journey/types';
import { DEFAULT_PIPELINE, STATUSES, isTerminal, type LeadStatus } from '../../shared/lifecycle';

const NOW = '2026-03-10T12:00:00.000Z';
const ago = (days: number) => new Date(Date.parse(NOW) - days * 86_400_000).toISOString();
const ahead = (days: number) => new Date(Date.parse(NOW) + days * 86_400_000).toISOString();

const policy: JourneyPolicy = {
  vertical: 'multifamily',
  pipeline: DEFAULT_PIPELINE,
  // A connected CRM: a live change would be pushed to it, an import must not be.
  connectedPartners: ['hubspot', 'resman'],
};

function imported(lead: Partial<ImportedLead> & { status: LeadStatus }, eventId = 'import:i1:1'): LeadEvent {
  return {
    kind: 'imported',
    eventId,
    occurredAt: NOW,
    source: 'partner:apfm',
    importId: 'i1',
    row: 1,
    createdAt: ago(20),
    channel: 'apfm',
    facts: { hasEmail: true, hasPhone: false },
    ...lead,
  };
}

const fresh = () =>
  initialState({ workspaceId: 'w', leadId: 'l', journey: 1, source: 'apfm', now: NOW, facts: {} });

test('an imported lead starts at its stage with its own dates, skipped stages named, and nothing sent', () => {
  const decision = decide(
    fresh(),
    imported({
      status: 'toured',
      stageDates: { contacted: ago(18), tour_scheduled: ago(10), toured: ago(6) },
      facts: { hasEmail: true, hasPhone: false, tourAt: ago(6) },
    }),
    policy,
    NOW,
  );
  expect(decision.outcome).toBe('applied');
  expect(decision.state).toMatchObject({
    status: 'toured',
    createdAt: ago(20),
    statusChangedAt: ago(6),
    updatedAt: ago(6),
    source: 'apfm',
  });
  // History only: no push to the connected partners, no notification, no webhook, no staff task.
  expect(decision.effects.every((effect) => effect.kind === 'record_history')).toBe(true);
  const rows = decision.effects.map((effect) => effect.kind === 'record_history' && effect.entry);
  expect(rows.map((row) => row && [row.type, row.oldStatus, row.newStatus, row.at])).toEqual([
    ['applied', null, 'new', ago(20)],
    ['applied', 'new', 'contacted', ago(18)],
    ['skipped', 'contacted', 'qualified', ago(18)],
    ['applied', 'contacted', 'tour_scheduled', ago(10)],
    ['applied', 'tour_scheduled', 'toured', ago(6)],
  ]);
  expect(rows.every((row) => row && row.reason === 'imported' && row.context?.imported === true)).toBe(true);
});

test('a tour next Tuesday keeps its reminders; a week-old new lead gets no speed-to-lead alarm', () => {
  const tour = decide(
    fresh(),
    imported({
      status: 'tour_scheduled',
      stageDates: { tour_scheduled: ago(2) },
      facts: { hasEmail: true, hasPhone: false, tourAt: ahead(5) },
    }),
    policy,
    NOW,
  ).state;
  expect(planDeadlines(tour).map((d) => d.name)).toEqual(
    expect.arrayContaining(['tour_reminder_24h', 'tour_reminder_2h', 'post_tour', 'no_show']),
  );
  expect(dueDeadlines(tour, undefined, NOW)).toEqual([]);

  const weekOld = decide(fresh(), imported({ status: 'new', createdAt: ago(3) }), policy, NOW).state;
  // Speed-to-lead and APFM's 2-hour answer deadline passed days ago: marked fired, not fired now.
  expect(dueDeadlines(weekOld, undefined, NOW)).toEqual([]);
  expect(planDeadlines(weekOld).map((d) => d.name)).toEqual(['stale', 'auto_lost']);
});

test('a stale lead gets its nudge once, not a backlog; auto-lost of the past does not close it', () => {
  const stale = decide(
    fresh(),
    imported({ status: 'contacted', createdAt: ago(90), stageDates: { contacted: ago(80) } }),
    policy,
    NOW,
  );
  expect(stale.state.updatedAt).toBe(ago(80));
  const due = dueDeadlines(stale.state, undefined, NOW);
  expect(due.map((d) => d.name)).toEqual(['stale']);
  const nudged = decide(
    stale.state,
    {
      kind: 'deadline_fired',
      name: 'stale',
      fireAt: due[0]!.fireAt,
      eventId: 'deadline:stale',
      occurredAt: NOW,
      source: 'system',
    },
    policy,
    NOW,
  );
  expect(nudged.effects.map((effect) => effect.kind)).toEqual(['notify']);
  expect(nudged.state.status).toBe('contacted');
  expect(dueDeadlines(nudged.state, undefined, NOW)).toEqual([]);
});

test.each(['leased', 'lost'] as const)('a %s lead is recorded at its status with no follow-up', (status) => {
  const decision = decide(
    fresh(),
    imported({ status, stageDates: { application: ago(9), [status]: ago(4) }, reason: 'moved elsewhere' }),
    policy,
    NOW,
  );
  expect(isTerminal(decision.state.status)).toBe(true);
  expect(decision.state.status).toBe(status);
  expect(planDeadlines(decision.state)).toEqual([]);
  const last = decision.effects.at(-1);
  expect(last?.kind === 'record_history' && [last.entry.newStatus, last.entry.at]).toEqual([status, ago(4)]);
  if (status === 'lost') expect(last?.kind === 'record_history' && last.entry.reason).toBe('moved elsewhere');
});

test('a lead that already has a journey keeps it: the import is one more touch', () => {
  const live = decide(
    fresh(),
    { kind: 'inquiry', eventId: 'e1', occurredAt: NOW, source: 'api', channel: 'website' },
    policy,
    NOW,
  ).state;
  const fromHubSpot = {
    ...imported({ status: 'application', channel: 'hubspot' }),
    source: 'partner:hubspot',
  };
  const touched = decide(live, fromHubSpot as LeadEvent, policy, NOW);
  expect(touched.outcome).toBe('recorded');
  expect(touched.effects).toEqual([]);
  expect(touched.state.status).toBe('new');
  expect(touched.state.sources).toEqual(['apfm', 'hubspot']);
  expect(touched.state.updatedAt).toBe(live.updatedAt);
});

test('every status imports along a path that only moves forward in time', () => {
  for (const status of STATUSES.filter((s) => s !== 'placed')) {
    const path = importedPath(
      { importId: 'i', row: 1, status, createdAt: ago(30), stageDates: { qualified: ago(20) } },
      DEFAULT_PIPELINE,
    );
    expect(path[0]).toMatchObject({ newStatus: 'new', at: ago(30) });
    expect(path.at(-1)?.newStatus).toBe(status);
    expect(path.map((step) => step.at)).toEqual([...path.map((step) => step.at)].sort());
  }
});

test('rows are refused with the column to fix', () => {
  const where = { vertical: 'multifamily' as const, pipeline: DEFAULT_PIPELINE };
  const lead = (overrides: Partial<ImportedLead>): ImportedLead => ({
    importId: 'i',
    row: 1,
    status: 'new',
    createdAt: ago(5),
    facts: { hasEmail: true, hasPhone: false },
    ...overrides,
  });
  expect(importProblems(lead({ status: 'placed' }), where, NOW)).toEqual([
    expect.objectContaining({ field: 'status', message: expect.stringContaining('multifamily') }),
  ]);
  expect(importProblems(lead({ createdAt: ahead(1) }), where, NOW)).toEqual([
    { field: 'created_at', message: 'is in the future' },
  ]);
  expect(importProblems(lead({ status: 'toured', stageDates: { contacted: ago(9) } }), where, NOW)).toEqual([
    { field: 'contacted_at', message: 'is before created_at' },
  ]);
  expect(importProblems(lead({ status: 'tour_scheduled' }), where, NOW)).toEqual([
    { field: 'tour_at', message: 'status tour_scheduled needs tour_at' },
  ]);
  expect(
    importProblems(lead({ status: 'qualified', facts: { hasEmail: false, hasPhone: false } }), where, NOW),
  ).toEqual([{ field: 'email or phone', message: 'status qualified needs email or phone' }]);
  expect(importProblems(lead({ status: 'application' }), where, NOW)).toEqual([]);
});
