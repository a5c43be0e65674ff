// The lead lifecycle as data: statuses, transitions, required fields, terminal states and every
// partner's vocabulary. Validation, partner mapping, the API and docs/lifecycle.md all read this table.

export const STATUSES = [
  'new',
  'contacted',
  'qualified',
  'tour_scheduled',
  'toured',
  'application',
  'leased',
  'placed',
  'lost',
] as const;
export type LeadStatus = (typeof STATUSES)[number];

export const VERTICALS = ['senior_living', 'multifamily'] as const;
export type Vertical = (typeof VERTICALS)[number];

export const TERMINAL_STATUSES: readonly LeadStatus[] = ['leased', 'placed', 'lost'];

/** The won status of each vertical; the other vertical's won status is refused. */
export const WON_STATUS: Record<Vertical, LeadStatus> = { multifamily: 'leased', senior_living: 'placed' };

/** Position along the funnel: a partner report with a higher rank is a forward move. `lost` is off the line. */
export const STAGE_RANK: Record<LeadStatus, number> = {
  new: 0,
  contacted: 1,
  qualified: 2,
  tour_scheduled: 3,
  toured: 4,
  application: 5,
  leased: 6,
  placed: 6,
  lost: 7,
};

/** The funnel's main line, used to name the stages a forward jump skips. */
const MAIN_LINE: readonly LeadStatus[] = [
  'new',
  'contacted',
  'qualified',
  'tour_scheduled',
  'toured',
  'application',
];

export type Transitions = Record<LeadStatus, readonly LeadStatus[]>;

export const DEFAULT_TRANSITIONS: Transitions = {
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

/** A workspace's own pipeline: the statuses it uses and its transitions. Statuses outside it are refused. */
export interface Pipeline {
  statuses: readonly LeadStatus[];
  transitions: Transitions;
}

export const DEFAULT_PIPELINE: Pipeline = { statuses: STATUSES, transitions: DEFAULT_TRANSITIONS };

export function isStatus(value: unknown): value is LeadStatus {
  return typeof value === 'string' && (STATUSES as readonly string[]).includes(value);
}

export function isTerminal(status: LeadStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Whether a status is usable at all for a property of this vertical in this pipeline. */
export function statusAvailable(
  status: LeadStatus,
  vertical: Vertical,
  pipeline: Pipeline = DEFAULT_PIPELINE,
): boolean {
  if (!pipeline.statuses.includes(status)) return false;
  const otherWon = vertical === 'multifamily' ? 'placed' : 'leased';
  return status !== otherWon;
}

/** The statuses a lead may move to next, in table order. */
export function allowedNext(
  from: LeadStatus,
  vertical: Vertical,
  pipeline: Pipeline = DEFAULT_PIPELINE,
): LeadStatus[] {
  return (pipeline.transitions[from] ?? []).filter((to) => statusAvailable(to, vertical, pipeline));
}

export function canTransition(
  from: LeadStatus,
  to: LeadStatus,
  vertical: Vertical,
  pipeline: Pipeline = DEFAULT_PIPELINE,
): boolean {
  return allowedNext(from, vertical, pipeline).includes(to);
}

/** The main-line stages strictly between `from` and `to` that a forward jump passes over. */
export function skippedStages(
  from: LeadStatus,
  to: LeadStatus,
  pipeline: Pipeline = DEFAULT_PIPELINE,
): LeadStatus[] {
  if (to === 'lost') return [];
  return MAIN_LINE.filter(
    (s) =>
      STAGE_RANK[s] > STAGE_RANK[from] && STAGE_RANK[s] < STAGE_RANK[to] && pipeline.statuses.includes(s),
  );
}

/** Facts about a lead that required-field rules look at. */
export interface LeadFacts {
  hasEmail: boolean;
  hasPhone: boolean;
  tourAt?: string;
}

/** Each requirement: the field names reported when missing, and the test. `anyOf` needs one of them. */
interface Requirement {
  fields: string[];
  anyOf: boolean;
  met: (facts: LeadFacts) => boolean;
}

export const REQUIRED_FIELDS: Partial<Record<LeadStatus, Requirement[]>> = {
  qualified: [{ fields: ['email', 'phone'], anyOf: true, met: (f) => f.hasEmail || f.hasPhone }],
  tour_scheduled: [{ fields: ['tour_at'], anyOf: false, met: (f) => Boolean(f.tourAt) }],
};

/** Names of the fields a status needs that the lead lacks (`email|phone` when either will do). */
export function missingFields(status: LeadStatus, facts: LeadFacts): string[] {
  return (REQUIRED_FIELDS[status] ?? [])
    .filter((requirement) => !requirement.met(facts))
    .map((requirement) => requirement.fields.join(requirement.anyOf ? '|' : ','));
}

/** Staff-facing priority of a status change (seed 001), used by notifications. */
export const STATUS_PRIORITY: Record<LeadStatus, 'low' | 'medium' | 'high' | 'urgent'> = {
  new: 'medium',
  contacted: 'medium',
  qualified: 'high',
  tour_scheduled: 'high',
  toured: 'high',
  application: 'urgent',
  leased: 'high',
  placed: 'high',
  lost: 'low',
};

export const PARTNERS = [
  'apfm',
  'caring',
  'resman',
  'hubspot',
  'salesforce',
  'gohighlevel',
  'calendly',
  'callrail',
  'twilio',
  'webform',
  'chatbot',
  'facebook',
  'google_calendar',
  'meta_capi',
  'ga4',
] as const;
export type PartnerName = (typeof PARTNERS)[number];

/**
 * Partner vocabularies: partner value → canonical status. The first value listed for a canonical status is
 * what we send that partner (outbound); the others are accepted inbound. A partner value not listed is
 * refused (422), never defaulted.
 */
export const PARTNER_VOCABULARIES: Partial<Record<PartnerName, Record<string, LeadStatus>>> = {
  // Seed 001's chatbot vocabulary.
  chatbot: {
    initial_contact: 'new',
    engaged: 'contacted',
    follow_up_needed: 'contacted',
    qualified: 'qualified',
    tour_booked: 'tour_scheduled',
    toured: 'toured',
    application_started: 'application',
    leased: 'leased',
    lost: 'lost',
  },
  // Seed 001's ResMan webhook speaks canonical names; the MITS customer types map onto them too.
  resman: {
    new: 'new',
    contacted: 'contacted',
    qualified: 'qualified',
    tour_scheduled: 'tour_scheduled',
    toured: 'toured',
    application: 'application',
    leased: 'leased',
    lost: 'lost',
    prospect: 'contacted',
    applicant: 'application',
    current_resident: 'leased',
    resident: 'leased',
  },
  // Senior-living referral stages: Inquiry → Pre-Tour → Post-Tour → Deposit → Move-In.
  apfm: {
    inquiry: 'new',
    contacted: 'contacted',
    pre_tour: 'tour_scheduled',
    post_tour: 'toured',
    deposit: 'application',
    move_in: 'placed',
    lost: 'lost',
    qualified: 'qualified',
  },
  caring: {
    new: 'new',
    contacted: 'contacted',
    qualified: 'qualified',
    tour_scheduled: 'tour_scheduled',
    toured: 'toured',
    deposit: 'application',
    moved_in: 'placed',
    lost: 'lost',
  },
  hubspot: {
    NEW: 'new',
    ATTEMPTED_TO_CONTACT: 'contacted',
    CONNECTED: 'contacted',
    OPEN: 'contacted',
    IN_PROGRESS: 'qualified',
    OPEN_DEAL: 'application',
    UNQUALIFIED: 'lost',
    BAD_TIMING: 'lost',
  },
  salesforce: {
    'Open - Not Contacted': 'new',
    'Working - Contacted': 'contacted',
    'Closed - Converted': 'leased',
    'Closed - Not Converted': 'lost',
  },
  gohighlevel: {
    open: 'contacted',
    won: 'leased',
    lost: 'lost',
    abandoned: 'lost',
  },
};

const isWon = (status: LeadStatus) => status === 'leased' || status === 'placed';

/**
 * A partner value in canonical terms, or undefined when the partner's vocabulary lacks it. A partner's
 * "won" word (Closed - Converted, won, move_in) means the property's own won status.
 */
export function toCanonical(
  partner: PartnerName,
  value: string,
  vertical?: Vertical,
): LeadStatus | undefined {
  const vocabulary = PARTNER_VOCABULARIES[partner];
  const status = vocabulary
    ? Object.prototype.hasOwnProperty.call(vocabulary, value)
      ? vocabulary[value]
      : undefined
    : isStatus(value)
      ? value
      : undefined;
  return status && vertical && isWon(status) ? WON_STATUS[vertical] : status;
}

/** What we send a partner for a canonical status, or undefined when it has no word for it. */
export function fromCanonical(partner: PartnerName, status: LeadStatus): string | undefined {
  const vocabulary = PARTNER_VOCABULARIES[partner];
  if (!vocabulary) return status;
  const entries = Object.entries(vocabulary);
  const exact = entries.find(([, canonical]) => canonical === status)?.[0];
  if (exact !== undefined || !isWon(status)) return exact;
  return entries.find(([, canonical]) => isWon(canonical))?.[0];
}

/** The values a partner may send, for error messages and docs. */
export function partnerValues(partner: PartnerName): string[] {
  const vocabulary = PARTNER_VOCABULARIES[partner];
  return vocabulary ? Object.keys(vocabulary) : [...STATUSES];
}
