// Workflow rules (seed 001 CreateWorkflowRequest / GetWorkflowsResponse): create, list per property,
// deactivate, delete. Journeys load the active rules when a run starts.
import { isUuid } from '../../../shared/ids';
import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { getProperty } from '../../../data/workspaces';
import { AppError } from '../../../shared/errors';
import { STATUSES } from '../../../shared/lifecycle';
import { isTimeWindow, RULE_ACTION_TYPES } from '../../../shared/journey/rules';
import { parse, route } from '../../common/http';
import { principal, requirePermission } from '../auth';

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

const UpdateWorkflowRuleBody = z.object({ is_active: z.boolean() }).strict();

interface RuleRow {
  id: string;
  property_id: string | null;
  trigger_status: string;
  target_status: string | null;
  conditions: Record<string, unknown>;
  actions: Record<string, unknown>[];
  is_active: boolean;
  created_at: Date;
}

const COLUMNS = 'id, property_id, trigger_status, target_status, conditions, actions, is_active, created_at';
const json = (row: RuleRow) => ({ ...row, created_at: row.created_at.toISOString() });

export function workflowRulesRouter(pool: pg.Pool): Router {
  const router = Router();
  router.post(
    '/workflow-rules',
    requirePermission('admin'),
    route(async (req, res) => {
      const body = parse(CreateWorkflowRuleBody, req.body);
      const { workspaceId } = principal(req);
      if (body.property_id && !(await getProperty(pool, workspaceId, body.property_id))) {
        throw new AppError('validation_failed', 'invalid body: property_id', {
          fields: [{ field: 'property_id', message: 'unknown property' }],
        });
      }
      const { rows } = await pool.query<RuleRow>(
        `INSERT INTO status_workflow_rules (workspace_id, property_id, trigger_status, target_status, conditions, actions,
                                           is_active)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
        [
          workspaceId,
          body.property_id,
          body.trigger_status,
          body.target_status ?? null,
          JSON.stringify(body.conditions),
          JSON.stringify(body.actions),
          body.is_active,
        ],
      );
      res.status(201).json(json(rows[0]!));
    }),
  );
  router.get(
    '/properties/:id/workflow-rules',
    requirePermission('read'),
    route(async (req, res) => {
      const { workspaceId } = principal(req);
      const propertyId = String(req.params.id);
      if (!(await getProperty(pool, workspaceId, propertyId))) {
        throw new AppError('not_found', `property ${propertyId} not found`);
      }
      const { rows } = await pool.query<RuleRow>(
        `SELECT ${COLUMNS} FROM status_workflow_rules
          WHERE workspace_id = $1 AND (property_id = $2 OR property_id IS NULL) ORDER BY created_at`,
        [workspaceId, propertyId],
      );
      res.json({
        workflows: rows.map((row) => ({
          id: row.id,
          property_id: row.property_id,
          trigger_status: row.trigger_status,
          target_status: row.target_status,
          conditions: row.conditions,
          actions: row.actions,
          is_active: row.is_active,
        })),
      });
    }),
  );
  router.patch(
    '/workflow-rules/:id',
    requirePermission('admin'),
    route(async (req, res) => {
      const body = parse(UpdateWorkflowRuleBody, req.body);
      const id = String(req.params.id);
      const { rows } = isUuid(id)
        ? await pool.query<RuleRow>(
            `UPDATE status_workflow_rules SET is_active = $3 WHERE workspace_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
            [principal(req).workspaceId, id, body.is_active],
          )
        : { rows: [] as RuleRow[] };
      if (!rows[0]) throw new AppError('not_found', `workflow rule ${id} not found`);
      res.json(json(rows[0]));
    }),
  );
  router.delete(
    '/workflow-rules/:id',
    requirePermission('admin'),
    route(async (req, res) => {
      const id = String(req.params.id);
      const result = isUuid(id)
        ? await pool.query('DELETE FROM status_workflow_rules WHERE workspace_id = $1 AND id = $2', [
            principal(req).workspaceId,
            id,
          ])
        : { rowCount: 0 };
      if (!result.rowCount) throw new AppError('not_found', `workflow rule ${id} not found`);
      res.status(204).end();
    }),
  );
  return router;
}
