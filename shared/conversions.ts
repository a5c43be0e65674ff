// Conversion tracking vocabulary (seed 004): conversion types, a contact's conversion status, and the
// workspace activity actions. Data only: the API, the database checks and the docs read these lists.

/** What a logged conversion was. `sale`, `appointment` and `qualified` come from seed 004; the rest are ours. */
export const CONVERSION_TYPES = [
  'sale',
  'appointment',
  'qualified',
  'tour',
  'application',
  'deposit',
  'lease',
  'move_in',
  'referral',
  'other',
] as const;
export type ConversionType = (typeof CONVERSION_TYPES)[number];

/** A contact's (lead's) conversion status; logging a conversion sets `converted`. */
export const CONVERSION_STATUSES = ['pending', 'qualified', 'converted', 'lost'] as const;
export type ConversionStatus = (typeof CONVERSION_STATUSES)[number];

/** Seed 004 workspace_tracking actions we record (a lead received is read from the leads table). */
export const WORKSPACE_ACTIONS = ['received', 'sent', 'converted', 'updated'] as const;
export type WorkspaceAction = (typeof WORKSPACE_ACTIONS)[number];
