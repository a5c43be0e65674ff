// POST /api/v1/admin/whatif: the request as the wire carries it (snake_case, SPEC section 7) and its mapping to
// the what-if use case. The CLI (`npm run whatif`) takes the same candidate and filter, checked by these schemas.
import { z } from 'zod';
import { PARTNERS, STATUSES } from '../../../shared/lifecycle';
import type { FollowUpPolicy } from '../../../shared/journey/types';
import { WHATIF_MAX_LEADS, type WhatIfQuery } from '../../../usecases/whatif';
import { CreatePreferenceBody } from './notifications';
import { CreateWorkflowRuleBody } from './workflowRules';

const isoDate = z.iso.datetime({ offset: true }).or(z.iso.date());
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
