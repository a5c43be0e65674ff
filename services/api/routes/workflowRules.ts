// Workflow rules (seed 001 CreateWorkflowRequest / GetWorkflowsResponse): create, list per property,
// deactivate, delete. Journeys load the active rules when a run starts.
import type pg from 'pg';
import { z } from 'zod';
import { deleteRule, setRuleActive, type RuleRecord } from '../../../data/workflowRules';
import { isTimeWindow, RULE_ACTION_TYPES } from '../../../shared/journey/rules';
import { STATUSES } from '../../../shared/lifecycle';
import { addRule, propertyRules } from '../../../usecases/workflowRules';
import { endpoint } from '../../common/endpoints';
import { principal } from '../auth';
import { byId, json, status, time } from '../schemas';

export const CreateWorkflowRuleBody = z
  .object({
    // null: every property of the workspace.
    property_id: z.string().min(1).max(64).nullable(),
    trigger_status: z.enum(STATUSES),
    target_status: z.enum(STATUSES).nullable().optional(),
    conditions: z
      .object({
        conversation_duration: z.number().min(0).optional(),
        message_count: z.number().int().min(0).optional(),
        lead_score: z.number().optional(),
        time_of_day: z.string().refine(isTimeWindow, 'a local time window HH:MM-HH:MM').optional(),
        source: z.string().min(1).max(100).optional(),
      })
      .strict()
      .default({}),
    actions: z
      .array(
        z
          .object({ type: z.enum(RULE_ACTION_TYPES), config: z.record(z.string(), z.unknown()).default({}) })
          .strict(),
      )
      .min(1)
      .max(20),
    is_active: z.boolean().default(true),
  })
  .strict();

const ruleFields = {
  id: z.uuid(),
  property_id: z.string().nullable(),
  trigger_status: status,
  target_status: status.nullable(),
  conditions: json,
  actions: z.array(json),
  is_active: z.boolean(),
};
const WorkflowRule = z
  .object({ ...ruleFields, created_at: time })
  .loose()
  .meta({ id: 'WorkflowRule' });

const ruleJson = (row: RuleRecord) => ({ ...row, created_at: row.created_at.toISOString() });

export function workflowRuleEndpoints(pool: pg.Pool) {
  return [
    endpoint({
      method: 'post',
      path: '/api/v1/workflow-rules',
      tag: 'workflow rules',
      summary: 'Create a workflow rule (seed 001 CreateWorkflowRequest)',
      description:
        'Trigger status and conditions → actions; journeys load the active rules when a run starts.',
      permission: 'admin',
      body: CreateWorkflowRuleBody,
      responses: { 201: { description: 'created', schema: WorkflowRule } },
      async handler({ body, req }) {
        const rule = await addRule(pool, principal(req).workspaceId, {
          propertyId: body.property_id,
          triggerStatus: body.trigger_status,
          targetStatus: body.target_status,
          conditions: body.conditions,
          actions: body.actions,
          isActive: body.is_active,
        });
        return ruleJson(rule);
      },
    }),
    endpoint({
      method: 'get',
      path: '/api/v1/properties/:id/workflow-rules',
      tag: 'workflow rules',
      summary: 'A property’s workflow rules (seed 001 GetWorkflowsResponse)',
      permission: 'read',
      responses: {
        200: { description: 'rules', schema: z.object({ workflows: z.array(z.object(ruleFields).loose()) }) },
      },
      async handler({ params, req }) {
        const rules = await propertyRules(pool, principal(req).workspaceId, params.id);
        // Seed 001 GetWorkflowsResponse: the rules without created_at.
        return { workflows: rules.map(({ created_at: _created, ...rule }) => rule) };
      },
    }),
    endpoint({
      method: 'patch',
      path: '/api/v1/workflow-rules/:id',
      tag: 'workflow rules',
      summary: 'Activate or deactivate a workflow rule',
      permission: 'admin',
      body: z.object({ is_active: z.boolean() }).strict(),
      responses: { 200: { description: 'updated', schema: WorkflowRule } },
      async handler({ params, body, req }) {
        const rule = await byId(params.id, 'workflow rule', (id) =>
          setRuleActive(pool, principal(req).workspaceId, id, body.is_active),
        );
        return ruleJson(rule);
      },
    }),
    endpoint({
      method: 'delete',
      path: '/api/v1/workflow-rules/:id',
      tag: 'workflow rules',
      summary: 'Delete a workflow rule',
      permission: 'admin',
      responses: { 204: { description: 'deleted' } },
      async handler({ params, req }) {
        await byId(params.id, 'workflow rule', (id) => deleteRule(pool, principal(req).workspaceId, id));
      },
    }),
  ];
}
