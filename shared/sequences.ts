// Nurture sequence definitions as the API takes them and Postgres keeps them: a trigger, steps (a wait, then an
// email or SMS template) and exit rules; message templates of a workspace; and the one duration syntax waits use.
import { z } from 'zod';
import { STATUSES } from './lifecycle';
import { DEFAULT_EXIT_RULES, SEQUENCE_CHANNELS, type SequenceExitRules } from './journey/sequences';

/** The longest wait of a step (a year): longer is surely a typo. */
export const MAX_WAIT_MINUTES = 366 * 24 * 60;
export const MAX_STEPS = 20;

const UNIT_MINUTES: Record<string, number> = { w: 7 * 1440, d: 1440, h: 60, m: 1 };

/**
 * Minutes in a wait written as ISO 8601 (`P2D`, `PT4H30M`, `P1W`) or shorthand (`2d`, `4h 30m`, `90m`, `0`);
 * undefined when it is neither.
 */
export function waitMinutes(text: string): number | undefined {
  const value = text.trim();
  if (value === '0') return 0;
  const iso = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?$/i.exec(value);
  if (iso && value.length > 1 && !/T$/i.test(value)) {
    const [, w, d, h, m] = iso;
    return Number(w ?? 0) * UNIT_MINUTES.w! + Number(d ?? 0) * 1440 + Number(h ?? 0) * 60 + Number(m ?? 0);
  }
  const parts = [...value.toLowerCase().matchAll(/(\d+)\s*([wdhm])/g)];
  const rest = value
    .toLowerCase()
    .replace(/(\d+)\s*([wdhm])/g, '')
    .trim();
  if (parts.length === 0 || rest !== '') return undefined;
  return parts.reduce((sum, [, n, unit]) => sum + Number(n) * UNIT_MINUTES[unit!]!, 0);
}

const templateId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, _ and - (at most 64)');

const Wait = z
  .string()
  .max(40)
  .transform((text, ctx) => {
    const minutes = waitMinutes(text);
    if (minutes === undefined) {
      ctx.addIssue({ code: 'custom', message: 'a wait like "2d", "4h 30m", "PT90M" or "0"' });
      return z.NEVER;
    }
    if (minutes > MAX_WAIT_MINUTES) {
      ctx.addIssue({ code: 'custom', message: 'at most a year' });
      return z.NEVER;
    }
    return { text: text.trim(), minutes };
  });

export const SequenceStepSchema = z.object({
  wait: Wait,
  channel: z.enum(SEQUENCE_CHANNELS),
  template_id: templateId,
});

const status = z.enum(STATUSES);
const labels = z.array(z.string().trim().min(1).max(200)).max(50);

export const SequenceTriggerSchema = z.discriminatedUnion('event', [
  z.object({ event: z.literal('inquiry'), sources: labels.optional() }).strict(),
  z.object({ event: z.literal('no_show') }).strict(),
  z.object({ event: z.literal('status'), status, reasons: labels.optional() }).strict(),
]);

export const SequenceExitSchema = z
  .object({
    statuses: z.union([z.literal('any'), z.array(status).min(1)]).optional(),
    reply: z.boolean().optional(),
    call: z.boolean().optional(),
    // An unsubscribe or STOP always ends an enrolment; it cannot be turned off.
    unsubscribe: z.literal(true).optional(),
  })
  .strict();

export const SequenceBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    property_id: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,64}$/)
      .nullable()
      .optional(),
    trigger: SequenceTriggerSchema,
    steps: z.array(SequenceStepSchema).min(1).max(MAX_STEPS),
    exit_on: SequenceExitSchema.optional(),
    is_active: z.boolean().optional(),
  })
  .strict();

export type SequenceInput = z.output<typeof SequenceBody>;

/** A step as stored: the wait as written and in minutes. */
export interface StoredStep {
  wait: string;
  wait_minutes: number;
  channel: (typeof SEQUENCE_CHANNELS)[number];
  template_id: string;
}

export function storedSteps(steps: SequenceInput['steps']): StoredStep[] {
  return steps.map((s) => ({
    wait: s.wait.text,
    wait_minutes: s.wait.minutes,
    channel: s.channel,
    template_id: s.template_id,
  }));
}

export function exitRules(input: z.output<typeof SequenceExitSchema> | undefined): SequenceExitRules {
  return {
    statuses: input?.statuses ?? DEFAULT_EXIT_RULES.statuses,
    reply: input?.reply ?? DEFAULT_EXIT_RULES.reply,
    call: input?.call ?? DEFAULT_EXIT_RULES.call,
  };
}

export const MessageTemplateBody = z
  .object({
    id: templateId.optional(),
    name: z.string().trim().min(1).max(200),
    channel: z.enum(SEQUENCE_CHANNELS).nullable().optional(),
    subject: z.string().max(300).optional(),
    body: z.string().trim().min(1).max(10_000),
  })
  .strict()
  .refine((t) => t.channel !== 'email' || (t.subject ?? '').trim().length > 0, {
    message: 'an email template needs a subject',
    path: ['subject'],
  });
