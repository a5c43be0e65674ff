import {
  DEFAULT_PIPELINE,
  DEFAULT_TRANSITIONS,
  PARTNERS,
  PARTNER_VOCABULARIES,
  STATUSES,
  VERTICALS,
  WON_STATUS,
  allowedNext,
  canTransition,
  fromCanonical,
  isStatus,
  isTerminal,
  missingFields,
  partnerValues,
  skippedStages,
  statusAvailable,
  toCanonical,
  type LeadStatus,
  type Pipeline,
  type Vertical,
} from '../../shared/lifecycle';

// SPEC.md section 3, written out independently of shared/lifecycle.ts so a drift in either shows up here.
const SPEC_TRANSITIONS: Record<LeadStatus, LeadStatus[]> = {
  new: ['contacted', 'qualified', 'tour_scheduled', 'lost'],
  contacted: ['qualified', 'tour_scheduled', 'lost'],
  qualified: ['tour_scheduled', 'application', 'lost'],
  tour_scheduled: ['toured', 'qualified', 'application', 'leased', 'placed', 'lost'],
  toured: ['application', 'leased', 'placed', 'lost'],
  application: ['leased', 'placed', 'lost'],
  leased: [],
  placed: [],
  lost: [],
};
const OTHER_WON: Record<Vertical, LeadStatus> = { multifamily: 'placed', senior_living: 'leased' };

const noFacts = { hasEmail: false, hasPhone: false };

describe('statuses', () => {
  test('exactly leased, placed and lost are terminal', () => {
    expect(STATUSES.filter(isTerminal)).toEqual(['leased', 'placed', 'lost']);
  });

  test('isStatus accepts the canonical names only', () => {
    expect(STATUSES.every(isStatus)).toBe(true);
    expect(isStatus('Leased')).toBe(false);
    expect(isStatus('moved_in')).toBe(false);
    expect(isStatus(undefined)).toBe(false);
    expect(isStatus(3)).toBe(false);
  });

  test('the won status is leased for multifamily and placed for senior living', () => {
    expect(WON_STATUS).toEqual({ multifamily: 'leased', senior_living: 'placed' });
  });

  test.each(VERTICALS)('%s refuses the other vertical’s won status and nothing else', (vertical) => {
    const unavailable = STATUSES.filter((status) => !statusAvailable(status, vertical));
    expect(unavailable).toEqual([OTHER_WON[vertical]]);
  });

  test('a status outside a custom pipeline is not available', () => {
    const pipeline: Pipeline = { statuses: ['new', 'contacted', 'lost'], transitions: DEFAULT_TRANSITIONS };
    expect(statusAvailable('contacted', 'multifamily', pipeline)).toBe(true);
    expect(statusAvailable('qualified', 'multifamily', pipeline)).toBe(false);
  });
});

describe('transitions', () => {
  test('the default table is the one SPEC.md section 3 states', () => {
    expect(DEFAULT_TRANSITIONS).toEqual(SPEC_TRANSITIONS);
    expect(DEFAULT_PIPELINE.statuses).toEqual(STATUSES);
  });

  test.each(VERTICALS)(
    'canTransition over every pair for %s follows the spec table minus the other won',
    (vertical) => {
      const actual = STATUSES.map((from) => STATUSES.filter((to) => canTransition(from, to, vertical)));
      const expected = STATUSES.map((from) =>
        STATUSES.filter((to) => SPEC_TRANSITIONS[from].includes(to) && to !== OTHER_WON[vertical]),
      );
      expect(actual).toEqual(expected);
    },
  );

  test('allowedNext from tour_scheduled offers leased to multifamily and placed to senior living', () => {
    expect(allowedNext('tour_scheduled', 'multifamily')).toEqual([
      'toured',
      'qualified',
      'application',
      'leased',
      'lost',
    ]);
    expect(allowedNext('tour_scheduled', 'senior_living')).toEqual([
      'toured',
      'qualified',
      'application',
      'placed',
      'lost',
    ]);
  });

  test('allowedNext keeps table order for every vertical and is empty from terminal statuses', () => {
    expect(allowedNext('application', 'senior_living')).toEqual(['placed', 'lost']);
    expect(allowedNext('application', 'multifamily')).toEqual(['leased', 'lost']);
    expect(allowedNext('new', 'multifamily')).toEqual(['contacted', 'qualified', 'tour_scheduled', 'lost']);
    for (const vertical of VERTICALS) {
      expect(allowedNext('leased', vertical)).toEqual([]);
      expect(allowedNext('placed', vertical)).toEqual([]);
      expect(allowedNext('lost', vertical)).toEqual([]);
    }
  });

  test('a custom pipeline only offers its own statuses and transitions', () => {
    const pipeline: Pipeline = {
      statuses: ['new', 'contacted', 'application', 'leased', 'lost'],
      transitions: {
        ...DEFAULT_TRANSITIONS,
        new: ['contacted', 'qualified', 'lost'],
        contacted: ['application'],
      },
    };
    expect(allowedNext('new', 'multifamily', pipeline)).toEqual(['contacted', 'lost']);
    expect(canTransition('new', 'qualified', 'multifamily', pipeline)).toBe(false);
    expect(canTransition('contacted', 'application', 'multifamily', pipeline)).toBe(true);
    expect(canTransition('contacted', 'lost', 'multifamily', pipeline)).toBe(false);
  });
});

describe('skippedStages', () => {
  test('names every main-line stage a jump from new to leased passes over', () => {
    expect(skippedStages('new', 'leased')).toEqual([
      'contacted',
      'qualified',
      'tour_scheduled',
      'toured',
      'application',
    ]);
  });

  test('names the stages strictly between two main-line stages', () => {
    expect(skippedStages('contacted', 'toured')).toEqual(['qualified', 'tour_scheduled']);
    expect(skippedStages('qualified', 'placed')).toEqual(['tour_scheduled', 'toured', 'application']);
  });

  test('is empty for adjacent, backward and lost moves', () => {
    expect(skippedStages('new', 'contacted')).toEqual([]);
    expect(skippedStages('toured', 'qualified')).toEqual([]);
    expect(skippedStages('new', 'lost')).toEqual([]);
  });

  test('leaves out stages a custom pipeline does not use', () => {
    const pipeline: Pipeline = {
      statuses: ['new', 'qualified', 'tour_scheduled', 'leased', 'lost'],
      transitions: DEFAULT_TRANSITIONS,
    };
    expect(skippedStages('new', 'leased', pipeline)).toEqual(['qualified', 'tour_scheduled']);
  });
});

describe('missingFields', () => {
  test('qualified needs an email or a phone', () => {
    expect(missingFields('qualified', noFacts)).toEqual(['email|phone']);
    expect(missingFields('qualified', { hasEmail: true, hasPhone: false })).toEqual([]);
    expect(missingFields('qualified', { hasEmail: false, hasPhone: true })).toEqual([]);
  });

  test('tour_scheduled needs a tour time', () => {
    expect(missingFields('tour_scheduled', { hasEmail: true, hasPhone: true })).toEqual(['tour_at']);
    expect(missingFields('tour_scheduled', { ...noFacts, tourAt: '2025-03-02T15:00:00Z' })).toEqual([]);
    expect(missingFields('tour_scheduled', { ...noFacts, tourAt: '' })).toEqual(['tour_at']);
  });

  test('every other status needs nothing', () => {
    const others = STATUSES.filter((status) => status !== 'qualified' && status !== 'tour_scheduled');
    expect(others.filter((status) => missingFields(status, noFacts).length > 0)).toEqual([]);
  });
});

describe('partner vocabularies', () => {
  const vocabularyPartners = PARTNERS.filter((partner) => PARTNER_VOCABULARIES[partner] !== undefined);
  const canonicalPartners = PARTNERS.filter((partner) => PARTNER_VOCABULARIES[partner] === undefined);

  test('every vocabulary value maps to a canonical status', () => {
    for (const partner of vocabularyPartners) {
      for (const status of Object.values(PARTNER_VOCABULARIES[partner] ?? {}))
        expect(isStatus(status)).toBe(true);
    }
  });

  describe.each(VERTICALS)('for %s', (vertical) => {
    test.each(PARTNERS)('%s: every status we send it reads back as the same status', (partner) => {
      const roundTripped = STATUSES.filter((status) => statusAvailable(status, vertical)).flatMap(
        (status) => {
          const value = fromCanonical(partner, status);
          return value === undefined ? [] : [[status, toCanonical(partner, value, vertical)]];
        },
      );
      expect(roundTripped.length).toBeGreaterThan(0);
      for (const [status, back] of roundTripped) expect(back).toBe(status);
    });

    test.each(vocabularyPartners)(
      '%s: every value it sends reads as the status we would send it back',
      (partner) => {
        for (const value of partnerValues(partner)) {
          const status = toCanonical(partner, value, vertical);
          expect(status).toBeDefined();
          expect(statusAvailable(status!, vertical)).toBe(true);
          const outbound = fromCanonical(partner, status!);
          expect(toCanonical(partner, outbound!, vertical)).toBe(status);
        }
      },
    );
  });

  test.each([
    ['apfm', 'move_in'],
    ['caring', 'moved_in'],
    ['salesforce', 'Closed - Converted'],
    ['gohighlevel', 'won'],
    ['resman', 'leased'],
    ['chatbot', 'leased'],
  ] as const)('%s’s won word %s means the vertical’s own won status', (partner, value) => {
    expect(toCanonical(partner, value, 'senior_living')).toBe('placed');
    expect(toCanonical(partner, value, 'multifamily')).toBe('leased');
    expect(fromCanonical(partner, 'placed')).toBe(value);
    expect(fromCanonical(partner, 'leased')).toBe(value);
  });

  test('hubspot has no won word: neither won status is pushed to it', () => {
    expect(fromCanonical('hubspot', 'leased')).toBeUndefined();
    expect(fromCanonical('hubspot', 'placed')).toBeUndefined();
  });

  test('the first value listed for a status is the one we send', () => {
    expect(fromCanonical('chatbot', 'contacted')).toBe('engaged');
    expect(fromCanonical('chatbot', 'tour_scheduled')).toBe('tour_booked');
    expect(fromCanonical('hubspot', 'contacted')).toBe('ATTEMPTED_TO_CONTACT');
    expect(fromCanonical('hubspot', 'lost')).toBe('UNQUALIFIED');
    expect(fromCanonical('gohighlevel', 'lost')).toBe('lost');
    expect(fromCanonical('apfm', 'application')).toBe('deposit');
    expect(fromCanonical('resman', 'application')).toBe('application');
  });

  test('inbound aliases map onto the canonical statuses', () => {
    expect(toCanonical('chatbot', 'follow_up_needed', 'multifamily')).toBe('contacted');
    expect(toCanonical('chatbot', 'tour_booked', 'multifamily')).toBe('tour_scheduled');
    expect(toCanonical('resman', 'prospect', 'multifamily')).toBe('contacted');
    expect(toCanonical('resman', 'applicant', 'multifamily')).toBe('application');
    expect(toCanonical('resman', 'current_resident', 'multifamily')).toBe('leased');
    expect(toCanonical('apfm', 'pre_tour', 'senior_living')).toBe('tour_scheduled');
    expect(toCanonical('hubspot', 'BAD_TIMING', 'multifamily')).toBe('lost');
    expect(toCanonical('gohighlevel', 'abandoned', 'multifamily')).toBe('lost');
  });

  test('a partner with no word for a status gets nothing pushed for it', () => {
    expect(fromCanonical('hubspot', 'tour_scheduled')).toBeUndefined();
    expect(fromCanonical('salesforce', 'qualified')).toBeUndefined();
    expect(fromCanonical('gohighlevel', 'new')).toBeUndefined();
  });

  test('unknown partner values are undefined, never defaulted', () => {
    expect(toCanonical('apfm', 'moved_in', 'senior_living')).toBeUndefined();
    expect(toCanonical('hubspot', 'new', 'multifamily')).toBeUndefined();
    expect(toCanonical('salesforce', 'closed - converted', 'multifamily')).toBeUndefined();
    expect(toCanonical('resman', 'toString', 'multifamily')).toBeUndefined();
    expect(toCanonical('resman', '__proto__', 'multifamily')).toBeUndefined();
    expect(toCanonical('calendly', 'booked', 'multifamily')).toBeUndefined();
    expect(toCanonical('chatbot', '', 'multifamily')).toBeUndefined();
  });

  test.each(canonicalPartners)('%s speaks the canonical statuses both ways', (partner) => {
    expect(partnerValues(partner)).toEqual([...STATUSES]);
    for (const status of STATUSES) {
      expect(fromCanonical(partner, status)).toBe(status);
      expect(toCanonical(partner, status)).toBe(status);
    }
  });

  test('partnerValues lists a vocabulary partner’s own words', () => {
    expect(partnerValues('apfm')).toEqual([
      'inquiry',
      'contacted',
      'pre_tour',
      'post_tour',
      'deposit',
      'move_in',
      'lost',
      'qualified',
    ]);
  });
});
