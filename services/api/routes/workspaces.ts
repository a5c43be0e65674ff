// /api/v1/workspaces (admin token) and /api/v1/properties.
import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { workspaceActivity } from '../../../data/analytics';
import {
  createProperty,
  createWorkspace,
  getProperty,
  getWorkspace,
  listProperties,
  PERMISSIONS,
  updateWorkspace,
  type WorkspaceRecord,
} from '../../../data/workspaces';
import { resolveRange } from '../../../shared/dateRange';
import { AppError } from '../../../shared/errors';
import { VERTICALS } from '../../../shared/lifecycle';
import { parse, route } from '../../common/http';
import { principal, requireAdminToken, requirePermission } from '../auth';
import { isoDate } from '../schemas';

const timezone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'not an IANA time zone, e.g. America/Chicago');

const slug = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only');

export const CreateWorkspaceBody = z
  .object({
    workspace_id: slug.optional(),
    workspace_name: z.string().min(1).max(200),
    // The first key of a workspace is its owner's: everything unless asked for less.
    permissions: z.array(z.enum(PERMISSIONS)).min(1).default(['read', 'update', 'convert', 'admin']),
    timezone: timezone.default('America/New_York'),
    // Requests per hour for this workspace's API keys (SPEC default 1000).
    rate_limit_per_hour: z.number().int().min(1).max(10_000_000).optional(),
  })
  .strict();

/** Operator settings (admin token). */
export const UpdateWorkspaceBody = z
  .object({
    workspace_name: z.string().min(1).max(200).optional(),
    timezone: timezone.optional(),
    rate_limit_per_hour: z.number().int().min(1).max(10_000_000).optional(),
  })
  .strict();

export const WorkspaceActivityQuery = z.object({
  from_date: isoDate.optional(),
  to_date: isoDate.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(20),
});

export const CreatePropertyBody = z
  .object({
    property_id: slug.optional(),
    name: z.string().min(1).max(200),
    timezone,
    vertical: z.enum(VERTICALS),
    us_state: z
      .string()
      .regex(/^[A-Z]{2}$/, 'a two-letter US state code')
      .optional(),
  })
  .strict();

function propertyJson(p: Awaited<ReturnType<typeof createProperty>>) {
  return { ...p, created_at: p.created_at.toISOString(), updated_at: p.updated_at.toISOString() };
}

export function workspacesRouter(pool: pg.Pool, adminToken: string | undefined): Router {
  const router = Router();
  router.post(
    '/',
    requireAdminToken(adminToken),
    route(async (req, res) => {
      const body = parse(CreateWorkspaceBody, req.body);
      const { workspaceId, apiKey } = await createWorkspace(pool, {
        workspaceId: body.workspace_id,
        name: body.workspace_name,
        permissions: [...new Set(body.permissions)],
        timezone: body.timezone,
        rateLimitPerHour: body.rate_limit_per_hour,
      });
      res.status(201).json({ workspace_id: workspaceId, api_key: apiKey });
    }),
  );
  router.patch(
    '/:id',
    requireAdminToken(adminToken),
    route(async (req, res) => {
      const body = parse(UpdateWorkspaceBody, req.body);
      const workspace = await updateWorkspace(pool, String(req.params.id), {
        name: body.workspace_name,
        timezone: body.timezone,
        rateLimitPerHour: body.rate_limit_per_hour,
      });
      if (!workspace) throw new AppError('not_found', `workspace ${req.params.id} not found`);
      res.json(workspaceJson(workspace));
    }),
  );
  return router;
}

function workspaceJson(w: WorkspaceRecord) {
  return { ...w, created_at: w.created_at.toISOString() };
}

/** The caller's own workspace under /api/v1/workspaces/:id (API key); any other id is not found. */
export function workspaceRouter(pool: pg.Pool): Router {
  const router = Router();
  const own = (req: Parameters<typeof principal>[0]): string => {
    const { workspaceId } = principal(req);
    if (String(req.params.id) !== workspaceId) {
      throw new AppError('not_found', `workspace ${req.params.id} not found`);
    }
    return workspaceId;
  };
  router.get(
    '/:id',
    requirePermission('read'),
    route(async (req, res) => {
      const workspace = await getWorkspace(pool, own(req));
      if (!workspace) throw new AppError('not_found', `workspace ${req.params.id} not found`);
      res.json(workspaceJson(workspace));
    }),
  );
  router.get(
    '/:id/activity',
    requirePermission('read'),
    route(async (req, res) => {
      const query = parse(WorkspaceActivityQuery, req.query, 'query');
      const workspaceId = own(req);
      const zone = (await getWorkspace(pool, workspaceId))?.timezone ?? 'UTC';
      const range = resolveRange({ from: query.from_date, to: query.to_date, zone });
      res.json({
        ...(await workspaceActivity(pool, workspaceId, range, query.limit)),
        from_date: range.from,
        to_date: range.to,
      });
    }),
  );
  return router;
}

export function propertiesRouter(pool: pg.Pool): Router {
  const router = Router();
  router.post(
    '/',
    requirePermission('admin'),
    route(async (req, res) => {
      const body = parse(CreatePropertyBody, req.body);
      const property = await createProperty(pool, {
        workspaceId: principal(req).workspaceId,
        propertyId: body.property_id,
        name: body.name,
        timezone: body.timezone,
        vertical: body.vertical,
        usState: body.us_state,
      });
      res.status(201).json(propertyJson(property));
    }),
  );
  router.get(
    '/',
    requirePermission('read'),
    route(async (req, res) => {
      const properties = await listProperties(pool, principal(req).workspaceId);
      res.json({ properties: properties.map(propertyJson) });
    }),
  );
  router.get(
    '/:id',
    requirePermission('read'),
    route(async (req, res) => {
      const property = await getProperty(pool, principal(req).workspaceId, String(req.params.id));
      if (!property) throw new AppError('not_found', `property ${req.params.id} not found`);
      res.json(propertyJson(property));
    }),
  );
  return router;
}
