// POST /api/v1/admin/whatif: what a candidate change would have done to real leads. The request as the wire
// carries it (snake_case, SPEC section 7), its mapping to the what-if use case, and the route. The CLI
// (`npm run whatif`) takes the same candidate and filter, checked by these schemas.
import type pg from 'pg';
import { z } from 'zod';
import { PARTNERS, STATUSES } from '../../../shared/lifecycle';
import type { FollowUpPolicy } from '../../../shared/journey/types';
import type { PlanChannels } from '../../../shared/notifications/recipients';
import { runWhatIf, WHATIF_MAX_LEADS, type WhatIfQuery } from '../../../usecases/whatif';
import { endpoint } from '../../common/endpoints';
import { isoDate, time } from '../schemas';
import { CreatePreferenceBody } from './notifications';
import { CreateWorkflowRuleBody } from './workflowRules';

const positive = (max: number) => z.number().positive().max(max);

/** A workspace's follow-up timings as the wire names them; each one given replaces the workspace's. */
export const FollowUpPolicyBody = z
  .object({
    speed_to_lead_minutes: positive(10_080).optional(),
    tour_reminder_hours: z.array(positive(720)).max(5).optional(),
    post_tour_hours: positive(720).optional(),
    no_show_hours: positive(720).optional(),
    stale_days: positive(365).optional(),
    auto_lost_days: positive(365).optional(),
    referral_response_minutes: z.partialRecord(z.enum(PARTNERS), positive(10_080)).optional(),
  })
  .strict();

export const WhatIfBody = z
  .object({
    lead_ids: z
      .array(z.uuid())
      .min(1)
      .max(WHATIF_MAX_LEADS, `at most ${WHATIF_MAX_LEADS} leads per request; use filter and cursor for more`)
      .optional(),
    filter: z
      .object({
        // The admin token may narrow to one workspace; a workspace key sees only its own.
        workspace_id: z.string().min(1).max(64).optional(),
        property_id: z.string().min(1).max(64).optional(),
        status: z.array(z.enum(STATUSES)).min(1).optional(),
        source: z.string().min(1).max(100).optional(),
      })
      .strict()
      .optional(),
    // Leads active in the window (created, or with a recorded event in it); the replay ends at to_date.
    from_date: isoDate.optional(),
    to_date: isoDate.optional(),
    candidate: z
      .object({
        workflow_rule: CreateWorkflowRuleBody.optional(),
        notification_preference: CreatePreferenceBody.optional(),
        follow_up_policy: FollowUpPolicyBody.optional(),
        // This build's reducer against what was recorded.
        reducer: z.literal('current').optional(),
      })
      .strict()
      .refine((candidate) => Object.values(candidate).some((part) => part !== undefined), {
        message: 'name a workflow_rule, notification_preference, follow_up_policy or reducer to try',
      }),
    limit: z
      .number()
      .int()
      .min(1)
      .max(WHATIF_MAX_LEADS, `at most ${WHATIF_MAX_LEADS} leads per request; page with cursor`)
      .optional(),
    cursor: z.string().max(500).optional(),
  })
  .strict()
  .meta({ id: 'WhatIfRequest' });

export type WhatIfBodyInput = z.input<typeof WhatIfBody>;

const FOLLOW_UP_FIELDS: Record<keyof z.output<typeof FollowUpPolicyBody>, keyof FollowUpPolicy> = {
  speed_to_lead_minutes: 'speedToLeadMinutes',
  tour_reminder_hours: 'tourReminderHours',
  post_tour_hours: 'postTourHours',
  no_show_hours: 'noShowHours',
  stale_days: 'staleDays',
  auto_lost_days: 'autoLostDays',
  referral_response_minutes: 'referralResponseMinutes',
};

/** The use case's query from a parsed body; `workspaceId` is the caller's (undefined: the admin token). */
export function whatIfQuery(body: z.output<typeof WhatIfBody>, workspaceId: string | undefined): WhatIfQuery {
  const {
    workflow_rule: rule,
    notification_preference: preference,
    follow_up_policy: policy,
  } = body.candidate;
  return {
    workspaceId,
    ...(body.lead_ids ? { leadIds: body.lead_ids } : {}),
    ...(body.filter
      ? {
          filter: {
            workspaceId: body.filter.workspace_id,
            propertyId: body.filter.property_id,
            statuses: body.filter.status,
            source: body.filter.source,
          },
        }
      : {}),
    fromDate: body.from_date,
    toDate: body.to_date,
    candidate: {
      ...(rule
        ? {
            rule: {
              property_id: rule.property_id,
              trigger_status: rule.trigger_status,
              target_status: rule.target_status ?? null,
              conditions: rule.conditions,
              actions: rule.actions,
              is_active: rule.is_active,
            },
          }
        : {}),
      ...(preference ? { preference: { ...preference, template_id: preference.template_id ?? null } } : {}),
      ...(policy
        ? {
            followUps: Object.fromEntries(
              Object.entries(policy)
                .filter(([, value]) => value !== undefined)
                .map(([field, value]) => [FOLLOW_UP_FIELDS[field as keyof typeof FOLLOW_UP_FIELDS], value]),
            ),
          }
        : {}),
      ...(body.candidate.reducer ? { reducer: true } : {}),
    },
    limit: body.limit,
    cursor: body.cursor,
  };
}

const items = z.array(z.object({}).loose());
const change = z.object({ added: items, removed: items });
const statusPair = z.object({ baseline: z.string(), candidate: z.string() });

const WhatIfReport = z
  .object({
    as_of: time.meta({ description: "the replay ends here: the window's end, or now" }),
    window: z.object({ from: time, to: time }).nullable(),
    candidate: z.array(z.enum(['workflow_rule', 'notification_preference', 'follow_up_policy', 'reducer'])),
    leads: z.array(
      z.object({
        lead_id: z.uuid(),
        workspace_id: z.string(),
        property_id: z.string().nullable(),
        changed: z.boolean(),
        final_status: statusPair,
        inputs: z.object({ events: z.number().int(), complete: z.boolean(), gaps: z.array(z.string()) }),
        baseline_matches_recorded: z.boolean().nullable().meta({
          description: "today's reducer and policy reproduce the record (null: the record is the baseline)",
        }),
        recorded_mismatches: z.object({}).loose().optional(),
        differences: z.object({
          final_status: statusPair.optional(),
          statuses: z.object({ baseline: z.array(z.string()), candidate: z.array(z.string()) }).optional(),
          follow_ups: change.extend({ moved: items }).optional(),
          notifications: change.optional(),
          pushes: change.optional(),
          tasks: change.optional(),
          fees: change.extend({ changed: items }).optional(),
        }),
      }),
    ),
    totals: z.object({ leads: z.number().int(), leads_changed: z.number().int() }).loose(),
    next_cursor: z.string().nullable(),
  })
  .meta({ id: 'WhatIfReport' });

/** `channels`: the notification channels the worker has, so deliveries are planned as it would plan them. */
export function whatIfEndpoints(deps: { pool: pg.Pool; whatIfChannels?: PlanChannels }) {
  const channels = deps.whatIfChannels ?? { configured: new Set() };
  return [
    endpoint({
      method: 'post',
      path: '/api/v1/admin/whatif',
      tag: 'admin',
      summary: 'What a candidate rule, preference, follow-up policy or reducer would have done to real leads',
      description:
        "The leads (`lead_ids`, or a `filter` and a date range) are replayed from their recorded events with today's policy and with the candidate; the answer lists per lead and in total what would differ: final status, follow-ups, notifications and recipients, partner pushes, staff tasks, referral fees. Nothing is sent or written. At most 1000 leads per request; page with `next_cursor`. Same as `npm run whatif`.",
      auth: 'admin_token_or_key',
      permission: 'admin',
      body: WhatIfBody,
      responses: {
        200: { description: 'the differences', schema: WhatIfReport },
        403: { description: '`forbidden`: a workspace key named another workspace' },
        404: { description: "`not_found`: a lead of `lead_ids` is not in the caller's workspace" },
      },
      // The admin token sees every workspace (or the one its filter names); a workspace key, its own.
      handler: ({ body, req }) =>
        runWhatIf({ pool: deps.pool, channels }, whatIfQuery(body, req.principal?.workspaceId)),
    }),
  ];
}
